/// SHA-256 of a pack's files, so a control plane can tell exactly which pack a
/// runner has. Each file contributes its path relative to the pack folder, a NUL,
/// its length in decimal, a NUL, then its bytes, in byte order of the paths; the
/// separators keep two different packs from hashing the same stream.
nonisolated enum PackDigest {
    /// The lowercase hex digest of `files` (relative path and contents).
    static func digest(_ files: [(path: String, bytes: [UInt8])]) -> String {
        let hash = SHA256()
        let ordered = files.sorted {
            Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8))
        }
        for file in ordered {
            hash.update(Array(file.path.utf8) + [0] + Array(String(file.bytes.count).utf8) + [0])
            hash.update(file.bytes)
        }
        return Hex.encode(hash.finalize())
    }
}
