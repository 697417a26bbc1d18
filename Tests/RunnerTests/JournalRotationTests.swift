import Glibc
import Testing

@testable import Runner

@Suite struct JournalRotationTests {
    typealias T = JournalTestSupport

    /// Appends `count` events of about 150 bytes each.
    static func fill(_ store: JournalStore, count: Int) throws -> [JournalHead] {
        var heads: [JournalHead] = []
        for i in 0..<count {
            let fields = JSONObject([
                ("run", .string("r-\(i)")), ("pad", .string(String(repeating: "x", count: 40))),
            ])
            heads.append(try store.append(event: "finished", fields: fields))
        }
        return heads
    }

    @Test func rotatesBySizeIntoFilesNamedAfterTheirFirstSeq() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        let store = JournalStore(path: path, rotateBytes: 1024, keepFiles: 100)
        _ = try Self.fill(store, count: 40)

        let rotated = try JournalSet(path: path).rotatedFiles()
        #expect(rotated.count >= 4)
        #expect(rotated.first?.path == dir + "/events.000000000001.jsonl")
        for file in rotated {
            let lines = T.lines(try #require(T.read(file.path)))
            #expect(T.seq(lines[0]) == file.firstSeq)
            #expect(T.join(lines).count <= 1024)
            #expect(T.mode(file.path) == 0o600)
        }
        let report = try JournalVerifier.verify(path: path)
        #expect(report.ok, "\(report.text)")
        #expect(report.filesChecked == rotated.count + 1)
        #expect(report.linesChecked == 40)
        #expect(report.notes.isEmpty)
    }

    @Test func firstLineOfEachFileChainsToTheLastLineOfTheFileBefore() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        _ = try Self.fill(JournalStore(path: path, rotateBytes: 1024, keepFiles: 100), count: 25)

        let paths = try JournalSet(path: path).rotatedFiles().map(\.path) + [path]
        #expect(paths.count > 2)
        for (older, newer) in zip(paths, paths.dropFirst()) {
            let last = try #require(try T.lines(ofFile: older).last)
            let first = try #require(try T.lines(ofFile: newer).first)
            #expect(try JSONReader.parse(first)["prev"] == .string(SHA256.hex(last)))
            #expect(T.seq(first) == T.seq(last).map { $0 + 1 })
        }
    }

    @Test func retentionDeletesTheOldestAndVerifyNotesThePrunedHistory() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        let heads = try Self.fill(
            JournalStore(path: path, rotateBytes: 1024, keepFiles: 2), count: 60)

        let rotated = try JournalSet(path: path).rotatedFiles()
        #expect(rotated.count == 2)
        let firstKept = try #require(rotated.first?.firstSeq)
        #expect(firstKept > 1)
        let report = try JournalVerifier.verify(path: path)
        #expect(report.ok, "\(report.text)")
        #expect(report.firstSeq == firstKept)
        #expect(report.head == heads.last)
        #expect(report.notes == ["history before seq \(firstKept) was pruned by retention"])
        #expect(report.text.contains("pruned by retention"))
    }

    @Test func aMissingMiddleFileIsReportedAsDeleted() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        _ = try Self.fill(JournalStore(path: path, rotateBytes: 1024, keepFiles: 100), count: 30)
        let rotated = try JournalSet(path: path).rotatedFiles()
        #expect(rotated.count >= 3)
        unlink(rotated[1].path)

        let report = try JournalVerifier.verify(path: path)
        #expect(report.problem?.kind == .deleted)
        #expect(report.problem?.file == rotated[2].path)
        #expect(report.problem?.line == 1)
    }

    @Test func linesCutFromTheStartOfTheOldestFileAreReportedAsDeleted() throws {
        // Retention deletes whole files, and a rotated file is named after its
        // first line: an oldest file that begins later than its name lost its
        // first lines. This used to pass as history pruned by retention.
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        _ = try Self.fill(JournalStore(path: path, rotateBytes: 1024, keepFiles: 100), count: 30)
        let oldest = try #require(try JournalSet(path: path).rotatedFiles().first)
        #expect(oldest.firstSeq == 1)
        let kept = try T.lines(ofFile: oldest.path).dropFirst(3)
        let text = kept.map { String(decoding: $0, as: UTF8.self) + "\n" }.joined()
        let fd = open(oldest.path, O_WRONLY | O_TRUNC)
        #expect(fd >= 0)
        _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)

        let report = try JournalVerifier.verify(path: path)
        #expect(report.problem?.kind == .deleted, "\(report.text)")
        #expect(report.problem?.file == oldest.path)
        #expect(report.problem?.line == 1)
        #expect(report.problem?.message.contains("begins at seq 1") == true)
    }

    @Test func continuesFromTheNewestRotatedFileWhenTheActiveFileIsGone() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        let store = JournalStore(path: path, rotateBytes: 1024, keepFiles: 100)
        let heads = try Self.fill(store, count: 3)
        // A crash right after the rotation rename, before the new file's first line.
        let set = JournalSet(path: path)
        #expect(rename(path, set.rotatedPath(firstSeq: 1)) == 0)

        let next = try JournalStore(path: path, rotateBytes: 1024, keepFiles: 100)
            .append(event: "note", fields: JSONObject())

        #expect(next.seq == 4)
        let first = try #require(try T.lines(ofFile: path).first)
        #expect(try JSONReader.parse(first)["prev"] == .string(heads[2].hash))
        #expect(try JournalVerifier.verify(path: path).ok)
    }

    @Test func keepingNoRotatedFilesLeavesOnlyTheActiveFile() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        _ = try Self.fill(JournalStore(path: path, rotateBytes: 1024, keepFiles: 0), count: 20)

        #expect(try JournalSet(path: path).rotatedFiles().isEmpty)
        let report = try JournalVerifier.verify(path: path)
        #expect(report.ok)
        #expect(report.head?.seq == 20)
    }
}
