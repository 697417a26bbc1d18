import CUV

/// Runs blocking jobs (file hashing, a slow read) on libuv's thread pool and
/// delivers each result back on the loop thread. The queue does not limit or
/// order jobs: they start in submission order, finish in any order, and the
/// caller decides how many it keeps in flight (one per file, for appends).
public final class WorkQueue {
    /// The loop results are delivered on.
    let loop: EventLoop
    /// Jobs submitted whose completion has not run yet.
    public private(set) var inFlight = 0

    /// A queue delivering on `loop`.
    public init(loop: EventLoop) {
        self.loop = loop
    }

    /// Runs `job` on a pool thread, then `completion` with its result on the
    /// loop thread. `job` must touch nothing but what it captured (Sendable).
    public func submit<Result: Sendable>(
        _ job: @escaping @Sendable () -> Result,
        completion: @escaping (Result) -> Void
    ) throws(UVError) {
        let slot = ResultSlot<Result>()
        let item = WorkItem(
            run: { slot.value = job() },
            complete: { [weak self] in
                self?.inFlight -= 1
                // The pool thread stored the value before libuv queued the
                // completion, and libuv's queue lock orders the two.
                completion(slot.value!)
            })
        let request = UnsafeMutablePointer<uv_work_t>.allocate(capacity: 1)
        request.pointee.data = Unmanaged.passRetained(item).toOpaque()
        let rc = uv_queue_work(loop.raw, request, Trampolines.workRun, Trampolines.workDone)
        if rc < 0 {
            Unmanaged<WorkItem>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            throw UVError(rc, call: "uv_queue_work")
        }
        inFlight += 1
    }
}

/// Where a pool thread leaves a job's result for the loop thread.
nonisolated final class ResultSlot<Value: Sendable>: @unchecked Sendable {
    /// Written once on the pool thread, read once on the loop thread after
    /// libuv has handed the request back; libuv's queue lock orders the two.
    var value: Value?
}

/// One submitted job, type-erased so the C trampolines need no generics.
nonisolated final class WorkItem: @unchecked Sendable {
    /// Runs on a pool thread.
    let run: @Sendable () -> Void
    /// Runs on the loop thread, after `run` finished.
    let complete: @MainActor () -> Void

    init(run: @escaping @Sendable () -> Void, complete: @escaping @MainActor () -> Void) {
        self.run = run
        self.complete = complete
    }
}
