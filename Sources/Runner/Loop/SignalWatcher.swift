import CUV
import Glibc

/// The signals ward watches. A closed set: ward handles shutdown requests and
/// child exits, and nothing else should be turned into a loop event.
public enum WatchedSignal: Sendable, CaseIterable {
    /// SIGTERM: the service manager asks ward to stop.
    case terminate
    /// SIGINT: Ctrl-C at a terminal.
    case interrupt
    /// SIGHUP: reload request or a closed terminal.
    case hangup
    /// SIGCHLD: a child (or an adopted orphan) changed state.
    case childExit

    /// The signal number.
    public var number: Int32 {
        switch self {
        case .terminate: SIGTERM
        case .interrupt: SIGINT
        case .hangup: SIGHUP
        case .childExit: SIGCHLD
        }
    }
}

/// A libuv signal watcher: the signal arrives as a callback on the loop
/// thread instead of in an async-signal handler.
public final class SignalWatcher {
    /// The C handle; freed only in the close callback.
    let handle: UnsafeMutablePointer<uv_signal_t>
    /// The signal being watched, once started.
    public private(set) var signal: WatchedSignal?
    /// Called on each delivery; dropped on close.
    var onSignal: ((WatchedSignal) -> Void)?
    /// False once `close()` has been called.
    public private(set) var isOpen = true

    /// A stopped watcher on `loop`.
    public init(loop: EventLoop) {
        handle = .allocate(capacity: 1)
        // uv_signal_init only fails when libuv cannot make its signal pipe,
        // which means the process is out of descriptors at start-up.
        let rc = uv_signal_init(loop.raw, handle)
        precondition(rc == 0, "uv_signal_init failed: \(UVError(rc, call: "uv_signal_init"))")
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    /// Starts watching `signal`; `handler` runs on the loop thread each time.
    public func start(
        _ signal: WatchedSignal, handler: @escaping (WatchedSignal) -> Void
    ) throws(UVError) {
        precondition(isOpen, "start() on a closed signal watcher")
        self.signal = signal
        onSignal = handler
        try UVError.check(
            uv_signal_start(handle, Trampolines.signalArrived, signal.number), "uv_signal_start")
    }

    /// Stops watching; the process-wide disposition goes back to libuv's default.
    public func stop() {
        guard isOpen else { return }
        uv_signal_stop(handle)
    }

    /// Keeps the watcher from holding `run()` open by itself.
    public func unref() {
        guard isOpen else { return }
        uv_unref(rawHandle)
    }

    /// Closes the handle; harmless to call again.
    public func close() {
        guard isOpen else { return }
        isOpen = false
        onSignal = nil
        uv_close(rawHandle, Trampolines.signalClosed)
    }

    /// The handle as the base type libuv's generic calls take.
    var rawHandle: UnsafeMutablePointer<uv_handle_t> {
        UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)
    }

    /// Called by the close trampoline: frees the handle and drops the +1.
    func closed() {
        let retained = handle.pointee.data
        handle.deallocate()
        Unmanaged<SignalWatcher>.fromOpaque(retained!).release()
    }
}
