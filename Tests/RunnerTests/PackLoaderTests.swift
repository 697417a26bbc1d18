import Glibc
import Testing

@testable import Runner

/// The lines of `Fixtures/packs/NAME.expected`: the diagnostics loading the fixture
/// pack NAME must print, in order, with the fixture root removed.
private func expectedLines(_ name: String) -> [String] {
    guard
        case .success(let bytes) = FileSystem.read(
            PackFixtures.packs + "/\(name).expected", limit: 1 << 20)
    else { return ["missing \(name).expected"] }
    return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
}

@Suite struct PackLoaderTests {
    /// One fixture per group of rules; each holds many mistakes, and every one must be
    /// reported with its exact message and position.
    @Test(arguments: [
        "names", "args", "options", "templates", "execution", "env", "unknown-keys", "redact",
        "manifest", "not-a-mapping", "actions-dir",
    ])
    func reportsEveryRuleViolationWithPosition(_ fixture: String) {
        let (registry, lines) = PackFixtures.load([fixture])
        #expect(registry == nil)
        #expect(lines == expectedLines(fixture))
    }

    @Test func loadsAFolderOfPacksInNameOrder() throws {
        let (registry, lines) = PackFixtures.load(["case20-cross-pack/alpha"])
        #expect(lines.isEmpty)
        #expect(try #require(registry).packs.map(\.name) == ["alpha"])
    }

    @Test func readsActionsFromActionFilesInNameOrder() throws {
        let temp = TemporaryFolder()
        temp.write("p/pack.yaml", "pack: p\nversion: \"1\"\ndescription: d\n")
        temp.write("p/actions/b.yaml", "actions:\n  p.b: {description: b, exec: [/bin/true]}\n")
        temp.write("p/actions/a.yaml", "actions:\n  p.a: {description: a, exec: [/bin/true]}\n")
        let (registry, diagnostics) = PackLoader(ceilings: [:], allowWritable: false)
            .load(directories: [temp.path + "/p"])
        #expect(diagnostics.isEmpty)
        #expect(try #require(registry).packs[0].actions.map(\.name) == ["p.a", "p.b"])
    }

    @Test func refusesMissingFolder() {
        let (registry, lines) = PackFixtures.load(["no-such-pack"])
        #expect(registry == nil)
        #expect(lines == ["no-such-pack: error: pack folder does not exist"])
    }

    @Test func refusesFolderWithoutPacks() {
        let temp = TemporaryFolder()
        temp.folder("empty/sub")
        let (registry, diagnostics) = PackLoader(ceilings: [:], allowWritable: false)
            .load(directories: [temp.path + "/empty"])
        #expect(registry == nil)
        #expect(
            diagnostics.map(\.message) == [
                "folder has no pack.yaml; skipped",
                "no pack.yaml here or in any immediate subfolder",
            ])
    }

    @Test func refusesSymbolicLinksInsideAPack() {
        let temp = TemporaryFolder()
        temp.write("p/pack.yaml", "pack: p\nversion: \"1\"\ndescription: d\nactions: {}\n")
        symlink("/etc/passwd", temp.path + "/p/link")
        let (registry, diagnostics) = PackLoader(ceilings: [:], allowWritable: false)
            .load(directories: [temp.path + "/p"])
        #expect(registry == nil)
        #expect(
            diagnostics.map(\.description).contains(
                "\(temp.path)/p/link: error: symbolic links are not allowed in a pack"
                    + " (they could point anywhere)"))
    }

    @Test func warnsAboutAPackWithoutActions() {
        let temp = TemporaryFolder()
        temp.write("p/pack.yaml", "pack: p\nversion: \"1\"\ndescription: d\n")
        let (registry, diagnostics) = PackLoader(ceilings: [:], allowWritable: false)
            .load(directories: [temp.path + "/p"])
        #expect(registry != nil)
        #expect(
            diagnostics.map(\.description) == [
                "\(temp.path)/p/pack.yaml:1:1: warning: pack \"p\" declares no actions"
            ])
    }

    @Test func refusesTwoPacksWithOneName() {
        let temp = TemporaryFolder()
        let text = "pack: same\nversion: \"1\"\ndescription: d\n"
        temp.write("a/pack.yaml", text + "actions: {a.x: {description: x, exec: [/bin/true]}}\n")
        temp.write("b/pack.yaml", text + "actions: {b.x: {description: x, exec: [/bin/true]}}\n")
        let (registry, diagnostics) = PackLoader(ceilings: [:], allowWritable: false)
            .load(directories: [temp.path])
        #expect(registry == nil)
        #expect(
            diagnostics.map(\.message) == ["pack \"same\" is already loaded from \(temp.path)/a"])
    }

    @Test func typesArgumentsFromTheSchema() throws {
        let (registry, lines) = PackFixtures.load(["case19-typing-valid"])
        #expect(lines.isEmpty)
        let action = try #require(registry?.action("region.set"))
        #expect(action.arg("region")?.defaultValue == .string("no"))
        #expect(action.arg("dryrun")?.defaultValue == .boolean(false))
        #expect(action.arg("tool_version")?.defaultValue == .string("3.10"))
        #expect(action.arg("mode")?.defaultValue == .string("0750"))
        #expect(action.arg("exponent")?.defaultValue == .string("1e3"))
        #expect(action.arg("count")?.defaultValue == .integer(0))
        if case .enumeration(let values)? = action.arg("region")?.type {
            #expect(values == ["se", "no", "dk", "fi", "on", "off", "yes"])
        } else {
            Issue.record("region is not an enum")
        }
        let pack = try #require(registry?.packs.first)
        #expect(pack.version == "3.10")
        #expect(pack.description == "no")
    }
}

@Suite struct PackDigestTests {
    @Test func hashesNamesLengthsAndBytesInPathOrder() {
        // sha256 of "a\u{0}2\u{0}bc" + "b\u{0}0\u{0}", computed with sha256sum.
        let digest = PackDigest.digest([("b", []), ("a", Array("bc".utf8))])
        #expect(digest == "a65d61ce8fafd18a112606cccd1483a72ddd07e0ff48e9dda98f959d1184cbc7")
    }

    @Test func changesWhenAnyFileChanges() {
        let one = PackDigest.digest([("pack.yaml", Array("a".utf8))])
        let other = PackDigest.digest([("pack.yaml", Array("b".utf8))])
        let renamed = PackDigest.digest([("pack.yml", Array("a".utf8))])
        #expect(Set([one, other, renamed]).count == 3)
    }
}
