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
