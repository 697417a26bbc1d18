import Glibc
import Testing

@testable import Runner

/// How `ward action run` prints lines: gathered into few writes, in order,
/// with control bytes shown as `\xNN`, the same in stream and buffered mode.
@Suite(.serialized) struct ActionRunPrintingTests {
    /// Both printing modes.
    nonisolated static let modes: [[String]] = [["--stream"], []]

    @Test(arguments: modes)
    func everyLineArrivesInOrder(mode: [String]) {
        let s = Scratch()
        let out = s.ward(
            ["action", "run", "e2e.count", "--arg", "n=1000", "--opt", "max_output_lines=1000"]
                + mode + ["--reason", "t"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.lines == (1...1000).map { "out| \($0)" })
    }

    @Test(arguments: modes)
    func controlBytesPrintAsHex(mode: [String]) {
        let s = Scratch()
        let out = s.ward(
            ["action", "run", "e2e.printf", "--arg", "what=invalid-utf8"] + mode + [
                "--reason", "t",
            ])
        #expect(out.status == 0, "\(out.stderr)")
        // \037 \213 \010 \000 \377 \376: three controls, three bytes that are
        // not UTF-8 (each replaced by U+FFFD).
        #expect(
            out.lines == ["out| ok", "out| \\x1f\u{FFFD}\\x08\\x00\u{FFFD}\u{FFFD}abc", "out| été"])
    }

    /// Peak resident size (VmHWM) of `ward action run e2e.wide mib=16` in
    /// `mode`, read once ward has written its first output: in buffered and
    /// JSON mode that is after the run ended and all its output is held.
    /// (`ru_maxrss` would count the test runner's own size: the child starts
    /// as its fork.)
    static func peakWhileHolding(_ s: Scratch, _ mode: [String]) -> (peakKiB: Int, bytes: Int) {
        let out = TestSpawn.pipePair()
        let argv =
            [
                WardProcess.binary, "--config", s.config, "action", "run", "e2e.wide", "--arg",
                "mib=16",
            ]
            + ["--opt", "max_output_bytes=16777216", "--reason", "memory bound"] + mode
        guard
            let pid = TestSpawn.spawn(
                argv, environment: ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"], stdin: .null,
                stdout: .fd(out.write), stderr: .null)
        else {
            Issue.record("cannot start ward")
            return (0, 0)
        }
        close(out.write)
        var ready = pollfd(fd: out.read, events: Int16(POLLIN), revents: 0)
        _ = poll(&ready, 1, 60_000)
        let status = TempDir.readAbsolute("/proc/\(pid)/status") ?? ""
        let peak =
            status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
            .flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        var bytes = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = read(out.read, &buffer, buffer.count)
            if n > 0 { bytes += n } else if n == 0 || errno != EINTR { break }
        }
        close(out.read)
        var code: Int32 = 0
        waitpid(pid, &code, 0)
        #expect(code == 0)
        return (peak, bytes)
    }

    @Test func heldOutputCostsAboutItsOwnSize() {
        // 16 MiB of output held until the run ends (buffered, --json) costs
        // about its own size over streaming it: --json held each line as a
        // JSON tree, 4.6 times the text here and 17 times for short lines.
        let s = Scratch()
        let streamed = Self.peakWhileHolding(s, ["--stream"])
        for mode in [[], ["--json"]] {
            let held = Self.peakWhileHolding(s, mode)
            #expect(held.bytes > 16 << 20, "\(mode)")
            #expect(
                held.peakKiB - streamed.peakKiB < 24 << 10,
                "\(mode): \(held.peakKiB) KiB against \(streamed.peakKiB) KiB streamed")
        }
    }

    @Test func controlBytesPastTheFirstWordPrintAsHex() {
        let s = Scratch()
        let out = s.ward([
            "action", "run", "e2e.printf", "--arg", "what=controls", "--stream", "--reason", "t",
        ])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.lines == ["out| 0123456789abcdef\\x7fghij\\x1b[0mtail\tend"])
    }

    /// C1 controls (CSI U+009B acts like ESC [ on many terminals) print as the
    /// hex of their two bytes; other non-ASCII text, NBSP included, is kept.
    @Test func c1ControlsPrintAsHex() {
        let s = Scratch()
        for mode in [["--stream"], []] {
            let out = s.ward(
                ["action", "run", "e2e.printf", "--arg", "what=c1-controls", "--reason", "t"]
                    + mode)
            #expect(out.status == 0, "\(out.stderr)")
            #expect(
                out.lines == [
                    "out| csi \\xc2\\x9b2J and \\xc2\\x85 next, \u{A0} is a space, é stays"
                ],
                "\(mode)")
        }
    }
}
