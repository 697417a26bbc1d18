import CUV
import Glibc

/// The journal's folder (present or creatable, writable, safe modes) and its chain.
enum JournalChecks {
    /// Mode bits that let someone other than the owner change a journal file or
    /// folder: group- or world-writable.
    static let unsafeModeBits: mode_t = 0o022

    /// Whether the journal at `path` can be written and only its owner can change it.
    static func directory(_ path: String) -> DoctorCheck {
        let name = "journal directory"
        let dir = JournalSet(path: path).directory
        var st = stat()
        guard stat(dir, &st) == 0 else {
            guard errno == ENOENT || errno == ENOTDIR else {
                return .fail(
                    name, "cannot inspect \(dir): \(errnoName(errno))",
                    fix: "make \(dir) reachable by the user that runs ward")
            }
            return creatable(dir)
        }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            return .fail(
                name, "\(dir) is not a folder, so the journal \(path) cannot be written",
                fix: "set journal.path in the config to a file inside a folder")
        }
        if let unsafe = unsafeEntries(dir, path: path, directoryMode: st.st_mode) {
            return .fail(
                name, "\(unsafe.first!) can be changed by others",
                fix: "chmod go-w each path below (install.sh makes the folder 0700, owned by"
                    + " the ward user): others could replace or delete journal files",
                items: unsafe)
        }
        if let error = probeWrite(dir) {
            return .fail(
                name, "\(dir) is not writable by uid \(getuid()): \(error)",
                fix: "run the doctor as the user ward runs as (runuser -u ward -- ward doctor),"
                    + " or give that user the folder (chown)")
        }
        return .pass(name, "\(dir) is writable, mode 0\(String(st.st_mode & 0o777, radix: 8))")
    }

    /// A journal folder that does not exist yet: ward creates it (and its
    /// missing parents) on first use, so the nearest existing folder above must
    /// be a writable folder.
    static func creatable(_ dir: String) -> DoctorCheck {
        let name = "journal directory"
        var ancestor = JournalPaths.directory(of: dir)
        var st = stat()
        while stat(ancestor, &st) != 0 {
            let up = JournalPaths.directory(of: ancestor)
            if up == ancestor { break }
            ancestor = up
        }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            return .fail(
                name, "\(dir) cannot be created: \(ancestor) is not a folder",
                fix: "set journal.path in the config to a path under a folder")
        }
        guard access(ancestor, W_OK | X_OK) == 0 else {
            return .fail(
                name,
                "\(dir) cannot be created: \(ancestor) is not writable by uid \(getuid())"
                    + " (\(errnoName(errno)))",
                fix: "create \(dir) for the user that runs ward (mode 0700), or run the doctor"
                    + " as that user")
        }
        return .pass(name, "\(dir) does not exist yet; ward creates it under \(ancestor)")
    }

    /// The folder and the journal's own files that are group- or world-writable,
    /// each with its mode; nil when none is.
    static func unsafeEntries(_ dir: String, path: String, directoryMode: mode_t) -> [String]? {
        var found: [String] = []
        if directoryMode & unsafeModeBits != 0 {
            found.append("\(dir) (mode 0\(String(directoryMode & 0o777, radix: 8)))")
        }
        let set = JournalSet(path: path)
        let files = [path, set.lockPath] + ((try? set.rotatedFiles()) ?? []).map(\.path)
        for file in files {
            var st = stat()
            guard lstat(file, &st) == 0, st.st_mode & unsafeModeBits != 0,
                st.st_mode & S_IFMT != S_IFLNK
            else { continue }
            found.append("\(file) (mode 0\(String(st.st_mode & 0o777, radix: 8)))")
        }
        return found.isEmpty ? nil : found
    }

    /// Creates and removes a probe file in `dir`; the errno name when that fails.
    /// `access(W_OK)` alone would miss a read-only mount's quirks and ACLs.
    static func probeWrite(_ dir: String) -> String? {
        let probe = dir + "/.ward-doctor-\(getpid()).probe"
        let fd = cuv_open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return errnoName(errno) }
        close(fd)
        unlink(probe)
        return nil
    }

    /// Verifies the hash chain of the journal at `path`, as `ward events verify` does.
    static func chain(_ path: String) -> DoctorCheck {
        let name = "journal"
        var st = stat()
        let started =
            stat(path, &st) == 0 || !((try? JournalSet(path: path).rotatedFiles()) ?? []).isEmpty
        guard started else {
            return .skip(name, "no journal yet at \(path): nothing to verify")
        }
        let report: VerifyReport
        do {
            report = try JournalVerifier.verify(path: path)
        } catch {
            return .fail(
                name, "cannot read the journal: \(error)",
                fix: "make the journal readable by the user running the doctor")
        }
        if let problem = report.problem {
            let place = problem.line > 0 ? "\(problem.file):\(problem.line)" : problem.file
            return .fail(
                name, "the chain breaks at \(place): \(problem.kind.rawValue): \(problem.message)",
                fix: "keep the files as evidence; `ward events verify` reports the break and"
                    + " docs/journal.md says what each kind means")
        }
        let head = report.head.map { " up to seq \($0.seq)" } ?? ""
        return .pass(
            name,
            "the chain holds: \(report.linesChecked) line(s) in \(report.filesChecked)"
                + " file(s)\(head)")
    }
}
