/// Appends events in order from the loop thread: the blocking lock/write/
/// fsync runs on libuv's thread pool, and exactly one job is in flight at a
/// time, because two queued file operations may complete out of order. Events
/// queued while a job runs go together in the next one (group commit): one
/// lock, their lines in queue order, one fdatasync. Each completion still runs
/// only once its own line is durable, and in queue order.
public final class JournalQueue {
    /// The outcome of one append, delivered on the loop thread.
    public typealias Completion = (Result<JournalHead, JournalError>) -> Void

    /// Most events written by one job: 64 lines of a few hundred bytes each
    /// are one small write and one sync, and the cap keeps the first event of
    /// a long queue from waiting on an unbounded batch.
    static let maxBatch = 64

    let store: JournalStore
    let work: WorkQueue
    var queue: [(event: JournalStore.BatchEvent, completion: Completion)] = []
    /// Events of the job in flight.
    var inFlight = 0

    /// A queue writing through `store` with jobs on `work`.
    public init(store: JournalStore, work: WorkQueue) {
        self.store = store
        self.work = work
        self.head = try? store.currentHead()
    }

    /// The newest line's head: read from the store when the queue was made,
    /// then taken from every append that succeeded. Nil when the journal
    /// could not be read (it may also be empty: seq 0, the genesis hash).
    public private(set) var head: JournalHead?

    /// The files of the journal written.
    public var files: JournalSet { store.files }

    /// Appends still queued or being written.
    public var pending: Int { queue.count + inFlight }

    /// Queues one event; `completion` runs once it is on disk (or failed).
    /// With `uniqueRun` (a run's `started`) it fails with `runAlreadyStarted`
    /// when another ward process journaled a `started` for that run since
    /// this process last wrote (`JournalStore.BatchEvent.uniqueRun`).
    public func append(
        event: String, fields: JSONObject, uniqueRun: String? = nil,
        completion: @escaping Completion
    ) {
        queue.append(
            (
                JournalStore.BatchEvent(event: event, fields: fields, uniqueRun: uniqueRun),
                completion
            ))
        startNext()
    }

    func startNext() {
        guard inFlight == 0, !queue.isEmpty else { return }
        let count = min(queue.count, Self.maxBatch)
        let batch = Array(queue.prefix(count))
        queue.removeFirst(count)
        inFlight = count
        let store = StoreHandle(store: self.store)
        let events = batch.map(\.event)
        let job: @Sendable () -> [Result<JournalHead, JournalError>] = {
            store.store.append(batch: events)
        }
        do {
            try work.submit(job) { [weak self] results in
                self?.inFlight = 0
                if let written = Self.newest(results) { self?.head = written }
                Self.deliver(results, to: batch)
                self?.startNext()
            }
        } catch {
            // The thread pool refused the job: append on the loop thread instead
            // of losing the events.
            inFlight = 0
            let results = job()
            if let written = Self.newest(results) { head = written }
            Self.deliver(results, to: batch)
            startNext()
        }
    }

    /// The head of the last line written, if any was.
    private static func newest(_ results: [Result<JournalHead, JournalError>]) -> JournalHead? {
        for case .success(let written) in results.reversed() { return written }
        return nil
    }

    /// Hands each event its result, in queue order.
    private static func deliver(
        _ results: [Result<JournalHead, JournalError>],
        to batch: [(event: JournalStore.BatchEvent, completion: Completion)]
    ) {
        precondition(results.count == batch.count, "a batch came back with the wrong count")
        for (entry, result) in zip(batch, results) { entry.completion(result) }
    }
}

/// Carries the store into a pool job. The store keeps a head cache, so it is
/// not Sendable in general; here exactly one job touches it at a time, and the
/// next job starts only after the previous one completed on the loop thread,
/// which libuv orders with its queue lock.
nonisolated private final class StoreHandle: @unchecked Sendable {
    let store: JournalStore
    init(store: JournalStore) { self.store = store }
}
