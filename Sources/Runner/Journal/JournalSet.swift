/// The files that make up one journal: the active file at `path`, the rotated
/// files beside it (`events.000000000001.jsonl`, named after their first seq),
/// and the lock file `<path>.lock`.
nonisolated public struct JournalSet: Sendable {
    /// One rotated file.
    public struct Rotated: Equatable, Sendable {
        /// Seq of its first line, from its name.
        public var firstSeq: Int64
        /// Its full path.
        public var path: String
    }

    /// The active file's path.
    public let path: String
    /// The directory holding every file of the set.
    public let directory: String
    /// The lock file's path: stable, because the active file is renamed on rotation.
    public let lockPath: String
    private let stem: String

    /// The set whose active file is `path`.
    public init(path: String) {
        self.path = path
        self.directory = JournalPaths.directory(of: path)
        self.lockPath = path + ".lock"
        let name = JournalPaths.fileName(of: path)
        self.stem = name.hasSuffix(".jsonl") ? String(name.dropLast(6)) : name
    }

    /// The path a rotated file whose first line has `firstSeq` gets.
    public func rotatedPath(firstSeq: Int64) -> String {
        let digits = String(firstSeq)
        let padding = String(
            repeating: "0", count: max(0, JournalFormat.rotatedSeqDigits - digits.count))
        return prefix(directory) + stem + "." + padding + digits + ".jsonl"
    }

    /// The rotated files present now, oldest (lowest first seq) first.
    public func rotatedFiles() throws(JournalError) -> [Rotated] {
        var found: [Rotated] = []
        for name in try JournalPaths.list(directory) {
            if let seq = firstSeq(ofRotatedName: name) {
                found.append(Rotated(firstSeq: seq, path: prefix(directory) + name))
            }
        }
        return found.sorted { $0.firstSeq < $1.firstSeq }
    }

    /// The seq encoded in a rotated file's name, or nil for any other name.
    func firstSeq(ofRotatedName name: String) -> Int64? {
        let head = stem + "."
        guard name.hasPrefix(head), name.hasSuffix(".jsonl") else { return nil }
        let digits = name.utf8.dropFirst(head.utf8.count).dropLast(6)
        guard digits.count >= JournalFormat.rotatedSeqDigits, digits.count <= 19,
            digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        else { return nil }
        return Int64(String(decoding: digits, as: UTF8.self))
    }

    private func prefix(_ directory: String) -> String {
        directory.hasSuffix("/") ? directory : directory + "/"
    }
}
