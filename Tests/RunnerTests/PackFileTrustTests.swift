import Glibc
import Testing

@testable import Runner

private let minimalPack = """
    pack: p
    version: "1"
    description: d
    actions:
      p.run:
        description: d
        script: {interpreter: ["/bin/sh"], file: scripts/run.sh}

    """

/// A pack in a fresh temporary folder, with every file root-owned and 0644.
private func makePack() -> TemporaryFolder {
    let temp = TemporaryFolder()
    temp.write("p/pack.yaml", minimalPack)
    temp.write("p/scripts/run.sh", "echo run\n", mode: 0o755)
    return temp
}

private func load(_ path: String, allowWritable: Bool = false) -> (Registry?, [Diagnostic]) {
    PackLoader(ceilings: [:], allowWritable: allowWritable).load(directories: [path])
}

@Suite(.serialized) struct FileTrustTests {
    @Test(
        arguments: [
            (FileStatus(owner: 0, mode: 0o644, isDirectory: false), 0, false, nil),
            (FileStatus(owner: 0, mode: 0o755, isDirectory: true), 1000, true, nil),
            (
                FileStatus(owner: 0, mode: 0o664, isDirectory: false), 0, false,
                "is group-writable (mode 0664)"
            ),
            (
                FileStatus(owner: 0, mode: 0o646, isDirectory: false), 0, false,
                "is world-writable (mode 0646)"
            ),
            (FileStatus(owner: 0, mode: 0o1777, isDirectory: true), 0, true, nil),
            (
                FileStatus(owner: 0, mode: 0o1777, isDirectory: true), 0, false,
                "is world-writable (mode 01777)"
            ),
            (
                FileStatus(owner: 0, mode: 0o777, isDirectory: true), 0, true,
                "is world-writable (mode 0777)"
            ),
            (
                FileStatus(owner: 0, mode: 0o1775, isDirectory: false), 0, true,
                "is group-writable (mode 01775)"
            ),
            (
                FileStatus(owner: 1000, mode: 0o644, isDirectory: false), 1000, false,
                "is owned by uid 1000, the user ward runs as, so ward itself could be made to"
                    + " rewrite it"
            ),
            (
                FileStatus(owner: 1000, mode: 0o644, isDirectory: false), 0, false,
                "is owned by uid 1000, who could rewrite it; only root-owned files are trusted"
            ),
            (
                FileStatus(owner: 1000, mode: 0o1777, isDirectory: true), 0, true,
                "is owned by uid 1000, who could rewrite it; only root-owned files are trusted"
            ),
        ] as [(FileStatus, UInt32, Bool, String?)])
    func decidesFromOwnerAndMode(
        _ status: FileStatus, _ euid: UInt32, _ asParent: Bool, _ expected: String?
    ) {
        #expect(FileTrust.problem(status, euid: euid, asParent: asParent) == expected)
    }

    @Test func trustsRootOwnedPackUnderTmp() {
        let temp = makePack()
        let (registry, diagnostics) = load(temp.path + "/p")
        #expect(diagnostics.isEmpty)
        #expect(registry != nil)
    }

    @Test(arguments: [
        ("p/pack.yaml", mode_t(0o664), "pack file is group-writable (mode 0664)"),
        ("p/pack.yaml", 0o646, "pack file is world-writable (mode 0646)"),
        ("p/scripts/run.sh", 0o775, "pack file is group-writable (mode 0775)"),
        ("p/scripts", 0o777, "folder holding ward's files is world-writable (mode 0777)"),
        ("p", 0o775, "folder holding ward's files is group-writable (mode 0775)"),
    ])
    func refusesWritableFiles(_ relative: String, _ mode: mode_t, _ problem: String) {
        let temp = makePack()
        chmod(temp.path + "/" + relative, mode)
        let (registry, diagnostics) = load(temp.path + "/p")
        #expect(registry == nil)
        #expect(
            diagnostics.map(\.description) == [
                "\(temp.path)/\(relative): error: \(problem); refusing it (fix its owner"
                    + " or mode, or pass --allow-writable for a development clone)"
            ])
    }

    @Test func allowWritableTurnsFindingsIntoWarnings() {
        let temp = makePack()
        chmod(temp.path + "/p/pack.yaml", 0o666)
        let (registry, diagnostics) = load(temp.path + "/p", allowWritable: true)
        #expect(registry != nil)
        #expect(
            diagnostics.map(\.description) == [
                "\(temp.path)/p/pack.yaml: warning: pack file is world-writable (mode 0666);"
                    + " allowed by --allow-writable"
            ])
    }

    @Test func stickyWorldWritableParentIsFine() {
        let temp = TemporaryFolder()
        temp.folder("shared", mode: 0o1777)
        temp.write("shared/p/pack.yaml", minimalPack)
        temp.write("shared/p/scripts/run.sh", "echo run\n")
        let (registry, diagnostics) = load(temp.path + "/shared/p")
        #expect(diagnostics.isEmpty)
        #expect(registry != nil)
    }

    @Test func refusesFilesOwnedByAnotherUser() {
        let temp = makePack()
        chown(temp.path + "/p/scripts/run.sh", 1000, 1000)
        let (registry, diagnostics) = load(temp.path + "/p")
        #expect(registry == nil)
        #expect(
            diagnostics.map(\.message).first?.hasPrefix("pack file is owned by uid 1000, who")
                == true)
    }

    @Test func refusesFilesOwnedByTheEffectiveUser() {
        let temp = makePack()
        chown(temp.path + "/p/pack.yaml", 1000, 1000)
        var checker = FileTrustChecker(allowWritable: false, euid: 1000)
        var d = Diagnostics()
        checker.check(temp.path + "/p/pack.yaml", role: "pack file", into: &d)
        #expect(
            d.all.map(\.message) == [
                "pack file is owned by uid 1000, the user ward runs as, so ward itself could be"
                    + " made to rewrite it; refusing it (fix its owner or mode, or pass"
                    + " --allow-writable for a development clone)"
            ])
    }

    @Test func reportsASharedParentOnce() {
        let temp = TemporaryFolder()
        temp.write(
            "packs/a/pack.yaml",
            "pack: a\nversion: \"1\"\ndescription: d\n"
                + "actions: {a.x: {description: x, exec: [/bin/true]}}\n")
        temp.write(
            "packs/b/pack.yaml",
            "pack: b\nversion: \"1\"\ndescription: d\n"
                + "actions: {b.x: {description: x, exec: [/bin/true]}}\n")
        chmod(temp.path + "/packs", 0o777)
        let (_, diagnostics) = load(temp.path + "/packs")
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.path == temp.path + "/packs")
    }
}
