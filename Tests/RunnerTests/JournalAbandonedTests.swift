import Glibc
import Testing

@testable import Runner

@Suite struct JournalAbandonedTests {
    typealias T = JournalTestSupport

    /// A pid that surely belonged to a process that has exited: a child that
    /// ran `/bin/true` and was reaped.
    static func deadPid() -> Int32 {
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
        defer { free(argv[0]) }
        let rc = argv.withUnsafeBufferPointer { buf in
            posix_spawn(
                &pid, "/bin/true", nil, nil, UnsafeMutablePointer(mutating: buf.baseAddress!), nil)
        }
        precondition(rc == 0, "posix_spawn failed")
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return pid
    }

    static func started(_ store: JournalStore, run: String, _ who: ProcessIdentity) throws {
        _ = try store.append(
            event: "started",
            fields: JSONObject([
                ("run", .string(run)), ("ward_pid", .int(Int64(who.pid))),
                ("ward_start", .int(who.start)),
            ]))
    }

    @Test func findsAStartedRunWhoseProcessIsGone() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let store = JournalStore(path: dir + "/events.jsonl", rotateBytes: 1 << 20, keepFiles: 3)
        let dead = ProcessIdentity(pid: Self.deadPid(), start: 12345)
        try Self.started(store, run: "r-dead", dead)

        let found = try store.abandonedRuns()
        #expect(found == [AbandonedRun(run: "r-dead", process: dead, startedSeq: 1)])
    }

    @Test func ignoresARunOfTheLiveCurrentProcess() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let store = JournalStore(path: dir + "/events.jsonl", rotateBytes: 1 << 20, keepFiles: 3)
        try Self.started(store, run: "r-live", ProcessIdentity.current())

        #expect(try store.abandonedRuns().isEmpty)
    }

    @Test func aLivePidWithAnotherStartTimeIsAReusedPid() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let store = JournalStore(path: dir + "/events.jsonl", rotateBytes: 1 << 20, keepFiles: 3)
        let me = ProcessIdentity.current()
        try Self.started(store, run: "r-reused", ProcessIdentity(pid: me.pid, start: me.start + 1))

        #expect(try store.abandonedRuns().map(\.run) == ["r-reused"])
    }

    @Test func aFinishedRunIsNotAbandoned() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let store = JournalStore(path: dir + "/events.jsonl", rotateBytes: 1 << 20, keepFiles: 3)
        try Self.started(store, run: "r-1", ProcessIdentity(pid: Self.deadPid(), start: 1))
        _ = try store.append(event: "finished", fields: JSONObject([("run", "r-1")]))

        #expect(try store.abandonedRuns().isEmpty)
    }

    @Test func appendsOneAbandonedEventPerRunOnlyOnce() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        let store = JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 3)
        let dead = ProcessIdentity(pid: Self.deadPid(), start: 99)
        try Self.started(store, run: "r-a", dead)
        try Self.started(store, run: "r-live", ProcessIdentity.current())
        try Self.started(store, run: "r-b", dead)

        let records = try store.appendAbandonedEvents()

        #expect(records.map(\.run.run) == ["r-a", "r-b"])
        #expect(records.map(\.head.seq) == [4, 5])
        let last = try JSONReader.parse(try #require(try T.lines(ofFile: path).last))
        #expect(last["event"] == .string("abandoned"))
        #expect(last["run"] == .string("r-b"))
        #expect(last["ward_pid"] == .int(Int64(dead.pid)))
        #expect(last["started_seq"] == .int(3))
        #expect(try store.appendAbandonedEvents().isEmpty)
        #expect(try JournalVerifier.verify(path: path).ok)
    }

    @Test func seesStartedEventsInTheNewestRotatedFile() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        let store = JournalStore(path: path, rotateBytes: 600, keepFiles: 3)
        try Self.started(store, run: "r-old", ProcessIdentity(pid: Self.deadPid(), start: 5))
        for _ in 0..<4 {
            _ = try store.append(
                event: "note",
                fields: JSONObject([("pad", .string(String(repeating: "x", count: 60)))]))
        }
        #expect(try JournalSet(path: path).rotatedFiles().count == 1)

        #expect(try store.abandonedRuns().map(\.run) == ["r-old"])
    }

    @Test func currentIdentityMatchesProcSelfStat() throws {
        let me = ProcessIdentity.current()
        #expect(me.pid == getpid())
        #expect(me.start > 0)
        #expect(me.isAlive)
        #expect(!ProcessIdentity.isAlive(pid: Self.deadPid(), start: 0))
    }

    nonisolated static let statLines: [(String, UInt8, Int64)] = [
        (
            "42 (ward) S 1 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 777 0 0", UInt8(ascii: "S"),
            777
        ),
        ("42 (a b) c) Z 1 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 9 0 0", UInt8(ascii: "Z"), 9),
    ]

    @Test(arguments: statLines)
    func parsesStateAndStartTimeAfterTheLastParenthesis(_ input: (String, UInt8, Int64)) throws {
        let parsed = try #require(ProcessIdentity.parse(Array(input.0.utf8)))
        #expect(parsed.state == input.1)
        #expect(parsed.start == input.2)
    }
}
