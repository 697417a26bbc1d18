import Glibc
import Testing

@testable import Runner

/// Case 28: a crash-torn last line must not swallow the next record.
@Suite struct JournalTornTailTests {
    typealias T = JournalTestSupport

    /// The fixture's whole first line and its torn second line.
    static func fixtureParts() -> (whole: [UInt8], torn: [UInt8]) {
        let bytes = T.fixture("torn-tail.jsonl")
        let newline = bytes.firstIndex(of: 0x0A)!
        return (Array(bytes[..<newline]), Array(bytes[(newline + 1)...]))
    }

    @Test func cutsTheTornTailRecordsItAndContinuesFromTheLastWholeLine() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        let fixture = T.fixture("torn-tail.jsonl")
        #expect(fixture.last != 0x0A)
        T.write(path, fixture)
        let (whole, torn) = Self.fixtureParts()
        let h1 = SHA256.hex(whole)

        let store = JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 3)
        let head = try store.append(
            event: "finished", fields: JSONObject([("run", "r-3"), ("outcome", "ok")]))

        let lines = T.lines(try #require(T.read(path)))
        #expect(lines.count == 3)
        #expect(lines[0] == whole)
        let recovered = try JSONReader.parse(lines[1])
        #expect(recovered["seq"] == .int(2))
        #expect(recovered["prev"] == .string(h1))
        #expect(recovered["event"] == .string("recovered"))
        #expect(recovered["torn_bytes"] == .int(Int64(torn.count)))
        #expect(recovered["torn_sha256"] == .string(SHA256.hex(torn)))
        let finished = try JSONReader.parse(lines[2])
        #expect(finished["seq"] == .int(3))
        #expect(finished["prev"] == .string(SHA256.hex(lines[1])))
        #expect(finished["run"] == .string("r-3"))
        #expect(head == JournalHead(seq: 3, hash: SHA256.hex(lines[2])))
        #expect(try JournalVerifier.verify(path: path).ok)
    }

    @Test func aFileHoldingOnlyAFragmentRestartsFromGenesis() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        T.write(path, Self.fixtureParts().torn)

        _ = try JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 3)
            .append(event: "note", fields: JSONObject())

        let lines = T.lines(try #require(T.read(path)))
        #expect(lines.count == 2)
        let recovered = try JSONReader.parse(lines[0])
        #expect(recovered["seq"] == .int(1))
        #expect(recovered["prev"] == .string(JournalFormat.genesisHash))
        #expect(recovered["event"] == .string("recovered"))
        #expect(try JournalVerifier.verify(path: path).ok)
    }

    @Test func verifierReportsAnUnterminatedFinalLineAsTorn() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        T.write(path, T.fixture("torn-tail.jsonl"))

        let report = try JournalVerifier.verify(path: path)
        #expect(report.problem?.kind == .torn)
        #expect(report.problem?.line == 2)
        #expect(report.linesChecked == 1)
    }

    @Test func verifierReportsTheSameFragmentFollowedByANewlineAsMalformed() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        T.write(path, T.fixture("torn-tail.jsonl") + [0x0A])

        let report = try JournalVerifier.verify(path: path)
        #expect(report.problem?.kind == .malformed)
        #expect(report.problem?.line == 2)
    }

    /// Fault injection: a forked writer appending large lines is killed with
    /// SIGKILL at varying moments; after each kill the journal is either whole
    /// or torn at the end, and the next append always leaves a verified chain.
    ///
    /// The child runs Swift code after fork in a multithreaded test process.
    /// If it ever deadlocks on a lock another thread held at the fork, the kill
    /// still ends it; the assertions hold either way.
    @Test func survivesKillNineWhileAppending() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        // Multi-page lines: the kernel can stop a killed write between pages.
        let padding = String(repeating: "p", count: 200 * 1024)
        _ = try JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 1)
            .append(event: "note", fields: JSONObject())

        for round in 0..<8 {
            let pid = fork()
            precondition(pid >= 0, "fork failed")
            if pid == 0 {
                let store = JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 1)
                var n = 0
                while true {
                    n += 1
                    _ = try? store.append(
                        event: "finished",
                        fields: JSONObject([("run", .string("c-\(n)")), ("pad", .string(padding))]))
                }
            }
            usleep(UInt32(20_000 + round * 10_000))
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)

            let report = try JournalVerifier.verify(path: path)
            #expect(report.ok || report.problem?.kind == .torn, "round \(round): \(report.text)")
        }

        let head = try JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 1)
            .append(event: "finished", fields: JSONObject([("run", "after")]))
        let report = try JournalVerifier.verify(path: path)
        #expect(report.ok, "\(report.text)")
        #expect(report.head == head)
    }
}
