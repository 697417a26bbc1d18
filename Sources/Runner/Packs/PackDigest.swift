import COpenSSL

/// SHA-256 of a pack's files, so a control plane can tell exactly which pack a
/// runner has. Each file contributes its path relative to the pack folder, a NUL,
/// its length in decimal, a NUL, then its bytes, in byte order of the paths; the
/// separators keep two different packs from hashing the same stream.
nonisolated enum PackDigest {
    /// The lowercase hex digest of `files` (relative path and contents).
    static func digest(_ files: [(path: String, bytes: [UInt8])]) -> String {
        var hash = SHA256Stream()
        let ordered = files.sorted {
            Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8))
        }
        for file in ordered {
            hash.update(Array(file.path.utf8) + [0] + Array(String(file.bytes.count).utf8) + [0])
            hash.update(file.bytes)
        }
        return Hex.encode(hash.finish())
    }
}

/// A tiny owner of one OpenSSL digest context. (A shared `Crypto/` hasher will
/// replace this; it stays private to the pack loader until then.)
nonisolated private struct SHA256Stream: ~Copyable {
    nonisolated(unsafe) private let context: OpaquePointer

    init() {
        // Allocation failure is the only way these fail with a built-in algorithm.
        guard let ctx = EVP_MD_CTX_new(), EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1 else {
            preconditionFailure("OpenSSL could not start a SHA-256 digest")
        }
        context = ctx
    }

    deinit { EVP_MD_CTX_free(context) }

    mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            precondition(EVP_DigestUpdate(context, raw.baseAddress, raw.count) == 1)
        }
    }

    consuming func finish() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        precondition(EVP_DigestFinal_ex(context, &out, &length) == 1)
        return Array(out[0..<Int(length)])
    }
}
