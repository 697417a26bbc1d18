import Glibc

/// The parts of `stat(2)` that decide whether a file can be trusted.
nonisolated public struct FileStatus: Sendable, Equatable {
    /// Owner uid.
    public var owner: UInt32
    /// Permission bits and the sticky bit (`st_mode & 0o7777`).
    public var mode: UInt32
    /// True for a directory.
    public var isDirectory: Bool

    /// A status with these fields.
    public init(owner: UInt32, mode: UInt32, isDirectory: Bool) {
        self.owner = owner
        self.mode = mode
        self.isDirectory = isDirectory
    }
}

/// Refuses pack, script and config files that someone other than root could
/// rewrite, like sshd's StrictModes: what ward runs is whatever these files say, so
/// whoever can change them can run commands as ward's user.
nonisolated public enum FileTrust {
    /// Why a file or folder with `status` is not trusted, or nil when it is.
    /// `asParent` is true for a folder above the file, where a sticky world-writable
    /// folder such as /tmp is fine (others cannot rename or replace our entries).
    public static func problem(_ status: FileStatus, euid: UInt32, asParent: Bool) -> String? {
        if status.owner != 0 {
            if status.owner == euid {
                return "is owned by uid \(status.owner), the user ward runs as, so ward itself"
                    + " could be made to rewrite it"
            }
            return "is owned by uid \(status.owner), who could rewrite it; only root-owned"
                + " files are trusted"
        }
        if status.isDirectory && asParent && status.mode & UInt32(S_ISVTX) != 0 { return nil }
        let octal = "0" + String(status.mode & 0o7777, radix: 8)
        if status.mode & 0o002 != 0 { return "is world-writable (mode \(octal))" }
        if status.mode & 0o020 != 0 { return "is group-writable (mode \(octal))" }
        return nil
    }

    /// The status of `path` (following symbolic links), or nil when it cannot be read.
    public static func status(_ path: String) -> FileStatus? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileStatus(
            owner: info.st_uid, mode: UInt32(info.st_mode) & 0o7777,
            isDirectory: info.st_mode & S_IFMT == S_IFDIR)
    }
}

/// Checks files and the folders above them once each per load, so that packs in one
/// folder do not repeat the same finding about a shared parent.
public struct FileTrustChecker {
    /// When true (the CLI's `--allow-writable`, for development clones), findings are
    /// warnings instead of errors.
    public let allowWritable: Bool
    /// The uid whose power over the files matters.
    public let euid: UInt32
    private var checked: Set<String> = []

    /// A checker for the current effective uid.
    public init(allowWritable: Bool, euid: UInt32 = geteuid()) {
        self.allowWritable = allowWritable
        self.euid = euid
    }

    /// Checks `path` and every folder above it up to `/`; `role` names it in messages
    /// ("pack file", "config file").
    public mutating func check(_ path: String, role: String, into d: inout Diagnostics) {
        guard let real = FileSystem.realPath(path) else {
            d.append(.error(path: path, "\(role) cannot be checked: it does not exist"))
            return
        }
        inspect(real, role: role, asParent: false, into: &d)
        var folder = FileSystem.parent(real)
        while true {
            inspect(folder, role: "folder", asParent: true, into: &d)
            if folder == "/" { break }
            folder = FileSystem.parent(folder)
        }
    }

    private mutating func inspect(
        _ path: String, role: String, asParent: Bool, into d: inout Diagnostics
    ) {
        guard checked.insert(path).inserted else { return }
        guard let status = FileTrust.status(path) else {
            d.append(
                .error(path: path, "\(role) cannot be checked: \(FileSystem.errorText("stat"))"))
            return
        }
        guard let problem = FileTrust.problem(status, euid: euid, asParent: asParent) else {
            return
        }
        let what = asParent ? "folder holding ward's files" : role
        if allowWritable {
            d.append(.warning(path: path, "\(what) \(problem); allowed by --allow-writable"))
        } else {
            d.append(
                .error(
                    path: path,
                    "\(what) \(problem); refusing it (fix its owner or mode, or pass"
                        + " --allow-writable for a development clone)"))
        }
    }
}
