import Glibc
import Testing

@testable import Runner

/// Paths of the checked-in fixtures and helpers to load them.
enum PackFixtures {
    /// This test folder, found from the source file's own path.
    static let testsFolder = FileSystem.parent(#filePath)

    /// The repository's root.
    static let repoRoot = FileSystem.parent(FileSystem.parent(testsFolder))

    /// `Tests/RunnerTests/Fixtures/packs`.
    static let packs = testsFolder + "/Fixtures/packs"

    /// `Tests/RunnerTests/Fixtures/config`.
    static let config = testsFolder + "/Fixtures/config"

    /// Loads fixture pack folders by name and returns the registry and every
    /// diagnostic printed with the fixture root removed, e.g.
    /// `names/pack.yaml:1:7: error: ...`.
    static func load(
        _ names: [String], ceilings: [OptionName: Int64] = [:], allowWritable: Bool = false
    ) -> (registry: Registry?, lines: [String]) {
        let loader = PackLoader(ceilings: ceilings, allowWritable: allowWritable)
        let (registry, diagnostics) = loader.load(directories: names.map { packs + "/" + $0 })
        return (registry, diagnostics.map { strip($0.description, packs + "/") })
    }

    /// `text` with every occurrence of `prefix` removed.
    static func strip(_ text: String, _ prefix: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let range = rest.firstRange(of: prefix) {
            out += rest[..<range.lowerBound]
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}

/// A fresh folder under /tmp, removed with everything in it when released.
final class TemporaryFolder {
    /// Its absolute path.
    nonisolated let path: String

    init() {
        var template = Array("/tmp/ward-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(cString: made!)
    }

    deinit { Self.remove(path) }

    /// Writes `bytes` to `relative`, creating folders on the way, with `mode`.
    @discardableResult
    func write(_ relative: String, _ bytes: [UInt8], mode: mode_t = 0o644) -> String {
        let full = path + "/" + relative
        makeFolders(FileSystem.parent(full))
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot create \(full)")
        bytes.withUnsafeBytes { raw in
            precondition(Glibc.write(fd, raw.baseAddress, raw.count) == raw.count)
        }
        close(fd)
        chmod(full, mode)
        return full
    }

    /// Writes `text` as UTF-8.
    @discardableResult
    func write(_ relative: String, _ text: String, mode: mode_t = 0o644) -> String {
        write(relative, Array(text.utf8), mode: mode)
    }

    /// Creates `relative` (and its parents) as folders.
    @discardableResult
    func folder(_ relative: String, mode: mode_t = 0o755) -> String {
        let full = path + "/" + relative
        makeFolders(full)
        chmod(full, mode)
        return full
    }

    private func makeFolders(_ full: String) {
        guard full.count > path.count, FileSystem.kind(full) == .missing else { return }
        makeFolders(FileSystem.parent(full))
        mkdir(full, 0o755)
    }

    private nonisolated static func remove(_ path: String) {
        if FileSystem.kind(path) == .directory {
            chmod(path, 0o755)
            for name in FileSystem.list(path) ?? [] { remove(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}

@Suite struct PackFixtureTests {
    @Test func fixtureFoldersAreFoundFromTheSourcePath() {
        #expect(FileSystem.kind(PackFixtures.packs + "/names/pack.yaml") == .regular)
        #expect(FileSystem.kind(PackFixtures.repoRoot + "/Package.swift") == .regular)
    }
}
