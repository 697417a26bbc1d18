/// Finding a byte string inside another without Foundation.
nonisolated enum ByteSearch {
    /// Index of the first occurrence of `needle` in `haystack` that starts in
    /// its first `limit` bytes (all of it by default), or nil.
    static func firstIndex(
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
}
