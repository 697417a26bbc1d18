import CUV
import Glibc

/// Starts a child with `uv_spawn` the way every ward run starts: its own
/// session and process group, stdin on /dev/null, stdout and stderr on two
/// fresh pipes, exactly the given environment, and nothing else inherited.
enum ChildLauncher {
    /// What a successful launch hands to `ChildProcess`.
    struct Launched {
        /// The process handle, spawned; its owner must set `data`.
        var process: UnsafeMutablePointer<uv_process_t>
        /// The child's pid, which is also its process group and session id.
        var pid: pid_t
        /// Our read end of the child's stdout.
        var stdout: PipeReader
        /// Our read end of the child's stderr.
        var stderr: PipeReader
    }

    /// Spawns `spec` on `loop`. Nothing is left open when it throws.
    static func launch(loop: EventLoop, spec: ChildSpec) throws(SpawnError) -> Launched {
        try validate(spec)
        try checkWorkingDirectory(spec.workingDirectory)
        try checkFormat(spec.executable)

        let out = try pipeOrThrow(spec)
        let err: (read: Int32, write: Int32)
        do {
            err = try pipeOrThrow(spec)
        } catch {
            close(out.read)
            close(out.write)
            throw error
        }
        // A PipeReader that fails to open closes its own descriptor.
        let stdoutReader: PipeReader
        do {
            stdoutReader = try PipeReader(loop: loop, fd: out.read)
        } catch {
            close(out.write)
            close(err.read)
            close(err.write)
            throw .failed(executable: spec.executable, error)
        }
        let stderrReader: PipeReader
        do {
            stderrReader = try PipeReader(loop: loop, fd: err.read)
        } catch {
            stdoutReader.close()
            close(out.write)
            close(err.write)
            throw .failed(executable: spec.executable, error)
        }

        let process = UnsafeMutablePointer<uv_process_t>.allocate(capacity: 1)
        let rc = spawn(
            loop: loop, process: process, spec: spec, stdout: out.write, stderr: err.write)

        // The child has its copies now; ours must go, or end of file would
        // never come while ward itself holds a write end.
        close(out.write)
        close(err.write)

        if rc < 0 {
            stdoutReader.close()
            stderrReader.close()
            // uv_spawn put the handle on the loop before failing, so it goes
            // through a close callback like any other; nothing owns it.
            process.pointee.data = nil
            uv_close(
                UnsafeMutableRawPointer(process).assumingMemoryBound(to: uv_handle_t.self),
                Trampolines.freeHandle)
            throw SpawnError.spawnFailed(executable: spec.executable, code: rc)
        }
        return Launched(
            process: process, pid: process.pointee.pid, stdout: stdoutReader, stderr: stderrReader)
    }

    /// Calls uv_spawn with C copies of the spec that live across the call
    /// (libuv forks and execs inside it).
    private static func spawn(
        loop: EventLoop, process: UnsafeMutablePointer<uv_process_t>, spec: ChildSpec,
        stdout: Int32, stderr: Int32
    ) -> Int32 {
        var argv = CStringArray(spec.argv)
        // Never nil: a nil env makes libuv pass ward's own environment on.
        var env = CStringArray(spec.environment)
        defer {
            argv.free()
            env.free()
        }

        var stdio = [uv_stdio_container_t](repeating: uv_stdio_container_t(), count: 3)
        // UV_IGNORE on 0-2 makes libuv open /dev/null there in the child.
        stdio[0].flags = UV_IGNORE
        stdio[1].flags = UV_INHERIT_FD
        stdio[1].data.fd = stdout
        stdio[2].flags = UV_INHERIT_FD
        stdio[2].data.fd = stderr

        var options = uv_process_options_t()
        options.exit_cb = Trampolines.processExited
        // Detached means setsid() in the child: it leads a new session and a
        // new process group whose ids equal its pid, so one kill(-pid) reaches
        // every job it starts, and a terminal's signals never reach it.
        options.flags = UInt32(UV_PROCESS_DETACHED.rawValue)
        return spec.executable.withCString { file in
            spec.workingDirectory.withCString { cwd in
                argv.pointers.withUnsafeMutableBufferPointer { args in
                    env.pointers.withUnsafeMutableBufferPointer { envp in
                        stdio.withUnsafeMutableBufferPointer { containers in
                            options.file = file
                            options.cwd = cwd
                            options.args = args.baseAddress
                            options.env = envp.baseAddress
                            options.stdio_count = Int32(containers.count)
                            options.stdio = containers.baseAddress
                            return uv_spawn(loop.raw, process, &options)
                        }
                    }
                }
            }
        }
    }

    /// A close-on-exec pipe: only the child's dup2 onto 1 or 2 survives exec,
    /// so no other child ever inherits either end.
    private static func pipeOrThrow(_ spec: ChildSpec) throws(SpawnError) -> (
        read: Int32, write: Int32
    ) {
        var fds: [uv_file] = [-1, -1]
        // uv_pipe makes both ends close-on-exec (pipe2 with O_CLOEXEC), and
        // blocking: PipeReader switches the read end to non-blocking itself.
        let rc = fds.withUnsafeMutableBufferPointer { uv_pipe($0.baseAddress, 0, 0) }
        if rc < 0 {
            throw .failed(executable: spec.executable, UVError(rc, call: "uv_pipe"))
        }
        return (fds[0], fds[1])
    }

    /// Refuses specs the C side cannot represent or that would run something
    /// other than what was named. Reasons name positions, never values.
    private static func validate(_ spec: ChildSpec) throws(SpawnError) {
        func invalid(_ reason: String) -> SpawnError {
            .invalidSpec(executable: spec.executable, reason: reason)
        }
        if !spec.executable.hasPrefix("/") { throw invalid("the executable path is not absolute") }
        if spec.executable.utf8.contains(0) { throw invalid("the executable path contains NUL") }
        if spec.argv.isEmpty { throw invalid("argv is empty (argv[0] is required)") }
        for (index, arg) in spec.argv.enumerated() where arg.utf8.contains(0) {
            throw invalid("argv[\(index)] contains a NUL byte")
        }
        for (index, entry) in spec.environment.enumerated() {
            let bytes = Array(entry.utf8)
            guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")), equals > 0 else {
                throw invalid("environment entry \(index) is not NAME=value")
            }
            if bytes.contains(0) {
                let name = String(decoding: bytes[..<equals], as: UTF8.self)
                throw invalid("environment variable \(name) contains a NUL byte")
            }
        }
        if !spec.workingDirectory.hasPrefix("/") || spec.workingDirectory.utf8.contains(0) {
            throw invalid("the working directory is not an absolute path")
        }
    }

    /// The child reports a failed chdir with the same errno values as a
    /// failed exec, so the directory is checked first to say which it was.
    private static func checkWorkingDirectory(_ path: String) throws(SpawnError) {
        var info = stat()
        if stat(path, &info) != 0 {
            throw .badWorkingDirectory(path: path, UVError(errno: errno, call: "stat"))
        }
        if info.st_mode & S_IFMT != S_IFDIR {
            throw .badWorkingDirectory(path: path, UVError(errno: ENOTDIR, call: "stat"))
        }
        if access(path, X_OK) != 0 {
            throw .badWorkingDirectory(path: path, UVError(errno: errno, call: "access"))
        }
    }

    /// glibc's execvp runs a file the kernel refuses (ENOEXEC) through
    /// /bin/sh instead of failing, so a data file with the execute bit would
    /// be run as a shell script. Only ELF binaries and `#!` scripts are let
    /// through. A file ward cannot read (execute-only) is left to the kernel.
    /// Known gap: formats registered through binfmt_misc (Java jars, Wine
    /// binaries) are refused too; running them needs their launcher named as
    /// the executable.
    private static func checkFormat(_ path: String) throws(SpawnError) {
        // Missing, not executable or unreadable: uv_spawn says which.
        if access(path, X_OK) != 0 { return }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { return }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 || info.st_mode & S_IFMT != S_IFREG { return }
        var magic = [UInt8](repeating: 0, count: 4)
        let n = magic.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4) }
        let isELF = n == 4 && magic == [0x7F, 0x45, 0x4C, 0x46]
        let isScript = n >= 2 && magic[0] == UInt8(ascii: "#") && magic[1] == UInt8(ascii: "!")
        if !isELF && !isScript {
            throw .notExecutable(executable: path)
        }
    }
}

/// NUL-terminated C copies of Swift strings, ending in a nil entry, as
/// execve wants argv and envp. Freed explicitly once libuv has forked.
struct CStringArray {
    /// strdup'ed strings followed by nil.
    var pointers: [UnsafeMutablePointer<CChar>?]

    /// Copies `strings`.
    init(_ strings: [String]) {
        pointers = strings.map { strdup($0) } + [nil]
    }

    /// Frees the copies.
    mutating func free() {
        for pointer in pointers { Glibc.free(pointer) }
        pointers = []
    }
}
