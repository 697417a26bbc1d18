/// A byte stream to a server, opened on the loop without blocking: name
/// lookup, TCP (each address in turn), an optional HTTP CONNECT tunnel, and
/// TLS (or plain TCP when `tls` is nil). It is what the websocket layer
/// reads and writes.
///
/// Contract, all on the loop thread:
/// - `open` returns the stream at once and calls its completion exactly
///   once, from a later callback: with the stream when bytes can flow, or
///   with the error. (Only a lookup libuv refuses to even queue fails before
///   `open` returns.) There is no overall timeout: the caller arms a
///   `Timer` and calls `close()`, which makes the completion report
///   `.cancelled`.
/// - Once open, `onBytes` gets plaintext (valid only during the call) and
///   `onEnd` is called once: `.closed` for a clean end (close_notify, or FIN
///   on plain TCP), `.truncated` when TLS ended without close_notify (treat
///   as abnormal), `.failed` on an error, after which the stream has closed
///   itself. After `.closed` or `.truncated`, call `close()`.
/// - `write` (only once open) queues bytes in order through one queue; its
///   completion runs once they are handed to the kernel, or with the error.
///   `queuedBytes` is what the caller's high and low water marks compare
///   against.
/// - `close()` is graceful: queued writes go out, then close_notify, then
///   FIN, then the socket closes when the peer ends too or after
///   `closeGrace`. No callback but the close completion runs after it.
/// - The process must ignore SIGPIPE (`ProcessSetup.apply` does).
public final class SecureStream {
    /// How the stream's incoming side ended.
    public enum End: Equatable, Sendable {
        /// The peer closed cleanly: close_notify over TLS, FIN on plain TCP.
        case closed
        /// TLS only: the TCP connection ended without close_notify, so the
        /// data may be cut short.
        case truncated
        /// Reading, writing or TLS failed; the stream is closed.
        case failed(SecureStreamError)
    }

    /// Where the stream is in its life.
    enum Phase: Equatable {
        /// Looking up the host (or the proxy's host).
        case resolving
        /// Trying the addresses.
        case connecting
        /// Waiting for the proxy's answer to CONNECT.
        case proxying
        /// The TLS handshake is running.
        case handshaking
        /// Bytes flow both ways.
        case open
        /// A graceful close is flushing, sending close_notify and FIN.
        case closing
        /// Everything is closed; nothing more happens.
        case closed
    }

    /// Most bytes `write` accepts while earlier ones are still queued. The
    /// caller's own high water mark sits far below; this only stops a caller
    /// that ignores `queuedBytes` from growing memory without end.
    public static let maximumQueuedBytes = 16 * 1024 * 1024
    /// How long a graceful close waits, in milliseconds, for queued bytes
    /// to go out and the peer to finish before the socket is closed anyway:
    /// long enough for a close frame and close_notify on a slow link, short
    /// enough not to hold up ward's shutdown.
    public static let closeGrace: UInt64 = 2_000

    /// The loop everything runs on.
    let loop: EventLoop
    /// The server's host name or IP literal; TLS verifies against it.
    public let host: String
    /// The server's port.
    public let port: UInt16
    /// TLS settings, or nil for plain TCP.
    let tlsContext: TLSContext?
    /// The proxy to tunnel through, if any.
    let proxy: ProxyTarget?
    /// Per-address TCP connect timeout, in milliseconds.
    let attemptTimeout: UInt64

    /// Where the stream is.
    var phase = Phase.resolving
    /// The lookup in progress.
    var resolver: Resolver?
    /// The socket, once connecting.
    var tcp: TCPConnection?
    /// The TLS session, from the handshake on.
    var session: TLSSession?
    /// Reads the proxy's answer while `phase == .proxying`.
    var proxyParser: HTTPConnectProxy.ResponseParser?
    /// The open completion, until it has run.
    var openCompletion: ((Result<SecureStream, SecureStreamError>) -> Void)?
    /// The close completion, until it has run.
    var closeCompletion: (() -> Void)?
    /// Bounds a graceful close.
    var closeTimer: Timer?
    /// The TLS write queue and its accounting.
    var output = OutputQueue()
    /// Whether `onEnd` has been called.
    var endDelivered = false
    /// Whether the peer's FIN (or a read error) arrived.
    var peerEnded = false
    /// Whether our FIN went out (the shutdown request completed).
    var shutdownDone = false
    /// Whether the caller paused reading.
    var userPaused = false
    /// Guards against re-entering `drive` from a callback it made.
    var driving = false

    /// Called with plaintext; the bytes are valid only during the call.
    public var onBytes: ((UnsafeRawBufferPointer) -> Void)?
    /// Called once when the incoming side ends.
    public var onEnd: ((End) -> Void)?

    /// Opens a stream to `host:port`: through `proxy` when given, with TLS
    /// from `tls` unless it is nil. See the type's contract.
    @discardableResult
    public static func open(
        loop: EventLoop, host: String, port: UInt16, tls: TLSContext?, proxy: ProxyTarget?,
        attemptTimeout: UInt64 = TCPConnection.defaultAttemptTimeout,
        completion: @escaping (Result<SecureStream, SecureStreamError>) -> Void
    ) -> SecureStream {
        let stream = SecureStream(
            loop: loop, host: host, port: port, tls: tls, proxy: proxy,
            attemptTimeout: attemptTimeout, completion: completion)
        stream.start()
        return stream
    }

    private init(
        loop: EventLoop, host: String, port: UInt16, tls: TLSContext?, proxy: ProxyTarget?,
        attemptTimeout: UInt64,
        completion: @escaping (Result<SecureStream, SecureStreamError>) -> Void
    ) {
        self.loop = loop
        self.host = host
        self.port = port
        self.tlsContext = tls
        self.proxy = proxy
        self.attemptTimeout = attemptTimeout
        self.openCompletion = completion
    }

    /// Whether bytes can be written (open, not closing).
    public var isOpen: Bool { phase == .open }

    /// The negotiated TLS version (`TLSv1.3`), nil for plain TCP or before
    /// the handshake.
    public var tlsVersion: String? { session?.protocolVersion }

    /// Bytes accepted by `write` and not yet handed to the kernel; the part
    /// already encrypted counts with its TLS overhead.
    public var queuedBytes: Int {
        output.plaintextBytes + (session?.pendingOutput ?? 0) + (tcp?.queuedBytes ?? 0)
    }

    /// Stops reading from the socket until `resume()`. Bytes already read
    /// are still delivered.
    public func pause() {
        userPaused = true
        updateReading()
    }

    /// Reads again after `pause()`.
    public func resume() {
        userPaused = false
        updateReading()
        if session?.inputBacklog ?? 0 > 0 { drive() }
    }

    /// Closes gracefully (see the type's contract); before the stream has
    /// opened, cancels it. `completion` runs once the socket is closed.
    /// Calling it again changes nothing but adds its completion.
    public func close(completion: (() -> Void)? = nil) {
        switch phase {
        case .closed:
            completion?()
        case .closing:
            let earlier = closeCompletion
            closeCompletion = {
                earlier?()
                completion?()
            }
        case .resolving, .connecting, .proxying, .handshaking:
            closeCompletion = completion
            let opened = openCompletion
            openCompletion = nil
            finish(.cancelled)
            opened?(.failure(.cancelled))
        case .open:
            closeCompletion = completion
            phase = .closing
            onBytes = nil
            onEnd = nil
            let timer = Timer(loop: loop)
            closeTimer = timer
            timer.start(after: SecureStream.closeGrace) { [unowned self] in self.finish(.closed) }
            pump()
        }
    }

    // MARK: Reading

    /// Bytes from the socket.
    func received(_ bytes: UnsafeRawBufferPointer) {
        switch phase {
        case .proxying:
            proxyAnswered(bytes)
        case .handshaking, .open, .closing:
            if let session {
                session.feed(bytes)
                drive()
            } else if phase == .open {
                onBytes?(bytes)
            }
        case .resolving, .connecting, .closed:
            break
        }
    }

    /// Runs TLS over the received bytes: handshake, then decryption, until
    /// it needs more input or output space; then sends what it produced.
    func drive() {
        guard let session, !driving else { return }
        driving = true
        defer { driving = false }
        while phase == .handshaking || phase == .open || phase == .closing {
            let progress: TLSSession.Progress
            do {
                progress = try session.process { [self] plaintext in
                    if phase == .open && !endDelivered { onBytes?(plaintext) }
                }
            } catch {
                fail(.tls(host: host, port: port, error))
                return
            }
            if progress == .handshakeComplete {
                phase = .open
                succeedOpen()
                continue
            }
            if progress == .needOutputSpace && flushOutput() > 0 { continue }
            if progress == .peerClosed && phase == .open { deliverEnd(.closed) }
            break
        }
        updateReading()
        pump()
    }

    /// The socket's reading ended.
    func socketEnded(_ end: TCPConnection.End) {
        peerEnded = true
        if case .failed(let error) = end {
            if phase == .closing {
                finish(.closed)
            } else {
                fail(.io(host: host, port: port, error))
            }
            return
        }
        switch phase {
        case .proxying:
            fail(.proxy(ProxyError(proxy: proxy!.description, target: target, kind: .closedEarly)))
        case .handshaking:
            fail(
                .tls(
                    host: host, port: port,
                    TLSError(
                        stage: .handshake, call: "uv_read",
                        summary: "the server closed the connection during the TLS handshake",
                        reasons: [], verifyResult: nil)))
        case .open:
            let clean = session.map { $0.receivedCloseNotify } ?? true
            deliverEnd(clean ? .closed : .truncated)
        case .closing:
            finishIfClosed()
        case .resolving, .connecting, .closed:
            break
        }
    }

    /// Reads from the socket unless the caller paused or TLS input is backed
    /// up behind a full outgoing buffer.
    func updateReading() {
        guard let tcp, tcp.isConnected else { return }
        if userPaused || session?.inputBacklog ?? 0 > 0 {
            tcp.pause()
        } else {
            tcp.resume()
        }
    }

    /// Calls `onEnd` once.
    private func deliverEnd(_ end: End) {
        guard !endDelivered else { return }
        endDelivered = true
        let handler = onEnd
        onEnd = nil
        onBytes = nil
        handler?(end)
    }

    // MARK: Ending

    /// Ends the stream on an error: reports it to whoever waits, closes.
    func fail(_ error: SecureStreamError) {
        switch phase {
        case .closed:
            return
        case .resolving, .connecting, .proxying, .handshaking:
            let opened = openCompletion
            openCompletion = nil
            finish(error)
            opened?(.failure(error))
        case .open:
            let handler = endDelivered ? nil : onEnd
            endDelivered = true
            finish(error)
            handler?(.failed(error))
        case .closing:
            finish(error)
        }
    }

    /// Closes the socket once a graceful close has sent everything and the
    /// peer has ended too.
    func finishIfClosed() {
        if phase == .closing && shutdownDone && peerEnded { finish(.closed) }
    }

    /// Closes everything now; queued writes complete with `error`.
    func finish(_ error: SecureStreamError) {
        guard phase != .closed else { return }
        phase = .closed
        resolver?.cancel()
        resolver = nil
        closeTimer?.close()
        closeTimer = nil
        tcp?.close()
        tcp = nil
        session = nil
        proxyParser = nil
        onBytes = nil
        onEnd = nil
        let pending = output.removeAll()
        for completion in pending { completion?(error == .cancelled ? .closed : error) }
        let closed = closeCompletion
        closeCompletion = nil
        closed?()
    }
}
