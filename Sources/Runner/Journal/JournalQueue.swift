/// Appends events in order from the loop thread: each append's blocking
/// lock/write/fsync runs on libuv's thread pool, and exactly one is in flight
/// at a time, because two queued file operations may complete out of order.
public final class JournalQueue {
    /// The outcome of one append, delivered on the loop thread.
    public typealias Completion = (Result<JournalHead, JournalError>) -> Void

    let store: JournalStore
    let work: WorkQueue
    var queue: [(event: String, fields: JSONObject, completion: Completion)] = []
    var inFlight = false

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
    public var pending: Int { queue.count + (inFlight ? 1 : 0) }

    /// Queues one event; `completion` runs once it is on disk (or failed).
    public func append(event: String, fields: JSONObject, completion: @escaping Completion) {
        queue.append((event, fields, completion))
        startNext()
    }

    func startNext() {
        guard !inFlight, !queue.isEmpty else { return }
        let next = queue.removeFirst()
        inFlight = true
        let store = StoreHandle(store: self.store)
        let event = next.event
        let fields = next.fields
        let job: @Sendable () -> Result<JournalHead, JournalError> = {
            do throws(JournalError) {
                return .success(try store.store.append(event: event, fields: fields))
            } catch {
                return .failure(error)
            }
        }
        do {
            try work.submit(job) { [weak self] result in
                self?.inFlight = false
                if case .success(let head) = result { self?.head = head }
                next.completion(result)
                self?.startNext()
            }
        } catch {
            // The thread pool refused the job: append on the loop thread instead
            // of losing the event.
            inFlight = false
            let result = job()
            if case .success(let head) = result { self.head = head }
            next.completion(result)
            startNext()
        }
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
