import COpenSSL

/// Standard base64 (RFC 4648 section 4) with padding, through OpenSSL: the
/// websocket key and accept values, and proxy Basic credentials.
nonisolated enum Base64 {
    /// `bytes` as base64 text, padded with `=` to a multiple of four.
    static func encode(_ bytes: [UInt8]) -> String {
        guard !bytes.isEmpty else { return "" }
        var out = [UInt8](repeating: 0, count: 4 * ((bytes.count + 2) / 3) + 1)
        let n = EVP_EncodeBlock(&out, bytes, Int32(bytes.count))
        return String(decoding: out.prefix(Int(n)), as: UTF8.self)
    }
}
