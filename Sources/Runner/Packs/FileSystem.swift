import Glibc

/// The few file-system questions the loaders ask, answered with Glibc calls.
nonisolated enum FileSystem {
    /// What a path names, without following a final symbolic link.
    enum Kind: Equatable {
        case missing
        case regular
        case directory
        case symbolicLink
        /// A FIFO, socket or device.
        case other
    }

    /// The kind of `path` (lstat: a symbolic link is reported as one).
    static func kind(_ path: String) -> Kind {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        case S_IFLNK: return .symbolicLink
        default: return .other
        }
    }

    /// The canonical absolute path of an existing `path`, or nil.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The names in directory `path` except `.` and `..`, sorted by their bytes;
    /// nil when it cannot be read.
    static func list(_ path: String) -> [String]? {
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// Why a file could not be read.
    struct ReadError: Error {
        var message: String
    }

    /// The bytes of regular file `path`, refusing files over `limit` bytes.
    static func read(_ path: String, limit: Int) -> Result<[UInt8], ReadError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return .failure(ReadError(message: errorText("cannot open"))) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(ReadError(message: errorText("cannot read")))
            }
            if n == 0 { return .success(bytes) }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > limit {
                return .failure(ReadError(message: "file is larger than \(limit) bytes"))
            }
        }
    }

    /// `what: strerror(errno)`.
    static func errorText(_ what: String) -> String {
        "\(what): \(String(cString: strerror(errno)))"
    }

    /// `path` made absolute against `base` (which must be absolute), with `.` and
    /// `..` segments and repeated slashes folded, without touching the disk.
    static func absolute(_ path: String, base: String) -> String {
        let joined = path.hasPrefix("/") ? path : base + "/" + path
        var parts: [Substring] = []
        for part in joined.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": _ = parts.popLast()
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The folder holding `path` (`/` for a top-level entry).
    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let head = path[..<slash]
        return head.isEmpty ? "/" : String(head)
    }

    /// The process's current directory.
    static func currentDirectory() -> String {
        guard let cwd = getcwd(nil, 0) else { return "/" }
        defer { free(cwd) }
        return String(cString: cwd)
    }
}
