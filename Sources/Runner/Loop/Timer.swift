import CUV

/// A libuv timer, one-shot or repeating, calling a closure on the loop thread.
/// The timer keeps itself alive while its handle is open, so a caller may drop
/// its reference and the timer still fires; `close()` ends that.
public final class Timer {
    /// The C handle; freed only in the close callback.
    let handle: UnsafeMutablePointer<uv_timer_t>
    /// Called on each expiry; dropped on close, which breaks any cycle through
    /// a closure that captures the timer.
    var onFire: (() -> Void)?
    /// False once `close()` has been called.
    public private(set) var isOpen = true

    /// A stopped timer on `loop`.
    public init(loop: EventLoop) {
        handle = .allocate(capacity: 1)
        // uv_timer_init cannot fail on Unix: it only fills in the struct.
        let rc = uv_timer_init(loop.raw, handle)
        precondition(rc == 0, "uv_timer_init failed: \(rc)")
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    /// Arms the timer: `fire` runs after `milliseconds`, then every `repeating`
    /// milliseconds when that is not zero. Re-arming replaces the closure.
    public func start(
        after milliseconds: UInt64, repeating: UInt64 = 0, _ fire: @escaping () -> Void
    ) {
        precondition(isOpen, "start() on a closed timer")
        onFire = fire
        let rc = uv_timer_start(handle, Trampolines.timerFired, milliseconds, repeating)
        precondition(rc == 0, "uv_timer_start failed: \(rc)")
    }

    /// Disarms the timer; it can be started again.
    public func stop() {
        guard isOpen else { return }
        uv_timer_stop(handle)
    }

    /// Whether the timer is armed.
    public var isActive: Bool { isOpen && uv_is_active(rawHandle) != 0 }

    /// Keeps the timer from holding `run()` open by itself.
    public func unref() {
        guard isOpen else { return }
        uv_unref(rawHandle)
    }

    /// Closes the handle. The memory goes in the close callback; calling this
    /// again is harmless.
    public func close() {
        guard isOpen else { return }
        isOpen = false
        onFire = nil
        uv_close(rawHandle, Trampolines.timerClosed)
    }

    /// The handle as the base type libuv's generic calls take.
    var rawHandle: UnsafeMutablePointer<uv_handle_t> {
        UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)
    }

    /// Called by the close trampoline: frees the handle and drops the +1.
    func closed() {
        let retained = handle.pointee.data
        handle.deallocate()
        Unmanaged<Timer>.fromOpaque(retained!).release()
    }
}
