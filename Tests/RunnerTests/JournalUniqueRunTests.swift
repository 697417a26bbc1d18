import Glibc
import Testing

@testable import Runner

/// At most once per run id across processes: two stores on one journal stand
/// for the daemon and a CLI run, which exclude each other through the lock.
@Suite struct JournalUniqueRunTests {
    typealias T = JournalTestSupport

    static func started(_ run: String) -> JournalStore.BatchEvent {
        JournalStore.BatchEvent(
            event: "started", fields: JSONObject([("run", .string(run))]), uniqueRun: run)
    }

    static func isAlreadyStarted(_ result: Result<JournalHead, JournalError>) -> Bool {
        if case .failure(.runAlreadyStarted) = result { return true }
        return false
    }

    @Test func aRunAnotherProcessStartedSinceThisOneWroteIsRefused() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        let daemon = JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 4)
        let cli = JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 4)
        _ = try daemon.append(event: "note", fields: JSONObject())
        #expect(try cli.append(batch: [Self.started("shared-1")])[0].get().seq == 2)

        let results = daemon.append(batch: [Self.started("shared-1"), Self.started("own-1")])
        #expect(Self.isAlreadyStarted(results[0]))
        #expect(try results[1].get().seq == 3)
        // What this store wrote itself is not another's.
        #expect(try daemon.append(batch: [Self.started("own-2")])[0].get().seq == 4)
    }

    @Test func aRunStartedTwoRotationsAgoIsStillFound() throws {
        // The other process rotated the journal twice: its `started` line is
        // in a rotated file that is neither the active one nor the newest
        // rotated one, and it is still retained.
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"
        let daemon = JournalStore(path: path, rotateBytes: 1024, keepFiles: 10)
        let cli = JournalStore(path: path, rotateBytes: 1024, keepFiles: 10)
        _ = try daemon.append(event: "note", fields: JSONObject())
        _ = try cli.append(batch: [Self.started("shared-2")])[0].get()
        _ = try JournalRotationTests.fill(cli, count: 20)
        #expect(try JournalSet(path: path).rotatedFiles().count >= 2)

        let results = daemon.append(batch: [Self.started("shared-2")])
        #expect(Self.isAlreadyStarted(results[0]))
        #expect(try JournalVerifier.verify(path: path).ok)
    }
}
