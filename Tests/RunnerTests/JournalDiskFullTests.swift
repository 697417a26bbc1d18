import Glibc
import Testing

@testable import Runner

/// Case 28's full disk, for real: a 64 KiB tmpfs. Needs root and a kernel that
/// lets this process mount; anywhere else the test says so and checks nothing.
@Suite struct JournalDiskFullTests {
    typealias T = JournalTestSupport

    /// Size of the tmpfs: a handful of the padded lines below fill it.
    static let tmpfsOptions = "size=64k"

    @Test(.enabled(if: geteuid() == 0, "mounting a tmpfs needs root"))
    func aFullDiskLeavesNoPartialLineAndTheChainContinuesOnceThereIsRoom() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        guard mount("tmpfs", dir, "tmpfs", 0, Self.tmpfsOptions) == 0 else {
            print("JournalDiskFullTests: cannot mount a tmpfs (\(errnoName(errno))); skipped")
            return
        }
        defer { umount2(dir, Int32(MNT_DETACH)) }
        let path = dir + "/events.jsonl"
        let store = JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 3)
        // Room to free later, so the test can show the append after the failure.
        T.write(dir + "/ballast", [UInt8](repeating: 0x42, count: 16 * 1024))
        let padding = String(repeating: "x", count: 7000)

        var appended: [JournalHead] = []
        var failure: JournalError?
        for i in 0..<100 {
            do {
                appended.append(
                    try store.append(
                        event: "finished",
                        fields: JSONObject([("run", .string("r-\(i)")), ("pad", .string(padding))]))
                )
            } catch {
                failure = error
                break
            }
        }

        #expect(failure == .diskFull(path: path, errno: "ENOSPC"))
        #expect(!appended.isEmpty)
        let bytes = try #require(T.read(path))
        #expect(bytes.last == 0x0A)
        #expect(T.lines(bytes).count == appended.count)
        let report = try JournalVerifier.verify(path: path)
        #expect(report.ok, "\(report.text)")
        #expect(report.head == appended.last)

        unlink(dir + "/ballast")
        let next = try store.append(event: "note", fields: JSONObject())
        #expect(next.seq == Int64(appended.count + 1))
        #expect(try JournalVerifier.verify(path: path).ok)
    }
}
