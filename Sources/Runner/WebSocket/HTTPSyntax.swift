/// The pieces of HTTP/1.1 grammar (RFC 9110 section 5.6, RFC 9112) the
/// upgrade request and response need.
nonisolated enum HTTPSyntax {
    /// Whether `byte` is a `tchar`: the characters of names and tokens.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    /// Whether `text` is a non-empty token.
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isTokenByte)
    }

    /// Whether `byte` may appear in a field value: visible characters, space,
    /// tab and obs-text. CR, LF, NUL and other controls may not.
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
    }

    /// ASCII lowercase: header names and tokens compare case-insensitively,
    /// and only in ASCII.
    static func lowercased(_ text: String) -> String {
        String(
            decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 },
            as: UTF8.self)
    }

    /// The comma-separated elements of a list-valued field, trimmed and
    /// lowercased, empty elements dropped (RFC 9110 section 5.6.1).
    static func tokens(_ value: String) -> [String] {
        value.split(separator: ",").map { lowercased(trimmed(String($0))) }.filter { !$0.isEmpty }
    }

    /// `text` without leading and trailing spaces and tabs.
    static func trimmed(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
