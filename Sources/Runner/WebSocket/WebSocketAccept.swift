import COpenSSL

/// The handshake's proof that the server read this request (RFC 6455 section
/// 4.2.2): base64(SHA-1(key + GUID)). SHA-1 here is a checksum against caching
/// proxies, not a security property; TLS carries the security.
nonisolated enum WebSocketAccept {
    /// The fixed GUID of RFC 6455 section 1.3, appended to every key.
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// Length of a SHA-1 digest in bytes.
    static let sha1Length = 20

    /// The `Sec-WebSocket-Accept` value a server must answer `key` with.
    static func value(forKey key: String) -> String {
        Base64.encode(sha1(Array((key + guid).utf8)))
    }

    /// SHA-1 of `bytes` through OpenSSL's one-shot EVP digest.
    static func sha1(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // SHA-1 is in OpenSSL 3's default provider, so this fails only when
        // malloc does: nothing a caller could handle.
        let ok = bytes.withUnsafeBytes { input in
            digest.withUnsafeMutableBufferPointer { out in
                EVP_Digest(
                    input.baseAddress, input.count, out.baseAddress, &length, EVP_sha1(), nil)
            }
        }
        precondition(ok == 1 && Int(length) == sha1Length, "SHA-1 digest failed")
        return Array(digest.prefix(sha1Length))
    }
}
