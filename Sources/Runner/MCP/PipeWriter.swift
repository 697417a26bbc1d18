import CUV
import Glibc

// This owner of a libuv handle belongs in `Loop/` next to `PipeReader`; it
// lives here only because the MCP server is its first user and was built while
// `Loop/` had another owner. Moving it changes nothing but its folder.

/// Writes to one pipe (or socket) on the loop: each `write` is one `uv_write`
/// of a private copy, so writes go out whole and in order and never block the
/// loop. A slow reader makes the queue grow; `queuedBytes` tells the owner when
/// to stop producing.
public final class PipeWriter {
    /// The C handle; freed only in the close callback.
    let handle: UnsafeMutablePointer<uv_pipe_t>
    /// False once `close()` has been called.
    public private(set) var isOpen = true
    /// The first write error (EPIPE once the reader is gone); later writes are
    /// dropped.
    public private(set) var failure: UVError?
    /// Writes handed to libuv whose callback has not run yet.
    public private(set) var pendingWrites = 0
    /// Called after each write completes (or fails), on the loop thread.
    public var onWritten: (() -> Void)?

    /// Takes ownership of `fd`, the write end of a pipe or a socket; the
    /// caller must not close it, even when this throws. libuv switches it to
    /// non-blocking mode.
    public init(loop: EventLoop, fd: Int32) throws(UVError) {
        let pipe = UnsafeMutablePointer<uv_pipe_t>.allocate(capacity: 1)
        // uv_pipe_init only fills in the struct on Unix.
        let rc = uv_pipe_init(loop.raw, pipe, 0)
        precondition(rc == 0, "uv_pipe_init failed: \(rc)")
        let opened = uv_pipe_open(pipe, fd)
        if opened < 0 {
            // On the loop now, the handle can only go through a close callback;
            // it has no owner yet, and that callback just frees it.
            pipe.pointee.data = nil
            uv_close(
                UnsafeMutableRawPointer(pipe).assumingMemoryBound(to: uv_handle_t.self),
                Trampolines.freeHandle)
            Glibc.close(fd)
            throw UVError(opened, call: "uv_pipe_open")
        }
        handle = pipe
        pipe.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    /// Bytes handed to `write` that the kernel has not taken yet.
    public var queuedBytes: Int {
        guard isOpen else { return 0 }
        return uv_stream_get_write_queue_size(streamHandle)
    }

    /// Queues a copy of `bytes` as one write. Dropped after a failure or close.
    public func write(_ bytes: [UInt8]) {
        guard isOpen, failure == nil, !bytes.isEmpty else { return }
        bytes.withUnsafeBytes { raw in
            let pending = PendingWrite(copying: raw) { [weak self] error in
                self?.completed(error)
            }
            let request = UnsafeMutablePointer<uv_write_t>.allocate(capacity: 1)
            request.pointee.data = Unmanaged.passRetained(pending).toOpaque()
            var buf = uv_buf_init(
                pending.storage.baseAddress?.assumingMemoryBound(to: CChar.self),
                UInt32(pending.count))
            pendingWrites += 1
            // The same completion trampoline as TCP: it only frees the request
            // and runs the pending write's completion.
            let rc = uv_write(request, streamHandle, &buf, 1, Trampolines.tcpWritten)
            if rc < 0 {
                Unmanaged<PendingWrite>.fromOpaque(request.pointee.data).release()
                request.deallocate()
                completed(UVError(rc, call: "uv_write"))
            }
        }
    }

    /// Closes the pipe; queued writes complete with ECANCELED. Harmless to
    /// call again.
    public func close() {
        guard isOpen else { return }
        isOpen = false
        uv_close(
            UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self),
            Trampolines.pipeWriterClosed)
    }

    /// The handle as a stream, for the write calls.
    var streamHandle: UnsafeMutablePointer<uv_stream_t> {
        UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self)
    }

    /// One write finished.
    private func completed(_ error: UVError?) {
        pendingWrites -= 1
        if let error, failure == nil { failure = error }
        onWritten?()
    }

    /// Called by the close trampoline: frees the handle and drops the +1.
    func closed() {
        let retained = handle.pointee.data
        handle.deallocate()
        onWritten = nil
        Unmanaged<PipeWriter>.fromOpaque(retained!).release()
    }
}

extension Trampolines {
    /// A pipe writer's close finished.
    static let pipeWriterClosed: uv_close_cb = { handle in
        owner(handle!.pointee.data, as: PipeWriter.self).closed()
    }
}
