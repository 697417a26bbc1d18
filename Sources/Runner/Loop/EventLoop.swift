import CUV

/// One libuv loop, owned: ward runs everything on a single loop thread, and
/// every handle in `Loop/` is created on and bound to one of these. It is not
/// the default loop, so tests can make a fresh loop each and prove it ends
/// with no handle left open.
public final class EventLoop {
    /// The C loop, for the other owner rooms that start handles on it.
    public let raw: UnsafeMutablePointer<uv_loop_t>
    /// The loop's SIGCHLD reaper, once a child process has asked for one. It
    /// belongs to the loop: `close()` closes it, and it is not counted as live.
    var reaper: ProcessReaper?
    /// The read buffer the loop's pipes share (PipeReadBuffer), made on first use.
    private(set) lazy var pipeReadBuffer = PipeReadBuffer()
    /// Set once `uv_loop_close` succeeded; the memory is then free.
    private(set) var isClosed = false

    /// Passes between close steps when handles are still finishing their close
    /// callbacks. One pass runs every pending close callback; the margin is
    /// for a close callback that closes another handle in turn.
    private static let closeFlushPasses = 8

    /// A fresh loop.
    public init() throws(UVError) {
        let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
        let rc = uv_loop_init(loop)
        if rc < 0 {
            loop.deallocate()
            throw UVError(rc, call: "uv_loop_init")
        }
        raw = loop
    }

    /// Runs until nothing referenced is active any more, or until `stop()`.
    public func run() {
        precondition(!isClosed, "run() on a closed loop")
        uv_run(raw, UV_RUN_DEFAULT)
    }

    /// Runs one iteration, waiting for an event if there is nothing to do yet.
    /// Returns whether the loop still has active referenced work.
    @discardableResult
    public func runOnce() -> Bool {
        precondition(!isClosed, "runOnce() on a closed loop")
        return uv_run(raw, UV_RUN_ONCE) != 0
    }

    /// Makes `run()` return after the current iteration.
    public func stop() {
        uv_stop(raw)
    }

    /// The loop's idea of now, in milliseconds (cached at the start of an
    /// iteration, as libuv's timers see it).
    public var nowMilliseconds: UInt64 { uv_now(raw) }

    /// Handles on this loop that are open and not already closing, not
    /// counting the loop's own reaper. A test asserts this is zero before
    /// `close()`; anything else is a handle some owner forgot to close.
    public var liveHandleCount: Int {
        precondition(!isClosed, "liveHandleCount on a closed loop")
        let service = reaper?.isOpen == true ? 1 : 0
        return walk(countClosing: false) - service
    }

    /// Closes the loop's own handles, lets pending close callbacks run, and
    /// frees the loop. Throws `EBUSY` (without closing anything) when a handle
    /// is still live: the owner of that handle must close it first.
    public func close() throws(UVError) {
        precondition(!isClosed, "close() called twice")
        let live = liveHandleCount
        if live > 0 {
            throw UVError(UV_EBUSY.rawValue, call: "uv_loop_close (\(live) live handles)")
        }
        reaper?.close()
        reaper = nil

        // Closing handles finish in the close phase of an iteration; a
        // non-waiting pass runs them without blocking on anything else.
        var passes = 0
        while walk(countClosing: true) > 0 && passes < EventLoop.closeFlushPasses {
            uv_run(raw, UV_RUN_NOWAIT)
            passes += 1
        }

        try UVError.check(uv_loop_close(raw), "uv_loop_close")
        raw.deallocate()
        isClosed = true
    }

    /// Counts the loop's handles (libuv skips its internal ones).
    private func walk(countClosing: Bool) -> Int {
        var tally = HandleTally(countClosing: countClosing)
        withUnsafeMutablePointer(to: &tally) { ptr in
            uv_walk(raw, Trampolines.countHandle, UnsafeMutableRawPointer(ptr))
        }
        return tally.count
    }
}

/// What `uv_walk` counts into, passed through its `arg` pointer.
struct HandleTally {
    /// Whether handles already closing are counted too.
    var countClosing: Bool
    /// The running count.
    var count = 0
}
