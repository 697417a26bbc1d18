import Glibc

/// Helpers every fuzz target shares: temp folders, file writes and a failure that
/// libFuzzer records as a crash with the input saved.
nonisolated enum FuzzSupport {
    /// A fresh folder under /tmp for one target's scratch files, made once per process.
    static func scratchFolder(_ name: String) -> String {
        var template = Array("/tmp/ward-fuzz-\(name)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed: errno \(errno)") }
        return String(cString: made)
    }

    /// Writes `bytes` to `path` (mode 0644), replacing what was there.
    static func write(_ path: String, _ bytes: UnsafeRawBufferPointer) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { fatalError("open \(path) failed: errno \(errno)") }
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            guard n > 0 else { fatalError("write \(path) failed: errno \(errno)") }
            done += n
        }
        close(fd)
    }

    /// Makes `path` a folder (mode 0755) if it is not one yet.
    static func folder(_ path: String) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            fatalError("mkdir \(path) failed: errno \(errno)")
        }
    }

    /// True when `needle` occurs in `haystack`.
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= haystack.count else { return needle.isEmpty }
        for start in 0...(haystack.count - needle.count)
        where haystack[start] == needle[0]
            && haystack[start..<start + needle.count].elementsEqual(needle)
        {
            return true
        }
        return false
    }

    /// Reports a broken property and aborts, so libFuzzer saves the input.
    static func fail(_ message: String) -> Never {
        let text = Array("fuzz property violated: \(message)\n".utf8)
        _ = text.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
        abort()
    }
}

/// The input libFuzzer hands over, as bytes.
nonisolated func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}
