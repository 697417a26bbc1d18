import CUV
import Glibc

/// Why the journal could not be appended to or read. Every case names the file
/// it concerns; system-call failures also carry the errno name (`EACCES`, ...).
nonisolated public enum JournalError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file or its directory could not be opened or created.
    case cannotOpen(path: String, errno: String)
    /// The lock file could not be locked.
    case cannotLock(path: String, errno: String)
    /// Reading (or inspecting) the file failed.
    case cannotRead(path: String, errno: String)
    /// Writing or truncating failed for a reason other than a full disk.
    case cannotWrite(path: String, errno: String)
    /// fdatasync failed: the line was removed again, it is not durable.
    case cannotSync(path: String, errno: String)
    /// Renaming the active file away or deleting an old rotated file failed.
    case cannotRotate(path: String, errno: String)
    /// The file system is full (ENOSPC, or EDQUOT for a quota); nothing was left behind.
    case diskFull(path: String, errno: String)
    /// The serialised event is larger than `JournalFormat.maxLineBytes`.
    case lineTooLarge(path: String, bytes: Int, limit: Int)
    /// The last whole line of the journal is not a journal line: ward refuses to
    /// guess where the chain continues.
    case corruptHead(path: String, reason: String)
    /// The caller's event cannot be journaled as given (a reserved member, a real
    /// number, a bad event name).
    case invalidEvent(path: String, reason: String)
    /// Another ward process on the host journaled a `started` event for this
    /// run id since this one last wrote: the run must not start twice.
    case runAlreadyStarted(path: String, run: String)

    /// The file the error concerns.
    public var path: String {
        switch self {
        case .cannotOpen(let p, _), .cannotLock(let p, _), .cannotRead(let p, _),
            .cannotWrite(let p, _), .cannotSync(let p, _), .cannotRotate(let p, _),
            .diskFull(let p, _), .lineTooLarge(let p, _, _), .corruptHead(let p, _),
            .invalidEvent(let p, _), .runAlreadyStarted(let p, _):
            p
        }
    }

    public var description: String {
        switch self {
        case .cannotOpen(let p, let e): "\(p): cannot open: \(e)"
        case .cannotLock(let p, let e): "\(p): cannot lock: \(e)"
        case .cannotRead(let p, let e): "\(p): cannot read: \(e)"
        case .cannotWrite(let p, let e): "\(p): cannot write: \(e)"
        case .cannotSync(let p, let e): "\(p): cannot sync to disk: \(e)"
        case .cannotRotate(let p, let e): "\(p): cannot rotate: \(e)"
        case .diskFull(let p, let e): "\(p): disk full (\(e)); the event was not journaled"
        case .lineTooLarge(let p, let n, let limit):
            "\(p): event line of \(n) bytes exceeds the \(limit)-byte limit"
        case .corruptHead(let p, let r): "\(p): last line is not a journal line: \(r)"
        case .invalidEvent(let p, let r): "\(p): invalid event: \(r)"
        case .runAlreadyStarted(let p, let run):
            "\(p): run \(run) was started by another ward process on this host"
        }
    }
}

/// The symbolic name of an errno value (`ENOSPC`), through libuv's table.
nonisolated public func errnoName(_ code: Int32) -> String {
    // libuv's codes on Linux are the negated errno values.
    var buffer = [CChar](repeating: 0, count: 64)
    let name = buffer.withUnsafeMutableBufferPointer { buf in
        String(cString: uv_err_name_r(-code, buf.baseAddress, buf.count))
    }
    return name.hasPrefix("Unknown") ? "errno \(code)" : name
}
