import Glibc
import Testing

@testable import Runner

/// Group commit: events queued together are written under one lock and synced
/// once, yet each is answered with its own head, in order, only once its line
/// is on disk, and the chain verifies.
@Suite struct JournalGroupCommitTests {
    typealias T = JournalTestSupport

    static func events(_ count: Int) -> [JournalStore.BatchEvent] {
        (0..<count).map { .init(event: "note", fields: JSONObject([("i", .int(Int64($0)))])) }
    }

    /// The head each line of the journal at `path` stands for, oldest first.
    static func heads(ofFile path: String) throws -> [JournalHead] {
        try T.lines(ofFile: path).map { line in
            JournalHead(seq: try #require(T.seq(line)), hash: SHA256.hex(line))
        }
    }

    @Test func batchWritesEachEventInOrderOnOneChain() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        let store = JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 3)
        _ = try store.append(event: "note", fields: JSONObject())

        let results = store.append(batch: Self.events(5))

        let heads = try results.map { try $0.get() }
        #expect(heads.map(\.seq) == [2, 3, 4, 5, 6])
        #expect(try Self.heads(ofFile: path).suffix(5) == heads[...])
        let lines = try T.lines(ofFile: path)
        #expect(try lines.map { try JSONReader.parse($0)["i"] } == [nil, 0, 1, 2, 3, 4])
        let report = try JournalVerifier.verify(path: path)
        #expect(report.ok)
        #expect(report.head == heads.last)
    }

    @Test func batchFailsAnOversizedEventAloneAndChainsTheRest() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        let store = JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 3)
        var events = Self.events(3)
        let huge = String(repeating: "x", count: JournalFormat.maxLineBytes)
        events.insert(.init(event: "note", fields: JSONObject([("blob", .string(huge))])), at: 1)

        let results = store.append(batch: events)

        guard case .failure(.lineTooLarge) = results[1] else {
            Issue.record("the oversized event was not refused: \(results[1])")
            return
        }
        let written = results.enumerated().filter { $0.offset != 1 }.map { try? $0.element.get() }
        #expect(written.map { $0?.seq } == [1, 2, 3])
        #expect(try Self.heads(ofFile: path) == written.compactMap { $0 })
        #expect(try JournalVerifier.verify(path: path).ok)
    }

    @Test func batchRotatesMidwayAndEveryLineVerifies() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        // A few lines per file, so one batch crosses several rotations.
        let store = JournalStore(path: path, rotateBytes: 512, keepFiles: 100)

        let results = store.append(batch: Self.events(20))

        let heads = try results.map { try $0.get() }
        #expect(heads.map(\.seq) == Array(1...20))
        #expect(try JournalSet(path: path).rotatedFiles().count >= 3)
        let report = try JournalVerifier.verify(path: path)
        #expect(report.ok)
        #expect(report.linesChecked == 20)
        #expect(report.head == heads.last)
    }

    @Test func queueAnswersEachAppendInOrderOnlyOnceItsLineIsOnDisk() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        let loop = try EventLoop()
        let queue = JournalQueue(
            store: JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 3),
            work: WorkQueue(loop: loop))
        var answered: [(index: Int, head: JournalHead, onDisk: [JournalHead])] = []
        for index in 0..<20 {
            queue.append(event: "note", fields: JSONObject([("i", .int(Int64(index)))])) {
                result in
                guard case .success(let head) = result else {
                    Issue.record("append \(index) failed: \(result)")
                    return
                }
                answered.append((index, head, (try? Self.heads(ofFile: path)) ?? []))
            }
        }
        // The first event went out alone; the other 19 wait for the next job.
        #expect(queue.pending == 20)
        loop.run()

        #expect(queue.pending == 0)
        #expect(answered.map(\.index) == Array(0..<20))
        #expect(answered.map(\.head.seq) == Array(1...20))
        for entry in answered {
            #expect(entry.onDisk.contains(entry.head), "line \(entry.head.seq) was not on disk")
        }
        // The 19 queued behind the first were written as one batch: when the
        // second was answered, all twenty lines were already there.
        #expect(answered[1].onDisk.count == 20)
        #expect(queue.head == answered.last?.head)
        #expect(try JournalVerifier.verify(path: path).ok)
        try loop.close()
    }
}
