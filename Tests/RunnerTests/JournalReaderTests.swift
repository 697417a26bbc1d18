import Glibc
import Testing

@testable import Runner

@Suite struct JournalReaderTests {
    typealias T = JournalTestSupport

    static func fill(_ store: JournalStore, from: Int, count: Int) throws {
        for i in from..<(from + count) {
            _ = try store.append(event: "note", fields: JSONObject([("i", .int(Int64(i)))]))
        }
    }

    /// Every stored line of the set, oldest first.
    static func allLines(_ path: String) throws -> [[UInt8]] {
        let files = try JournalSet(path: path).rotatedFiles().map(\.path) + [path]
        return try files.flatMap { try T.lines(ofFile: $0) }
    }

    @Test func lastLinesSpanRotatedFilesOldestFirstByteForByte() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        try Self.fill(JournalStore(path: path, rotateBytes: 400, keepFiles: 50), from: 1, count: 30)
        #expect(try JournalSet(path: path).rotatedFiles().count > 3)

        let last = try JournalReader(path: path).lastLines(count: 10)

        #expect(last == Array(try Self.allLines(path).suffix(10)))
        #expect(last.map(T.seq) == (21...30).map { Int64($0) })
    }

    @Test func askingForMoreLinesThanExistReturnsAll() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        try Self.fill(JournalStore(path: path, rotateBytes: 400, keepFiles: 50), from: 1, count: 7)

        #expect(try JournalReader(path: path).lastLines(count: 100) == (try Self.allLines(path)))
    }

    @Test func lastLinesLeaveOutATornFragment() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        T.write(path, T.fixture("torn-tail.jsonl"))

        let lines = try JournalReader(path: path).lastLines(count: 5)
        #expect(lines == [Array(T.fixture("torn-tail.jsonl").prefix { $0 != 0x0A })])
    }

    @Test func followPrintsNewLinesAcrossRotationAndRepair() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        let store = JournalStore(path: path, rotateBytes: 400, keepFiles: 50)
        try Self.fill(store, from: 1, count: 3)

        var seen: [[UInt8]] = []
        var polls = 0
        try JournalReader(path: path).follow(
            initialLines: 2, pollMilliseconds: 5,
            shouldStop: {
                polls += 1
                switch polls {
                case 1: try? Self.fill(store, from: 4, count: 2)
                // Enough to rotate several times between two polls.
                case 2: try? Self.fill(store, from: 6, count: 12)
                case 3:
                    // A torn fragment, later cut off by the next append.
                    let bytes = T.read(path)! + Array(#"{"seq":99,"#.utf8)
                    T.write(path, bytes)
                case 4: try? Self.fill(store, from: 18, count: 1)
                default: break
                }
                return polls > 6
            },
            onLine: { seen.append($0) })

        let all = try Self.allLines(path)
        #expect(seen == Array(all.suffix(all.count - 1)))
        #expect(seen.map(T.seq) == (2...19).map { Int64($0) })
    }

    @Test func followFromTheEndPrintsOnlyNewLinesAfterRotation() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        let store = JournalStore(path: path, rotateBytes: 400, keepFiles: 50)
        try Self.fill(store, from: 1, count: 10)

        var seen: [[UInt8]] = []
        var polls = 0
        try JournalReader(path: path).follow(
            pollMilliseconds: 5,
            shouldStop: {
                polls += 1
                if polls == 1 { try? Self.fill(store, from: 11, count: 6) }
                return polls > 2
            },
            onLine: { seen.append($0) })

        #expect(seen == Array(try Self.allLines(path).suffix(6)))
    }
}
