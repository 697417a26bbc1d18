import Glibc
import Testing

@testable import Runner

/// A spawn that cannot happen is a thrown, clear `SpawnError`, and it leaves
/// nothing open on the loop.
@Suite struct ChildSpawnErrorTests {
    /// A fresh directory under /tmp holding the fixture files below.
    static func makeFiles() -> String {
        var template = Array("/tmp/ward-spawn-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer {
            String(cString: mkdtemp($0.baseAddress!)!)
        }
        func write(_ name: String, _ text: String, mode: mode_t) {
            let fd = open("\(dir)/\(name)", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
            _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
            close(fd)
            chmod("\(dir)/\(name)", mode)
        }
        write("no-exec-bit", "#!/bin/sh\necho hi\n", mode: 0o644)
        write("data", "just some text\n", mode: 0o755)
        write("bad-interpreter", "#!/nonexistent/interpreter\n", mode: 0o755)
        write("plain-file", "", mode: 0o644)
        return dir
    }

    /// Removes what `makeFiles` made.
    static func removeFiles(_ dir: String) {
        for name in ["no-exec-bit", "data", "bad-interpreter", "plain-file"] {
            unlink("\(dir)/\(name)")
        }
        rmdir(dir)
    }

    /// Spawns and returns the error, checking the loop is left clean.
    static func spawnError(
        _ executable: String, argv: [String]? = nil, environment: [String] = [],
        workingDirectory: String = "/"
    ) throws -> SpawnError? {
        let loop = try EventLoop()
        defer {
            #expect(loop.liveHandleCount == 0)
            #expect(throws: Never.self) { try loop.close() }
        }
        let spec = ChildSpec(
            executable: executable, argv: argv ?? [executable], environment: environment,
            workingDirectory: workingDirectory)
        do {
            _ = try ChildProcess(loop: loop, spec: spec, handlers: ChildHandlers())
            Issue.record("spawned \(executable)")
            return nil
        } catch {
            return error
        }
    }

    @Test func missingExecutableNamesItInWords() throws {
        let error = try Self.spawnError("/usr/bin/nodetool")
        #expect(error == .notFound(executable: "/usr/bin/nodetool"))
        #expect(error?.description == "executable not found: /usr/bin/nodetool")
    }

    @Test(arguments: [
        ("no-exec-bit", "executable not permitted (permission denied): "),
        ("data", "not an executable program (exec format error): "),
        ("bad-interpreter", "interpreter named in the #! line not found: "),
    ])
    func unrunnableFileIsRefusedWithItsCause(name: String, message: String) throws {
        let dir = Self.makeFiles()
        defer { Self.removeFiles(dir) }
        let error = try Self.spawnError("\(dir)/\(name)")
        #expect(error?.description == message + "\(dir)/\(name)")
    }

    @Test func directoryAsExecutableIsPermissionDenied() throws {
        let error = try Self.spawnError("/tmp")
        #expect(error?.description == "executable not permitted (permission denied): /tmp")
    }

    @Test func unusableWorkingDirectoryIsNamed() throws {
        let dir = Self.makeFiles()
        defer { Self.removeFiles(dir) }
        let missing = try Self.spawnError("/bin/true", workingDirectory: "/nonexistent/dir")
        #expect(
            missing?.description
                == "working directory unusable (no such file or directory): /nonexistent/dir")
        let file = try Self.spawnError("/bin/true", workingDirectory: "\(dir)/plain-file")
        #expect(
            file?.description == "working directory unusable (not a directory): \(dir)/plain-file")
    }

    @Test(arguments: [
        (["bin/sh"], [String](), "the executable path is not absolute"),
        (["/bin/sh", "a\u{0}b"], [], "argv[1] contains a NUL byte"),
        (["/bin/sh"], ["NOEQUALS"], "environment entry 0 is not NAME=value"),
        (["/bin/sh"], ["TOKEN=s3cr\u{0}et"], "environment variable TOKEN contains a NUL byte"),
    ])
    func malformedSpecIsRefusedWithoutQuotingValues(
        argv: [String], environment: [String], reason: String
    ) throws {
        let error = try Self.spawnError(argv[0], argv: argv, environment: environment)
        #expect(error == .invalidSpec(executable: argv[0], reason: reason))
        #expect(error?.description.contains("s3cr") == false)
    }

    @Test func emptyArgvIsRefused() throws {
        let error = try Self.spawnError("/bin/true", argv: [])
        #expect(
            error
                == .invalidSpec(
                    executable: "/bin/true", reason: "argv is empty (argv[0] is required)"))
    }
}
