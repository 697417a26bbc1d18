import Glibc
import Testing

@testable import Runner

/// Failures seen on worker threads, collected under a mutex.
nonisolated final class ThreadFailures: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var items: [String] = []

    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }

    func add(_ failure: String) {
        pthread_mutex_lock(&mutex)
        items.append(failure)
        pthread_mutex_unlock(&mutex)
    }

    var all: [String] {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return items
    }
}

/// Two stores on one path, each on its own thread: the flock on the lock
/// file (one per open file description) is all that keeps them apart.
@Suite struct JournalConcurrencyTests {
    typealias T = JournalTestSupport

    nonisolated static let appendsPerThread = 500

    static func appendConcurrently(path: String, rotateBytes: Int) -> [String] {
        let failures = ThreadFailures()
        let bodies: [@Sendable () -> Void] = ["a", "b"].map { name in
            {
                let store = JournalStore(path: path, rotateBytes: rotateBytes, keepFiles: 1000)
                for i in 0..<JournalConcurrencyTests.appendsPerThread {
                    do {
                        _ = try store.append(
                            event: "note",
                            fields: JSONObject([("writer", .string(name)), ("i", .int(Int64(i)))]))
                    } catch {
                        failures.add("\(name) \(i): \(error)")
                    }
                }
            }
        }
        T.runOnThreads(bodies)
        return failures.all
    }

    @Test func twoStoresOnTwoThreadsKeepOneContiguousChain() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"

        let failures = Self.appendConcurrently(path: path, rotateBytes: 1 << 30)

        #expect(failures.isEmpty, "\(failures)")
        let lines = T.lines(try #require(T.read(path)))
        #expect(lines.map(T.seq) == (1...1000).map { Int64($0) })
        let writers = lines.compactMap { try? JSONReader.parse($0)["writer"]?.stringValue }
        #expect(writers.filter { $0 == "a" }.count == 500)
        let report = try JournalVerifier.verify(path: path)
        #expect(report.ok, "\(report.text)")
        #expect(report.linesChecked == 1000)
    }

    @Test func concurrentAppendsAcrossRotationsLoseNothing() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let path = dir + "/events.jsonl"

        let failures = Self.appendConcurrently(path: path, rotateBytes: 8 * 1024)

        #expect(failures.isEmpty, "\(failures)")
        #expect(try JournalSet(path: path).rotatedFiles().count > 5)
        let report = try JournalVerifier.verify(path: path)
        #expect(report.ok, "\(report.text)")
        #expect(report.linesChecked == 1000)
        #expect(report.head?.seq == 1000)
    }
}
