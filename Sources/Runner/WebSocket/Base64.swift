/// Standard base64 (RFC 4648 section 4) with padding, for the websocket
/// handshake's key and accept values.
nonisolated enum Base64 {
    /// The 64 digits in value order.
    private static let digits = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// `bytes` as base64 text, padded with `=` to a multiple of four.
    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let left = bytes.count - index
            let b0 = UInt32(bytes[index])
            let b1 = left > 1 ? UInt32(bytes[index + 1]) : 0
            let b2 = left > 2 ? UInt32(bytes[index + 2]) : 0
            let group = b0 << 16 | b1 << 8 | b2
            out.append(digits[Int(group >> 18 & 0x3F)])
            out.append(digits[Int(group >> 12 & 0x3F)])
            out.append(left > 1 ? digits[Int(group >> 6 & 0x3F)] : UInt8(ascii: "="))
            out.append(left > 2 ? digits[Int(group & 0x3F)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
