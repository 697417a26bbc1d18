import CUV
import Glibc

/// One open file of the journal set: owns the descriptor and translates the
/// system calls the journal needs into `JournalError`s that name the path.
nonisolated final class JournalFile {
    /// Identity and size of an open file, as fstat reports them.
    struct Status: Equatable {
        /// Device the file lives on.
        var device: UInt64
        /// Inode number on that device.
        var inode: UInt64
        /// Size in bytes.
        var size: Int64
        /// Modification time in nanoseconds: with inode and size it tells an
        /// unchanged file from a new one that reuses a freed inode number.
        var modified: Int64
    }

    /// Permission bits for every file the journal creates: the log records what
    /// ran on the host, so only ward's own user may read it.
    static let fileMode: mode_t = 0o600
    /// Permission bits for a journal directory ward creates.
    static let directoryMode: mode_t = 0o700
    /// Bytes read per pread while scanning a file: large enough that a whole
    /// journal line usually fits, small enough to stay off the heap's radar.
    static let readChunk = 64 * 1024

    /// The path this file was opened by.
    let path: String
    /// The descriptor; closed when the object goes away.
    let fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit {
        close(fd)
    }

    /// Opens `path` for reading and appending-by-offset, creating it (mode 0600)
    /// when `create` is set. Returns nil when it does not exist and `create` is not set.
    static func open(_ path: String, writable: Bool, create: Bool) throws(JournalError)
        -> JournalFile?
    {
        var flags = O_CLOEXEC | (writable ? O_RDWR : O_RDONLY)
        if create { flags |= O_CREAT }
        let fd = cuv_open(path, flags, fileMode)
        if fd < 0 {
            let code = errno
            if code == ENOENT && !create { return nil }
            throw .cannotOpen(path: path, errno: errnoName(code))
        }
        return JournalFile(path: path, fd: fd)
    }

    /// Device, inode and size of the open file.
    func status() throws(JournalError) -> Status {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .cannotRead(path: path, errno: errnoName(errno)) }
        return Status(
            device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
            modified: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
    }

    /// Up to `count` bytes from `offset`; fewer only at end of file.
    func read(at offset: Int64, count: Int) throws(JournalError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = out.withUnsafeMutableBytes { raw in
                pread(fd, raw.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .cannotRead(path: path, errno: errnoName(errno))
            }
            if n == 0 { break }
            filled += n
        }
        out.removeLast(count - filled)
        return out
    }

    /// Writes all of `bytes` at the current end of file, looping on short
    /// writes. On failure the file is truncated back to `size`, so no partial
    /// line stays behind, and the error says whether the disk was full.
    func append(_ bytes: [UInt8], at size: Int64) throws(JournalError) {
        var written = 0
        var failure: Int32 = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                pwrite(
                    fd, raw.baseAddress! + written, bytes.count - written,
                    off_t(size) + off_t(written))
            }
            if n < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            written += n
        }
        if failure == 0 { return }
        try truncate(to: size)
        if failure == ENOSPC || failure == EDQUOT {
            throw .diskFull(path: path, errno: errnoName(failure))
        }
        throw .cannotWrite(path: path, errno: errnoName(failure))
    }

    /// fdatasync; on failure the bytes past `size` are cut off again, since
    /// whether they reached the disk is unknown.
    func sync(discardingAfter size: Int64) throws(JournalError) {
        guard fdatasync(fd) != 0 else { return }
        let code = errno
        try? truncate(to: size)
        if code == ENOSPC || code == EDQUOT {
            throw .diskFull(path: path, errno: errnoName(code))
        }
        throw .cannotSync(path: path, errno: errnoName(code))
    }

    /// Cuts the file to `size` bytes.
    func truncate(to size: Int64) throws(JournalError) {
        while ftruncate(fd, off_t(size)) != 0 {
            if errno == EINTR { continue }
            throw .cannotWrite(path: path, errno: errnoName(errno))
        }
    }

    /// Takes the exclusive flock, waiting for other holders.
    func lockExclusive() throws(JournalError) {
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            throw .cannotLock(path: path, errno: errnoName(errno))
        }
    }

    /// Releases the flock.
    func unlock() {
        _ = flock(fd, LOCK_UN)
    }
}

/// Path manipulation and directory operations for the journal set.
nonisolated enum JournalPaths {
    /// The directory part of `path` ("." for a bare name).
    static func directory(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        if slash == path.utf8.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// The last component of `path`.
    static func fileName(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return String(path[path.utf8.index(after: slash)...])
    }

    /// Creates `directory` and any missing parents with mode 0700.
    static func makeDirectories(_ directory: String) throws(JournalError) {
        var st = stat()
        if stat(directory, &st) == 0 { return }
        let parent = JournalPaths.directory(of: directory)
        if parent != directory { try makeDirectories(parent) }
        if mkdir(directory, JournalFile.directoryMode) != 0 && errno != EEXIST {
            throw .cannotOpen(path: directory, errno: errnoName(errno))
        }
    }

    /// fsyncs `directory`, making a rename or a newly created name durable.
    static func syncDirectory(_ directory: String) throws(JournalError) {
        let fd = cuv_open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
        guard fd >= 0 else { throw .cannotOpen(path: directory, errno: errnoName(errno)) }
        defer { close(fd) }
        if fsync(fd) != 0 && errno != EINVAL {
            throw .cannotSync(path: directory, errno: errnoName(errno))
        }
    }

    /// The names in `directory`, without "." and "..".
    static func list(_ directory: String) throws(JournalError) -> [String] {
        guard let dir = opendir(directory) else {
            throw .cannotRead(path: directory, errno: errnoName(errno))
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
