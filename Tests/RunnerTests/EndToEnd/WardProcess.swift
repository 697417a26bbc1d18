import Glibc

/// What one run of the `ward` binary produced.
nonisolated struct WardOutput: Sendable {
    /// The exit status (or 128 + signal).
    var status: Int32
    /// Everything written to stdout.
    var stdout: String
    /// Everything written to stderr.
    var stderr: String
    /// stdout split into lines (without the final empty piece).
    var lines: [String] {
        var parts = stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if parts.last == "" { parts.removeLast() }
        return parts
    }
}

/// Runs the built `ward` binary as a real child process, the way a user would.
nonisolated enum WardProcess {
    /// The repository root, found from this file's path.
    static let repoRoot: String = {
        var parts = String(#filePath).split(separator: "/").map(String.init)
        while let last = parts.last, last != "Tests" { parts.removeLast() }
        parts.removeLast()
        return "/" + parts.joined(separator: "/")
    }()

    /// The binary under test: `$WARD_BINARY`, else the debug build.
    static let binary: String = {
        if let p = getenv("WARD_BINARY") { return String(cString: p) }
        return repoRoot + "/.build/debug/ward"
    }()

    /// Runs `ward args...` with `environment` (a clean one by default) and waits;
    /// standard input is the file at `input`, else /dev/null.
    static func run(_ args: [String], environment: [String]? = nil, input: String? = nil)
        -> WardOutput
    {
        exec([binary] + args, environment: environment, input: input)
    }

    /// Runs any program with an argv array and collects both streams.
    static func exec(_ argv: [String], environment: [String]? = nil, input: String? = nil)
        -> WardOutput
    {
        let inputFD = input.map { open($0, O_RDONLY | O_CLOEXEC) }
        defer { if let inputFD, inputFD >= 0 { close(inputFD) } }
        let outPipe = TestSpawn.pipePair()
        let errPipe = TestSpawn.pipePair()
        let env =
            environment ?? [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "LANG=C.UTF-8",
            ]
        let spawned = TestSpawn.spawn(
            argv, environment: env, stdin: inputFD.map { .fd($0) } ?? .null,
            stdout: .fd(outPipe.write),
            stderr: .fd(errPipe.write))
        close(outPipe.write)
        close(errPipe.write)
        guard let pid = spawned else {
            close(outPipe.read)
            close(errPipe.read)
            return WardOutput(status: 127, stdout: "", stderr: "spawn failed: \(argv[0])")
        }
        let (out, err) = drain(outPipe.read, errPipe.read)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return WardOutput(
            status: code, stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: err, as: UTF8.self))
    }

    /// Reads both descriptors to EOF with poll, so neither pipe can fill and block.
    static func drain(_ a: Int32, _ b: Int32) -> ([UInt8], [UInt8]) {
        var bufs: [[UInt8]] = [[], []]
        var fds = [
            pollfd(fd: a, events: Int16(POLLIN), revents: 0),
            pollfd(fd: b, events: Int16(POLLIN), revents: 0),
        ]
        var open = 2
        var chunk = [UInt8](repeating: 0, count: 65536)
        while open > 0 {
            _ = poll(&fds, 2, -1)
            for i in 0..<2 where fds[i].fd >= 0 && fds[i].revents != 0 {
                let n = read(fds[i].fd, &chunk, chunk.count)
                if n > 0 {
                    bufs[i].append(contentsOf: chunk[0..<n])
                } else if n == 0 || errno != EINTR {
                    close(fds[i].fd)
                    fds[i].fd = -1
                    open -= 1
                }
            }
        }
        return (bufs[0], bufs[1])
    }
}

/// Starts test peers and the binary under test the same way: an argv array, an
/// explicit environment, chosen descriptors for 0-2, and a clean signal state.
nonisolated enum TestSpawn {
    /// What a child's standard descriptor is connected to.
    enum Stdio {
        /// `/dev/null`.
        case null
        /// This descriptor of the test process.
        case fd(Int32)
    }

    /// Spawns `argv` with `environment`; nil when posix_spawn fails.
    static func spawn(
        _ argv: [String], environment: [String], stdin: Stdio, stdout: Stdio, stderr: Stdio
    )
        -> pid_t?
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, stdio) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch stdio {
            case .null:
                posix_spawn_file_actions_addopen(
                    &actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            case .fd(let fd): posix_spawn_file_actions_adddup2(&actions, fd, target)
            }
        }
        // Test runner threads block and ignore signals; a child must start clean
        // (a shell waiting for its jobs with SIGCHLD blocked waits forever).
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var cArgv = argv.map { strdup($0) } + [nil]
        var cEnv = environment.map { strdup($0) } + [nil]
        defer {
            cArgv.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid: pid_t = 0
        return posix_spawn(&pid, argv[0], &actions, &attr, &cArgv, &cEnv) == 0 ? pid : nil
    }

    /// A pipe whose ends are close-on-exec in the test process.
    static func pipePair() -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0)
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }
}

/// A scratch folder removed at the end of the test.
nonisolated final class TempDir: Sendable {
    /// The folder's absolute path.
    let path: String

    init() {
        var template = Array("/tmp/ward-test.XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    deinit {
        _ = WardProcess.exec(["/bin/rm", "-rf", path])
    }

    /// Writes `text` to `name` under the folder (creating parent folders) with `mode`.
    @discardableResult
    func write(_ name: String, _ text: String, mode: mode_t = 0o644) -> String {
        let full = path + "/" + name
        let parent = String(full[..<full.lastIndex(of: "/")!])
        _ = WardProcess.exec(["/bin/mkdir", "-p", parent])
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        precondition(fd >= 0, "cannot write \(full)")
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        chmod(full, mode)
        return full
    }

    /// Reads a file under the folder, or nil when it does not exist.
    func read(_ name: String) -> String? {
        TempDir.readAbsolute(path + "/" + name)
    }
}
