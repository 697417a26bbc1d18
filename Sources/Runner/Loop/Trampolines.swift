import CUV

/// Every C callback ward hands to libuv, in one place. Each one recovers its
/// owner from `data` the same way (`owner(of:)`) and calls a method on it;
/// none captures anything (a C function pointer cannot), and none frees
/// memory except the close callbacks, after which libuv never touches the
/// handle again. All run on the loop thread except `workRun`.
enum Trampolines {
    /// The owner object a handle's `data` points at. Every owner stores a
    /// retained reference there for as long as the handle is open, so a
    /// missing one is a broken contract, not a runtime condition.
    static func owner<Owner: AnyObject>(
        _ data: UnsafeMutableRawPointer?, as type: Owner.Type
    ) -> Owner {
        guard let data else { preconditionFailure("libuv handle without its \(Owner.self)") }
        return Unmanaged<Owner>.fromOpaque(data).takeUnretainedValue()
    }

    // MARK: Loop

    /// `uv_walk` callback: counts handles into the `HandleTally` at `arg`.
    static let countHandle: uv_walk_cb = { handle, arg in
        let tally = arg!.assumingMemoryBound(to: HandleTally.self)
        if tally.pointee.countClosing || uv_is_closing(handle) == 0 {
            tally.pointee.count += 1
        }
    }

    /// Close callback for a handle that never got an owner (a failed open or
    /// spawn): only its memory is left to free.
    static let freeHandle: uv_close_cb = { handle in
        precondition(handle?.pointee.data == nil, "owned handle closed as ownerless")
        UnsafeMutableRawPointer(handle)?.deallocate()
    }

    // MARK: Timer

    /// The timer expired.
    static let timerFired: uv_timer_cb = { handle in
        let timer = owner(handle!.pointee.data, as: Timer.self)
        // Hold the closure: the timer may be closed (and drop it) inside.
        let fire = timer.onFire
        fire?()
    }

    /// The timer's close finished.
    static let timerClosed: uv_close_cb = { handle in
        owner(handle!.pointee.data, as: Timer.self).closed()
    }

    // MARK: Signal

    /// A watched signal arrived.
    static let signalArrived: uv_signal_cb = { handle, _ in
        let watcher = owner(handle!.pointee.data, as: SignalWatcher.self)
        if let signal = watcher.signal, let handler = watcher.onSignal {
            handler(signal)
        }
    }

    /// The signal watcher's close finished.
    static let signalClosed: uv_close_cb = { handle in
        owner(handle!.pointee.data, as: SignalWatcher.self).closed()
    }

    // MARK: Pipe

    /// libuv wants a buffer to read into: always the pipe's own.
    static let pipeAlloc: uv_alloc_cb = { handle, _, buf in
        let reader = owner(handle!.pointee.data, as: PipeReader.self)
        buf!.pointee = uv_buf_init(
            reader.buffer.claim().assumingMemoryBound(to: CChar.self),
            UInt32(PipeReader.bufferSize))
    }

    /// A read finished: bytes, EAGAIN (0), EOF or an error.
    static let pipeRead: uv_read_cb = { stream, nread, _ in
        owner(stream!.pointee.data, as: PipeReader.self).received(nread)
    }

    /// The pipe's close finished.
    static let pipeClosed: uv_close_cb = { handle in
        owner(handle!.pointee.data, as: PipeReader.self).closed()
    }

    // MARK: Process

    /// libuv reaped the child.
    static let processExited: uv_exit_cb = { process, status, signal in
        owner(process!.pointee.data, as: ChildProcess.self).exited(status: status, signal: signal)
    }

    /// The process handle's close finished.
    static let processClosed: uv_close_cb = { handle in
        owner(handle!.pointee.data, as: ChildProcess.self).closed()
    }

    // MARK: Work

    /// Runs a job on a pool thread: touches only the job's Sendable item.
    nonisolated static let workRun: uv_work_cb = { request in
        Unmanaged<WorkItem>.fromOpaque(request!.pointee.data).takeUnretainedValue().run()
    }

    /// Back on the loop thread: delivers the result, frees the request.
    static let workDone: uv_after_work_cb = { request, _ in
        let item = Unmanaged<WorkItem>.fromOpaque(request!.pointee.data).takeRetainedValue()
        request!.deallocate()
        item.complete()
    }
}
