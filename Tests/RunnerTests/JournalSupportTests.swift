import Glibc
import Testing

@testable import Runner

/// Helpers shared by the Journal suites: temp directories, byte-exact file
/// access, fixtures and plain pthreads (no Foundation in tests).
nonisolated enum JournalTestSupport {
    /// A fresh directory under /tmp, removed with its contents by `remove`.
    static func makeTempDirectory() -> String {
        var template = Array("/tmp/ward-journal-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Deletes `path` and everything under it.
    static func remove(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            if let names = try? JournalPaths.list(path) {
                for name in names { remove(path + "/" + name) }
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// The bytes of `path`, or nil when it cannot be opened.
    static func read(_ path: String) -> [UInt8]? {
        guard let file = try? JournalFile.open(path, writable: false, create: false),
            let size = try? file.status().size
        else { return nil }
        return try? file.read(at: 0, count: Int(size))
    }

    /// Replaces `path` with exactly `bytes`.
    static func write(_ path: String, _ bytes: [UInt8]) {
        let fd = cuvOpen(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot open \(path)")
        defer { close(fd) }
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        precondition(n == bytes.count, "short write to \(path)")
    }

    private static func cuvOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
        open(path, flags, mode)
    }

    /// Permission bits of `path`.
    static func mode(_ path: String) -> mode_t {
        var st = stat()
        precondition(stat(path, &st) == 0, "cannot stat \(path)")
        return st.st_mode & 0o7777
    }

    /// The bytes of a file under Tests/RunnerTests/Fixtures/journal.
    static func fixture(_ name: String, file: String = #filePath) -> [UInt8] {
        let directory = JournalPaths.directory(of: file) + "/Fixtures/journal/"
        guard let bytes = read(directory + name) else {
            preconditionFailure("missing fixture \(directory + name)")
        }
        return bytes
    }

    /// `bytes` split at `\n`, without the terminators; a trailing empty piece
    /// (after the final newline) is dropped.
    static func lines(_ bytes: [UInt8]) -> [[UInt8]] {
        var out = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { Array($0) }
        if out.last?.isEmpty == true { out.removeLast() }
        return out
    }

    /// A file that a test expected to exist was missing.
    struct MissingFile: Error {
        /// Its path.
        var path: String
    }

    /// The lines of the file at `path`; throws when it cannot be read.
    static func lines(ofFile path: String) throws -> [[UInt8]] {
        guard let bytes = read(path) else { throw MissingFile(path: path) }
        return lines(bytes)
    }

    /// Joins lines back with a newline after each.
    static func join(_ lines: [[UInt8]]) -> [UInt8] {
        lines.flatMap { $0 + [0x0A] }
    }

    /// The seq of a stored line.
    static func seq(_ line: [UInt8]) -> Int64? {
        (try? JSONReader.parse(line))?["seq"]?.intValue
    }

    /// Runs every body on its own pthread at once and waits for all of them.
    static func runOnThreads(_ bodies: [@Sendable () -> Void]) {
        final class Box {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        var threads: [pthread_t] = []
        for body in bodies {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(Box(body)).toOpaque()
            let rc = pthread_create(
                &thread, nil,
                { raw in
                    let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                    box.body()
                    return nil
                }, context)
            precondition(rc == 0, "pthread_create failed")
            threads.append(thread)
        }
        for thread in threads { pthread_join(thread, nil) }
    }
}
