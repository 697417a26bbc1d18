import CUV
import Glibc

/// Per-action concurrency across every ward process on the host: an action
/// declaring `concurrency: N` has N slot files beside the journal, and a run
/// holds one with an exclusive `flock` for its whole life. The kernel drops a
/// lock when its process dies, so a crashed ward never leaves a slot taken.
/// Each slot file holds the id of the run holding it, for the refusal.
public struct ActionSlots {
    /// The folder of slot files (`slots/` beside the journal).
    public let directory: String

    /// Slots kept beside the journal at `journalPath`.
    public init(journalPath: String) {
        let dir = JournalPaths.directory(of: journalPath)
        directory = (dir.isEmpty ? "." : dir) + "/slots"
    }

    /// A held slot; `release()` gives it back.
    public final class Slot {
        let fd: Int32
        var released = false

        init(fd: Int32) { self.fd = fd }

        /// Empties and unlocks the slot.
        public func release() {
            guard !released else { return }
            released = true
            _ = ftruncate(fd, 0)
            close(fd)
        }

        deinit {
            if !released { close(fd) }
        }
    }

    /// Why no slot was free, or the slot files could not be used.
    public enum Failure: Error {
        /// Every slot is held; the ids of the runs holding them.
        case full(holders: [String])
        /// A slot file could not be opened (the message names it and errno).
        case unusable(String)
    }

    /// Takes a free slot of `action` (limit `limit`) for `runID`, without waiting.
    public func acquire(action: String, limit: Int, runID: String) -> Result<Slot, Failure> {
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            return .failure(
                .unusable("cannot create \(directory): \(String(cString: strerror(errno)))"))
        }
        var holders: [String] = []
        for index in 0..<limit {
            let path = "\(directory)/\(action).\(index)"
            let fd = cuv_open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard fd >= 0 else {
                return .failure(
                    .unusable("cannot open \(path): \(String(cString: strerror(errno)))"))
            }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                _ = ftruncate(fd, 0)
                let bytes = Array(runID.utf8)
                _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
                return .success(Slot(fd: fd))
            }
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            close(fd)
            holders.append(n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self) : "?")
        }
        return .failure(.full(holders: holders))
    }
}
