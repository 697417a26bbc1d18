import COpenSSL

/// SHA-256 through OpenSSL's EVP interface, fed incrementally or all at once.
///
/// One instance hashes one message: feed it with `update`, then call `finalize`
/// exactly once. Not shared between threads; each caller makes its own.
nonisolated public final class SHA256 {
    /// Length of a digest in bytes.
    public static let digestLength = 32

    nonisolated(unsafe) private let context: OpaquePointer
    private var finished = false

    /// A fresh hash of the empty message.
    public init() {
        // EVP_MD_CTX_new fails only when malloc does, and SHA-256 is always in
        // OpenSSL's default provider: neither is something a caller can handle.
        guard let context = EVP_MD_CTX_new() else {
            preconditionFailure("EVP_MD_CTX_new failed: out of memory")
        }
        self.context = context
        precondition(EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1, "SHA-256 init failed")
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    /// Adds the bytes of `buffer` to the message.
    public func update(_ buffer: UnsafeRawBufferPointer) {
        precondition(!finished, "SHA256.update after finalize")
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        precondition(EVP_DigestUpdate(context, base, buffer.count) == 1, "SHA-256 update failed")
    }

    /// Adds `bytes` to the message.
    public func update(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable {
            update(UnsafeRawBufferPointer($0))
        }
        if done == nil {
            Array(bytes).withUnsafeBytes { update($0) }
        }
    }

    /// Ends the message and returns its 32-byte digest. Call once.
    public func finalize() -> [UInt8] {
        precondition(!finished, "SHA256.finalize called twice")
        finished = true
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = digest.withUnsafeMutableBufferPointer {
            EVP_DigestFinal_ex(context, $0.baseAddress, &length)
        }
        precondition(ok == 1 && Int(length) == SHA256.digestLength, "SHA-256 final failed")
        return Array(digest.prefix(SHA256.digestLength))
    }

    /// Ends the message and returns its digest as 64 lowercase hex digits. Call once.
    public func finalizeHex() -> String {
        Hex.encode(finalize())
    }

    /// The digest of `bytes` in one call.
    public static func digest(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        let hash = SHA256()
        hash.update(bytes)
        return hash.finalize()
    }

    /// The digest of `bytes` as 64 lowercase hex digits.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        Hex.encode(digest(bytes))
    }
}
