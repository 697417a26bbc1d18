import Glibc
import Testing

@testable import Runner

@Suite struct JournalStoreTests {
    typealias T = JournalTestSupport

    @Test func writesThePinnedByteFormat() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        let store = JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 3)

        let fields = JSONObject([("run", "r-1"), ("exit", 0), ("note", nil)])
        let head = try store.append(event: "finished", fields: fields)

        let bytes = try #require(T.read(path))
        #expect(bytes.last == 0x0A)
        let line = Array(bytes.dropLast())
        #expect(!line.contains(0x0A))
        let parsed = try #require(try JSONReader.parse(line).objectValue)
        #expect(parsed.keys == ["seq", "time", "prev", "event", "run", "exit", "note"])
        #expect(parsed["seq"] == .int(1))
        #expect(parsed["prev"] == .string(JournalFormat.genesisHash))
        #expect(parsed["event"] == .string("finished"))
        let time = try #require(parsed["time"]?.stringValue)
        #expect(time.utf8.count == 24 && time.hasSuffix("Z"))
        // The stored bytes are exactly JSONWriter's rendering of that object.
        #expect(JSONWriter.bytes(.object(parsed)) == line)
        #expect(head == JournalHead(seq: 1, hash: SHA256.hex(line)))
    }

    @Test func chainsEachLineToTheHashOfThePreviousLine() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        let store = JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 3)
        var heads: [JournalHead] = []
        for i in 0..<4 {
            heads.append(
                try store.append(event: "note", fields: JSONObject([("i", .int(Int64(i)))])))
        }

        let lines = T.lines(try #require(T.read(path)))
        #expect(lines.count == 4)
        for (i, line) in lines.enumerated() {
            #expect(heads[i] == JournalHead(seq: Int64(i + 1), hash: SHA256.hex(line)))
            if i > 0 {
                #expect(try JSONReader.parse(line)["prev"] == .string(heads[i - 1].hash))
            }
        }
    }

    @Test func createsDirectoryFileAndLockPrivately() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/state/journal/events.jsonl"
        let store = JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 3)
        _ = try store.append(event: "note", fields: JSONObject())

        #expect(T.mode(dir + "/state") == 0o700)
        #expect(T.mode(dir + "/state/journal") == 0o700)
        #expect(T.mode(path) == 0o600)
        #expect(T.mode(path + ".lock") == 0o600)
    }

    @Test func refusesAnEventLargerThanTheLineLimitAndWritesNothing() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        let store = JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 3)
        _ = try store.append(event: "note", fields: JSONObject())
        let before = try #require(T.read(path))

        let huge = String(repeating: "x", count: JournalFormat.maxLineBytes)
        #expect {
            try store.append(event: "note", fields: JSONObject([("blob", .string(huge))]))
        } throws: { error in
            guard case .lineTooLarge(let p, _, let limit) = error as? JournalError else {
                return false
            }
            return p == path && limit == JournalFormat.maxLineBytes
        }
        #expect(T.read(path) == before)
    }

    nonisolated static let invalidEvents: [(event: String, fields: JSONObject)] = [
        ("finished", JSONObject([("duration_ms", .real(1500.0))])),
        ("finished", JSONObject([("stats", .array([.int(1), .real(0.5)]))])),
        ("finished", JSONObject([("seq", 7)])),
        ("finished", JSONObject([("prev", "x")])),
        ("finished", JSONObject([("time", "x")])),
        ("finished", JSONObject([("event", "other")])),
        ("", JSONObject()),
        ("Finished run", JSONObject()),
    ]

    @Test(arguments: invalidEvents)
    func refusesEventsThatCannotBeJournaledCanonically(
        _ input: (event: String, fields: JSONObject)
    ) throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let store = JournalStore(path: dir + "/events.jsonl", rotateBytes: 1 << 20, keepFiles: 3)
        #expect {
            try store.append(event: input.event, fields: input.fields)
        } throws: { error in
            if case .invalidEvent = error as? JournalError { return true }
            return false
        }
        #expect(T.read(dir + "/events.jsonl") == nil)
    }

    nonisolated static let corruptLastLines: [String] = [
        "not json at all",
        #"["an","array"]"#,
        #"{"seq":"3","time":"t","prev":"\#(JournalFormat.genesisHash)","event":"e"}"#,
        #"{"seq":3,"time":"t","event":"e"}"#,
        #"{"seq":3,"time":"t","prev":"ABC","event":"e"}"#,
    ]

    @Test(arguments: corruptLastLines)
    func refusesToAppendAfterACorruptLastLine(_ last: String) throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        let store = JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 3)
        _ = try store.append(event: "note", fields: JSONObject())
        let damaged = try #require(T.read(path)) + Array(last.utf8) + [0x0A]
        T.write(path, damaged)

        #expect {
            try JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 3)
                .append(event: "note", fields: JSONObject())
        } throws: { error in
            if case .corruptHead(let p, _) = error as? JournalError { return p == path }
            return false
        }
        #expect(T.read(path) == damaged)
    }

    @Test func separateInstancesContinueOneChain() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        let a = JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 3)
        let b = JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 3)

        _ = try a.append(event: "note", fields: JSONObject())
        _ = try b.append(event: "note", fields: JSONObject())
        let third = try a.append(event: "note", fields: JSONObject())

        #expect(third.seq == 3)
        #expect(try JournalVerifier.verify(path: path).ok)
    }

    @Test func errorsNameThePathAndTheErrno() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        // A regular file where the journal's directory should be.
        T.write(dir + "/blocker", [])
        let store = JournalStore(
            path: dir + "/blocker/events.jsonl", rotateBytes: 1024, keepFiles: 1)
        do {
            _ = try store.append(event: "note", fields: JSONObject())
            Issue.record("append under a regular file succeeded")
        } catch {
            #expect(
                error == .cannotOpen(path: dir + "/blocker/events.jsonl.lock", errno: "ENOTDIR"))
            #expect(error.description.contains("ENOTDIR"))
        }
    }

    @Test(arguments: [("folder", "EISDIR"), ("/dev/null", "not a regular file")])
    func aPathThatIsNoRegularFileIsRefusedAndNothingIsCreated(_ kind: String, _ why: String)
        throws
    {
        // A folder or a device as journal.path: refused at once, naming it,
        // with no `.lock` file left beside it (in `/` for `path: /tmp`).
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = kind == "folder" ? dir + "/events.jsonl" : kind
        if kind == "folder" { #expect(mkdir(path, 0o700) == 0) }
        let store = JournalStore(path: path, rotateBytes: 1024, keepFiles: 1)
        #expect(throws: JournalError.cannotOpen(path: path, errno: why)) {
            _ = try store.append(event: "note", fields: JSONObject())
        }
        #expect(access(path + ".lock", F_OK) != 0)
    }

    @Test func documentedExampleVerifiesAndIsWhatTheStoreWrites() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let example = T.fixture("doc-example.jsonl")
        T.write(dir + "/doc.jsonl", example)
        let report = try JournalVerifier.verify(path: dir + "/doc.jsonl")
        #expect(report.ok)
        #expect(
            report.head?.hash == "5b6c80c60cdc618fe684504c637b62ab19f5b2ed3c483cbc5936427de88c50cf")

        // The same events through the store differ only in their times, and
        // therefore in the second line's prev.
        let path = dir + "/events.jsonl"
        let store = JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 3)
        for line in T.lines(example) {
            var fields = try #require(try JSONReader.parse(line).objectValue)
            let event = try #require(fields["event"]?.stringValue)
            for key in ["seq", "time", "prev", "event"] { fields[key] = nil }
            _ = try store.append(event: event, fields: fields)
        }
        let written = try T.lines(ofFile: path)
        for (mine, documented) in zip(written, T.lines(example)) {
            var a = try #require(try JSONReader.parse(mine).objectValue)
            var b = try #require(try JSONReader.parse(documented).objectValue)
            for key in ["time", "prev"] { (a[key], b[key]) = (nil, nil) }
            #expect(JSONWriter.bytes(.object(a)) == JSONWriter.bytes(.object(b)))
        }
        // Line 1 has the genesis prev, so with the documented time it is byte-exact.
        var first = try #require(try JSONReader.parse(written[0]).objectValue)
        first["time"] = try JSONReader.parse(T.lines(example)[0])["time"]
        #expect(JSONWriter.bytes(.object(first)) == T.lines(example)[0])
    }
}
