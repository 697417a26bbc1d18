/// Finding a byte string inside another, and telling ASCII bytes, without
/// Foundation.
nonisolated public enum ByteSearch {
    /// Index of the first occurrence of `needle` in `haystack` that starts in
    /// its first `limit` bytes (all of it by default), or nil.
    public static func firstIndex(
        of needle: [UInt8], in haystack: [UInt8], startingWithin limit: Int = .max
    ) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        let last = min(limit, haystack.count - needle.count)
        var i = 0
        while i <= last {
            if haystack[i] == first, haystack[i..<(i + needle.count)].elementsEqual(needle) {
                return i
            }
            i += 1
        }
        return nil
    }

    /// Whether every byte is below 0x80, tested eight bytes at a time.
    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var any: UInt64 = 0
        var i = 0
        while i + 8 <= bytes.count {
            any |= bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < bytes.count {
            any |= UInt64(bytes[i])
            i += 1
        }
        return any & 0x8080_8080_8080_8080 == 0
    }
}
