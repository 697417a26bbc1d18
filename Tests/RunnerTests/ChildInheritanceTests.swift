import Glibc
import Testing

@testable import Runner

/// Case 24: a child gets /dev/null on stdin, only descriptors 0-2, default
/// signal dispositions and an empty mask, whatever ward holds.
@Suite struct ChildInheritanceTests {
    /// `ls -l /proc/self/fd` output as fd number -> link target.
    static func descriptors(_ listing: String) -> [Int: String] {
        var out: [Int: String] = [:]
        for line in listing.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard let arrow = words.firstIndex(of: "->"), arrow > 0,
                let fd = Int(words[arrow - 1])
            else { continue }
            out[fd] = words[(arrow + 1)...].joined(separator: " ")
        }
        return out
    }

    /// This process's SigIgn mask from /proc/self/status.
    static func ignoredSignals() -> UInt64 {
        let status = String(decoding: ProcessTable.readFile("/proc/self/status")!, as: UTF8.self)
        for line in status.split(separator: "\n") where line.hasPrefix("SigIgn:") {
            return UInt64(line.dropFirst(7).trimmingPrefix(while: \.isWhitespace), radix: 16) ?? 0
        }
        return 0
    }

    @Test func childSeesOnlyStdioAndItsOwnDirectory() throws {
        // Hold descriptors ward would hold: a close-on-exec file, and a second
        // running child's pipes.
        let held = open("/etc/hostname", O_RDONLY | O_CLOEXEC)
        defer { close(held) }
        let other = try ChildRun(["/bin/sleep", "30"])
        let spec = ChildSpec(
            executable: "/bin/ls", argv: ["/bin/ls", "-l", "/proc/self/fd"],
            environment: [], workingDirectory: "/")
        var listing: [UInt8] = []
        var finished = false
        let lister = try ChildProcess(
            loop: other.loop, spec: spec,
            handlers: ChildHandlers(
                onOutput: { stream, bytes in if stream == .stdout { listing += bytes } },
                onFinished: { _ in
                    finished = true
                    other.child.kill()
                }))
        other.run()
        #expect(finished)

        let fds = Self.descriptors(String(decoding: listing, as: UTF8.self))
        #expect(fds[0] == "/dev/null")
        #expect(fds[1]?.hasPrefix("pipe:[") == true)
        #expect(fds[2]?.hasPrefix("pipe:[") == true)
        #expect(fds[1] != fds[2])
        // Anything beyond 0-2 is the directory ls opened to list itself.
        let extra = fds.filter { $0.key > 2 }
        #expect(extra.count <= 1)
        #expect(extra.values.allSatisfy { $0.hasPrefix("/proc/") })
        other.finish(checking: [lister.pid])
    }

    @Test func descriptorInheritedWithoutCloseOnExecIsNotPassedOn() throws {
        // As if whoever started ward leaked a descriptor into it: apply()
        // marks it close-on-exec.
        let leaked = open("/etc/hostname", O_RDONLY)
        defer { close(leaked) }
        let run = try ChildRun(["/bin/ls", "-l", "/proc/self/fd"])
        run.run()
        let fds = Self.descriptors(run.stdoutText)
        #expect(!fds.values.contains("/etc/hostname"))
        run.finish()
    }

    @Test func childHasDefaultSignalStateWhileWardIgnoresSIGPIPE() throws {
        try ProcessSetup.apply()
        #expect(Self.ignoredSignals() & (1 << (UInt64(SIGPIPE) - 1)) != 0)

        // Block a signal on the spawning thread too: the child's mask must
        // still come out empty.
        var block = sigset_t()
        var previous = sigset_t()
        sigemptyset(&block)
        sigaddset(&block, SIGUSR2)
        pthread_sigmask(SIG_BLOCK, &block, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }

        let run = try ChildRun(["/bin/grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"])
        run.run()
        #expect(run.stdoutText == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n")
        run.finish()
    }

    @Test func pipelineEndsCleanlyWhenReaderCloses() throws {
        try ProcessSetup.apply()
        let run = try ChildRun(["/bin/sh", "-c", "yes | head -n 1"])
        run.run()
        #expect(run.stdoutText == "y\n")
        #expect(run.stderrText == "")
        #expect(run.exit == .exited(0))
        run.finish()
    }

    @Test func stdinIsDevNullSoCatEndsAtOnce() throws {
        let run = try ChildRun(["/bin/cat"])
        run.run()
        #expect(run.stdout.isEmpty)
        #expect(run.exit == .exited(0))
        run.finish()
    }
}
