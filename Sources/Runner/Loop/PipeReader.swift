import CUV
import Glibc

/// Reads one pipe on the loop: bytes, then end of file or an error. Reading
/// can be paused and resumed, which is how backpressure reaches a child: while
/// paused the pipe fills and the writer blocks in write(2).
public final class PipeReader {
    /// How one read ends.
    public enum End: Equatable, Sendable {
        /// The last writer closed its end.
        case endOfFile
        /// The read failed.
        case failed(UVError)
    }

    /// Size of the read buffer the loop's pipes share (PipeReadBuffer). Linux
    /// pipes hold 64 KiB by default, so one read can empty a full pipe; the
    /// buffer is reused for every read of every pipe, so reading costs this
    /// much however many pipes are open and however much output flows.
    public static let bufferSize = 64 * 1024

    /// The C handle; freed only in the close callback.
    let handle: UnsafeMutablePointer<uv_pipe_t>
    /// The loop's shared read buffer.
    let buffer: PipeReadBuffer
    /// Inode of the pipe, which every process holding either end shows in
    /// /proc/<pid>/fd as `pipe:[inode]`.
    public let inode: UInt64
    /// Called with each chunk; the bytes are valid only during the call.
    public var onBytes: ((UnsafeRawBufferPointer) -> Void)?
    /// Called once, at end of file or on a read error.
    public var onEnd: ((End) -> Void)?
    /// False once `close()` has been called.
    public private(set) var isOpen = true
    /// Whether reading is wanted (started and not paused).
    public private(set) var isReading = false
    /// Set once the end was delivered; nothing is read after it.
    public private(set) var hasEnded = false

    /// Takes ownership of `fd`, the read end of a pipe; the caller must not
    /// close it, even when this throws. It is switched to non-blocking mode.
    public init(loop: EventLoop, fd: Int32) throws(UVError) {
        var info = stat()
        if fstat(fd, &info) != 0 {
            let error = UVError(errno: errno, call: "fstat")
            Glibc.close(fd)
            throw error
        }
        let pipe = UnsafeMutablePointer<uv_pipe_t>.allocate(capacity: 1)
        // uv_pipe_init only fills in the struct on Unix.
        let rc = uv_pipe_init(loop.raw, pipe, 0)
        precondition(rc == 0, "uv_pipe_init failed: \(rc)")
        let opened = uv_pipe_open(pipe, fd)
        if opened < 0 {
            // The handle is on the loop now, so it can only go through a close
            // callback; it has no owner yet, and that callback just frees it.
            pipe.pointee.data = nil
            uv_close(
                UnsafeMutableRawPointer(pipe).assumingMemoryBound(to: uv_handle_t.self),
                Trampolines.freeHandle)
            Glibc.close(fd)
            throw UVError(opened, call: "uv_pipe_open")
        }
        handle = pipe
        buffer = loop.pipeReadBuffer
        inode = UInt64(info.st_ino)
        pipe.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    /// The descriptor libuv reads from, while open.
    public var fileDescriptor: Int32? {
        guard isOpen else { return nil }
        var fd: uv_os_fd_t = -1
        return uv_fileno(rawHandle, &fd) == 0 ? fd : nil
    }

    /// Starts (or resumes) reading.
    public func start() throws(UVError) {
        guard isOpen, !hasEnded, !isReading else { return }
        try UVError.check(
            uv_read_start(streamHandle, Trampolines.pipeAlloc, Trampolines.pipeRead),
            "uv_read_start")
        isReading = true
    }

    /// Stops reading until `resume()`; the writer blocks once the pipe is full.
    public func pause() {
        guard isOpen, isReading else { return }
        uv_read_stop(streamHandle)
        isReading = false
    }

    /// Resumes reading after `pause()`.
    public func resume() throws(UVError) {
        try start()
    }

    /// Reads whatever the pipe holds right now without waiting, delivering it
    /// through `onBytes`, at most `limit` bytes. Used just before a pipe is
    /// force-closed so bytes already written are not thrown away.
    public func drainAvailable(limit: Int) {
        guard isOpen, !hasEnded, let fd = fileDescriptor else { return }
        var left = limit
        while left > 0 {
            let bytes = buffer.claim()
            defer { buffer.release() }
            let n = read(fd, bytes, min(left, PipeReader.bufferSize))
            if n <= 0 { break }  // EAGAIN, EOF or an error: nothing more now.
            onBytes?(UnsafeRawBufferPointer(start: bytes, count: n))
            left -= n
        }
    }

    /// Closes the pipe (our read end). Harmless to call again.
    public func close() {
        guard isOpen else { return }
        isOpen = false
        isReading = false
        onBytes = nil
        onEnd = nil
        uv_close(rawHandle, Trampolines.pipeClosed)
    }

    /// The handle as a stream, for the read calls.
    var streamHandle: UnsafeMutablePointer<uv_stream_t> {
        UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self)
    }

    /// The handle as the base type libuv's generic calls take.
    var rawHandle: UnsafeMutablePointer<uv_handle_t> {
        UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)
    }

    /// Called by the read trampoline with libuv's result.
    func received(_ nread: Int) {
        // libuv calls back exactly once for each buffer it asked for, so the
        // claim made in the alloc callback ends here, whatever the result.
        if nread > 0 {
            defer { buffer.release() }
            onBytes?(UnsafeRawBufferPointer(start: buffer.bytes, count: nread))
            return
        }
        buffer.release()
        if nread == 0 { return }  // EAGAIN: libuv retries by itself.
        // Any end stops reading: libuv keeps calling on EOF otherwise.
        uv_read_stop(streamHandle)
        isReading = false
        hasEnded = true
        let end: End =
            nread == Int(UV_EOF.rawValue)
            ? .endOfFile : .failed(UVError(Int32(nread), call: "uv_read"))
        let handler = onEnd
        onEnd = nil
        handler?(end)
    }

    /// Called by the close trampoline: frees the handle, drops the +1.
    func closed() {
        let retained = handle.pointee.data
        handle.deallocate()
        Unmanaged<PipeReader>.fromOpaque(retained!).release()
    }
}
