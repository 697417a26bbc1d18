import CUV
import Glibc

/// No address of a host accepted a TCP connection: the host and port asked
/// for, and what went wrong with each address, in the order tried.
nonisolated public struct TCPConnectError: Error, Equatable, Sendable, CustomStringConvertible {
    /// One address that was tried.
    public struct Attempt: Equatable, Sendable {
        /// The address.
        public let address: NetworkAddress
        /// Why it failed: ECONNREFUSED, ETIMEDOUT, ENETUNREACH, ...
        public let error: UVError
    }

    /// The host name (or literal) the addresses belong to.
    public let host: String
    /// The port every address was tried on.
    public let port: UInt16
    /// Every address tried, in order.
    public let attempts: [Attempt]

    /// `cannot connect to host:port: 127.0.0.1:port: connection refused
    /// (ECONNREFUSED); ...`
    public var description: String {
        let tried = attempts.map {
            "\($0.address.endpoint(port: port)): \($0.error.message) (\($0.error.name))"
        }
        let target = NetworkAddress(literal: host)?.endpoint(port: port) ?? "\(host):\(port)"
        return "cannot connect to \(target): " + tried.joined(separator: "; ")
    }
}

/// One TCP connection, client side: connects by trying each address in turn,
/// then reads into one reusable buffer and writes through libuv's queue. It
/// owns its `uv_tcp_t` (a fresh one per connect attempt, since a socket that
/// failed to connect cannot be reused) and keeps itself alive while a handle
/// is open; handle memory is freed only in the close callback.
public final class TCPConnection {
    /// How a connected stream's reading ends.
    public enum End: Equatable, Sendable {
        /// The peer sent FIN; writing may still work until `close()`.
        case endOfFile
        /// The read failed (ECONNRESET, ...).
        case failed(UVError)
    }

    /// Size of the one read buffer: a loopback or LAN read rarely returns
    /// more, and the buffer is reused for every read, so a connection costs
    /// this much however much flows.
    public static let readBufferSize = 64 * 1024
    /// How long one address may take to connect before the next is tried, in
    /// milliseconds. A lost SYN is retransmitted after 1 s and 3 s, so this
    /// lets a slow but live host answer, while a host whose first address is
    /// black-holed still gets its other addresses tried well within a minute.
    public static let defaultAttemptTimeout: UInt64 = 10_000

    /// Where the connection lives.
    let loop: EventLoop
    /// The per-address connect timeout in milliseconds.
    let attemptTimeout: UInt64
    /// The reusable read buffer; freed with the connection.
    nonisolated(unsafe) let buffer: UnsafeMutableRawPointer
    /// The current handle: the attempt in progress, or the connected stream.
    var handle: UnsafeMutablePointer<uv_tcp_t>?
    /// The connect in progress, if any.
    var connecting: ConnectPlan?
    /// Called with each chunk read; the bytes are valid only during the call.
    public var onBytes: ((UnsafeRawBufferPointer) -> Void)?
    /// Called once when reading ends.
    public var onEnd: ((End) -> Void)?
    /// Whether a connect succeeded and `close()` has not been called.
    public private(set) var isConnected = false
    /// Whether `close()` has been called.
    public private(set) var isClosed = false
    /// Whether reading is paused by `pause()`.
    public private(set) var isPaused = false
    /// Whether reading has ended (EOF or error).
    public private(set) var hasEnded = false
    /// Whether libuv is reading the stream now.
    private var isReading = false

    /// An unconnected connection on `loop`; `attemptTimeout` bounds each
    /// address's connect, in milliseconds.
    public init(loop: EventLoop, attemptTimeout: UInt64 = TCPConnection.defaultAttemptTimeout) {
        self.loop = loop
        self.attemptTimeout = attemptTimeout
        buffer = .allocate(byteCount: TCPConnection.readBufferSize, alignment: 16)
    }

    deinit {
        buffer.deallocate()
    }

    /// Connects to `port` on the first of `addresses` that accepts, trying
    /// them in order, each for at most the attempt timeout; `host` names them
    /// in the error. Then sets TCP_NODELAY (small request/answer exchanges
    /// otherwise stall on Nagle meeting delayed ACKs) and starts reading.
    /// `completion` runs once on the loop thread, unless `close()` comes first.
    public func connect(
        host: String, addresses: [NetworkAddress], port: UInt16,
        completion: @escaping (Result<Void, TCPConnectError>) -> Void
    ) {
        precondition(connecting == nil && !isConnected && !isClosed, "connect() called twice")
        precondition(!addresses.isEmpty, "connect() without addresses")
        let timer = Timer(loop: loop)
        connecting = ConnectPlan(
            host: host, port: port, remaining: addresses, timer: timer, completion: completion)
        startAttempt()
    }

    /// Stops reading until `resume()`.
    public func pause() {
        isPaused = true
        guard isReading, let stream else { return }
        uv_read_stop(stream)
        isReading = false
    }

    /// Reads again after `pause()`.
    public func resume() {
        isPaused = false
        startReading()
    }

    /// Bytes handed to `write` that the kernel has not taken yet.
    public var queuedBytes: Int {
        guard let stream else { return 0 }
        return uv_stream_get_write_queue_size(stream)
    }

    /// Queues a copy of `bytes`; the copy lives until libuv's write callback,
    /// where `completion` runs with nil or the error. Writes go out in order.
    public func write(
        _ bytes: UnsafeRawBufferPointer, completion: ((UVError?) -> Void)? = nil
    ) {
        queue(PendingWrite(copying: bytes, completion: completion))
    }

    /// Queues the first `count` bytes of `buffer`, which the connection takes
    /// over (no copy) and deallocates once written; see `write(_:completion:)`.
    public func write(
        taking buffer: UnsafeMutableRawBufferPointer, count: Int,
        completion: ((UVError?) -> Void)? = nil
    ) {
        queue(PendingWrite(taking: buffer, count: count, completion: completion))
    }

    private func queue(_ pending: PendingWrite) {
        precondition(isConnected, "write() on a connection that is not connected")
        let completion = pending.completion
        let request = UnsafeMutablePointer<uv_write_t>.allocate(capacity: 1)
        request.pointee.data = Unmanaged.passRetained(pending).toOpaque()
        var buf = uv_buf_init(
            pending.storage.baseAddress?.assumingMemoryBound(to: CChar.self),
            UInt32(pending.count))
        let rc = uv_write(request, stream, &buf, 1, Trampolines.tcpWritten)
        if rc < 0 {
            Unmanaged<PendingWrite>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            completion?(UVError(rc, call: "uv_write"))
        }
    }

    /// Queues a copy of `bytes`; see `write(_:completion:)`.
    public func write(_ bytes: [UInt8], completion: ((UVError?) -> Void)? = nil) {
        bytes.withUnsafeBytes { write($0, completion: completion) }
    }

    /// Sends FIN once every queued write is out; `completion` gets nil or the
    /// error. Reading goes on.
    public func shutdown(completion: ((UVError?) -> Void)? = nil) {
        precondition(isConnected, "shutdown() on a connection that is not connected")
        let request = UnsafeMutablePointer<uv_shutdown_t>.allocate(capacity: 1)
        request.pointee.data = Unmanaged.passRetained(ShutdownRequest(completion)).toOpaque()
        let rc = uv_shutdown(request, stream, Trampolines.tcpShutDown)
        if rc < 0 {
            Unmanaged<ShutdownRequest>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            completion?(UVError(rc, call: "uv_shutdown"))
        }
    }

    /// Closes the connection, or cancels a connect in progress (whose
    /// completion then never runs). Queued writes complete with ECANCELED.
    /// Harmless to call again.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        isConnected = false
        isReading = false
        onBytes = nil
        onEnd = nil
        if let plan = connecting {
            connecting = nil
            plan.timer.close()
        }
        closeCurrentHandle()
    }

    /// The current handle as a stream.
    var stream: UnsafeMutablePointer<uv_stream_t>? {
        // Not `handle.map`: a closure here is called on every write.
        guard let handle else { return nil }
        return UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self)
    }

    /// Starts (or restarts) reading when connected, not paused and not ended.
    private func startReading() {
        guard isConnected, !isPaused, !hasEnded, !isReading, let stream else { return }
        let rc = uv_read_start(stream, Trampolines.tcpAlloc, Trampolines.tcpRead)
        // Fails only on a closing handle, which isConnected rules out.
        precondition(rc == 0, "uv_read_start failed: \(rc)")
        isReading = true
    }

    /// Closes the current handle; its close callback frees it.
    private func closeCurrentHandle() {
        guard let current = handle else { return }
        handle = nil
        uv_close(
            UnsafeMutableRawPointer(current).assumingMemoryBound(to: uv_handle_t.self),
            Trampolines.tcpClosed)
    }

    // MARK: Connecting

    /// Tries the next address, or fails once none is left.
    private func startAttempt() {
        guard var plan = connecting else { return }
        guard !plan.remaining.isEmpty else {
            connecting = nil
            plan.timer.close()
            plan.completion(
                .failure(TCPConnectError(host: plan.host, port: plan.port, attempts: plan.failed)))
            return
        }
        let address = plan.remaining.removeFirst()
        plan.current = address
        connecting = plan

        let tcp = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
        // uv_tcp_init only fills in the struct; the socket comes at connect.
        let initialised = uv_tcp_init(loop.raw, tcp)
        precondition(initialised == 0, "uv_tcp_init failed: \(initialised)")
        tcp.pointee.data = Unmanaged.passRetained(self).toOpaque()
        handle = tcp

        let request = UnsafeMutablePointer<uv_connect_t>.allocate(capacity: 1)
        request.pointee.data = nil
        let rc = address.withSockaddr(port: plan.port) {
            uv_tcp_connect(request, tcp, $0, Trampolines.tcpConnected)
        }
        if rc < 0 {
            request.deallocate()
            attemptFailed(UVError(rc, call: "uv_tcp_connect"))
            return
        }
        plan.timer.start(after: attemptTimeout) { [unowned self] in
            self.attemptFailed(UVError(UV_ETIMEDOUT.rawValue, call: "uv_tcp_connect"))
        }
    }

    /// Records why the current address failed, drops its handle and moves on.
    private func attemptFailed(_ error: UVError) {
        guard var plan = connecting, let address = plan.current else { return }
        plan.timer.stop()
        plan.failed.append(TCPConnectError.Attempt(address: address, error: error))
        plan.current = nil
        connecting = plan
        // A connect still pending on this handle completes with ECANCELED
        // during the close; `connected` sees the handle is no longer current.
        closeCurrentHandle()
        startAttempt()
    }

    /// Called by the connect trampoline for `tcp`, current or not.
    func connected(_ tcp: UnsafeMutablePointer<uv_stream_t>, status: Int32) {
        guard let plan = connecting, let current = stream, current == tcp else { return }
        if status < 0 {
            attemptFailed(UVError(status, call: "uv_tcp_connect"))
            return
        }
        connecting = nil
        plan.timer.close()
        isConnected = true
        // Best effort: a socket that refuses the option still works, slower.
        _ = uv_tcp_nodelay(handle, 1)
        startReading()
        plan.completion(.success(()))
    }

    // MARK: Reading and closing

    /// Called by the read trampoline with libuv's result.
    func received(_ nread: Int) {
        if nread > 0 {
            onBytes?(UnsafeRawBufferPointer(start: buffer, count: nread))
            return
        }
        if nread == 0 { return }  // EAGAIN: libuv retries by itself.
        // Any end stops reading: libuv keeps calling on EOF otherwise.
        if let stream { uv_read_stop(stream) }
        isReading = false
        hasEnded = true
        let end: End =
            nread == Int(UV_EOF.rawValue)
            ? .endOfFile : .failed(UVError(Int32(nread), call: "uv_read"))
        let handler = onEnd
        onEnd = nil
        handler?(end)
    }

    /// Called by the close trampoline for one of this connection's handles:
    /// frees it and drops the +1 it held.
    func closed(_ tcp: UnsafeMutablePointer<uv_handle_t>) {
        let retained = tcp.pointee.data
        tcp.deallocate()
        Unmanaged<TCPConnection>.fromOpaque(retained!).release()
    }
}

/// The state of one `connect` call.
struct ConnectPlan {
    /// The host name, for the error.
    let host: String
    /// The port every address is tried on.
    let port: UInt16
    /// Addresses not tried yet.
    var remaining: [NetworkAddress]
    /// The address being tried.
    var current: NetworkAddress?
    /// Addresses that failed, with why.
    var failed: [TCPConnectError.Attempt] = []
    /// Bounds each attempt; closed when the connect ends.
    let timer: Timer
    /// The caller's completion.
    let completion: (Result<Void, TCPConnectError>) -> Void

    /// A plan to try `remaining` in order, each bounded by `timer`.
    init(
        host: String, port: UInt16, remaining: [NetworkAddress], timer: Timer,
        completion: @escaping (Result<Void, TCPConnectError>) -> Void
    ) {
        self.host = host
        self.port = port
        self.remaining = remaining
        self.timer = timer
        self.completion = completion
    }
}

/// One queued write: a private copy of the bytes, alive until libuv's
/// callback, and the caller's completion.
final class PendingWrite {
    /// The buffer libuv writes from (owned: deallocated with the write).
    nonisolated(unsafe) let storage: UnsafeMutableRawBufferPointer
    /// How many of its bytes are written.
    let count: Int
    /// Called from the write callback.
    let completion: ((UVError?) -> Void)?

    /// Copies `source` for libuv to write from.
    init(copying source: UnsafeRawBufferPointer, completion: ((UVError?) -> Void)?) {
        storage = .allocate(byteCount: source.count, alignment: 1)
        storage.copyMemory(from: source)
        count = source.count
        self.completion = completion
    }

    /// Takes over `buffer`, of which the first `count` bytes are written.
    init(
        taking buffer: UnsafeMutableRawBufferPointer, count: Int,
        completion: ((UVError?) -> Void)?
    ) {
        precondition(count >= 0 && count <= buffer.count, "write count outside its buffer")
        storage = buffer
        self.count = count
        self.completion = completion
    }

    deinit {
        storage.deallocate()
    }
}

/// A queued shutdown's completion.
final class ShutdownRequest {
    /// Called from the shutdown callback.
    let completion: ((UVError?) -> Void)?

    /// Holds `completion` until the shutdown callback.
    init(_ completion: ((UVError?) -> Void)?) {
        self.completion = completion
    }
}
