import Testing

@testable import Runner

/// The decode of a line's bytes: the word-at-a-time ASCII test, and the
/// invalid-UTF-8 flag wherever in the line the first non-ASCII byte falls.
@Suite struct StreamProcessorDecodeTests {
    @Test(arguments: Array(0..<17))
    func aHighBitAnywhereIsNotASCII(position: Int) {
        var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 17)
        #expect([UInt8]().withUnsafeBytes(ByteSearch.isASCII))
        #expect(bytes.withUnsafeBytes(ByteSearch.isASCII))
        bytes[position] = 0x80
        #expect(!bytes.withUnsafeBytes(ByteSearch.isASCII))
        #expect(!bytes[...position].withUnsafeBytes(ByteSearch.isASCII))
        #expect(bytes[..<position].withUnsafeBytes(ByteSearch.isASCII))
    }

    /// Lines whose first non-ASCII byte sits before, on and after a word edge.
    nonisolated static let lines: [([UInt8], String, Bool)] = [
        (Array("plain ascii, longer than a word".utf8), "plain ascii, longer than a word", false),
        (Array("0123456été".utf8), "0123456été", false),
        (Array("01234567é".utf8), "01234567é", false),
        (Array("0123456789".utf8) + [0xFF] + Array("x".utf8), "0123456789\u{FFFD}x", true),
        (Array("0123456".utf8) + [0xC3], "0123456\u{FFFD}", true),
    ]

    @Test(arguments: lines)
    func decodesAndFlagsInvalidBytes(_ bytes: [UInt8], _ text: String, _ invalid: Bool) throws {
        let out = process([bytes + [0x0A]], with: try makeRedactor())
        #expect(out.map(\.text) == [text])
        #expect(out.map(\.invalidUTF8) == [invalid])
    }

    /// Whole lines inside one read are scanned in place, others through the
    /// buffer: the lines must not depend on which.
    @Test(arguments: [1, 2, 3, 5, 8, 13, 64])
    func linesDoNotDependOnWhereReadsEnd(chunkSize: Int) throws {
        let input =
            Array(
                "id AKIAABCDEFGHIJKLMNOP here\r\nplain\rpassword=hunter2hunter2 user=bob\n".utf8)
            + [0xFF, 0x0A]
            + Array("été\r\r\nAuthorization: Bearer abcdefghijklmnopqrstuvwxyz012345\nend".utf8)
        let redactor = try makeRedactor()
        let whole = process([input], with: redactor)
        let chunks = stride(from: 0, to: input.count, by: chunkSize).map {
            Array(input[$0..<min(input.count, $0 + chunkSize)])
        }
        #expect(process(chunks, with: redactor) == whole)
        #expect(whole.count == 8)
        #expect(whole.map(\.redactions).reduce(0, +) >= 3)
    }
}
