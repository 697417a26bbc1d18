import COpenSSL

/// One TLS client session driven entirely in memory: received ciphertext is
/// fed in, ciphertext to send is read out, and plaintext is delivered or
/// taken, so the socket work stays on the loop. It owns one `SSL` joined to
/// a BIO pair whose two buffers are the session's only queues, both bounded.
///
/// OpenSSL's WANT_READ and WANT_WRITE are states here, never errors: they
/// surface as `Progress.needInput` / `.needOutputSpace` and
/// `WriteResult.blocked`. Partial-write mode stays off, so a blocked write
/// must be retried with the very same bytes (same address, same length);
/// the session checks that, since a moved or changed retry corrupts the
/// stream ("bad write retry"). The caller is the one writer.
public final class TLSSession {
    /// What `process` stopped on.
    public enum Progress: Equatable, Sendable {
        /// Every received byte was consumed; more ciphertext is needed.
        case needInput
        /// The outgoing buffer is full: send `readOutput` bytes, then call
        /// `process` again.
        case needOutputSpace
        /// The handshake just finished; call `process` again for data.
        case handshakeComplete
        /// The peer sent close_notify: no more data will come.
        case peerClosed
    }

    /// What one `write` did.
    public enum WriteResult: Equatable, Sendable {
        /// All the bytes were encrypted into the outgoing buffer.
        case written
        /// The outgoing buffer is full (or the peer must speak first): send
        /// output, then retry with the same bytes.
        case blocked
    }

    /// Size of each half of the BIO pair. Two full TLS records (16 KiB of
    /// data plus overhead each) fit, so encryption and sending overlap,
    /// while a session holds at most 64 KiB of ciphertext however fast the
    /// caller writes.
    public static let bufferSize = 32 * 1024
    /// Size of the buffer one decrypted record is read into: the TLS record
    /// limit (RFC 8446 section 5.1), so one `SSL_read` takes a whole record.
    static let plaintextChunk = 16 * 1024

    /// The shared settings; held so the `SSL_CTX` outlives the `SSL`.
    let context: TLSContext
    /// The C session; owns the internal half of the BIO pair.
    nonisolated(unsafe) let ssl: OpaquePointer
    /// Our half of the BIO pair: ciphertext in and out.
    nonisolated(unsafe) let network: OpaquePointer
    /// Where `SSL_read` puts plaintext.
    nonisolated(unsafe) let plaintext: UnsafeMutableRawPointer
    /// The name (or IP literal) the certificate must match.
    public let host: String
    /// Received ciphertext that did not fit into the BIO yet.
    var inbox: [UInt8] = []
    /// How much of `inbox` has been moved into the BIO.
    var inboxConsumed = 0
    /// The bytes of a write that returned `.blocked`, which the retry must use.
    var blockedWrite: (start: UnsafeRawPointer?, count: Int)?
    /// How often `write` returned `.blocked`; tests check the retry path ran.
    var blockedWriteCount = 0
    /// Set after a fatal error: OpenSSL forbids further use of the session.
    var hasFailed = false
    /// Whether the handshake finished.
    public private(set) var isHandshakeComplete = false
    /// Whether the peer's close_notify arrived.
    public private(set) var receivedCloseNotify = false
    /// Whether our close_notify is in the outgoing buffer.
    public private(set) var sentCloseNotify = false

    /// A session for `host` (a name, or an IP literal, bracketed or not),
    /// with SNI and name checking set before any byte is sent. IP literals
    /// get no SNI (RFC 6066 allows only names) and are checked against the
    /// certificate's IP addresses.
    public init(context: TLSContext, host: String) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        guard let ssl = SSL_new(context.raw) else {
            throw TLSError.drained(.configuration, call: "SSL_new")
        }
        var inner: OpaquePointer?
        var outer: OpaquePointer?
        guard BIO_new_bio_pair(&inner, TLSSession.bufferSize, &outer, TLSSession.bufferSize) == 1,
            let inner, let outer
        else {
            SSL_free(ssl)
            throw TLSError.drained(.configuration, call: "BIO_new_bio_pair")
        }
        SSL_set_bio(ssl, inner, inner)
        SSL_set_connect_state(ssl)
        self.context = context
        self.ssl = ssl
        self.network = outer
        self.plaintext = .allocate(byteCount: TLSSession.plaintextChunk, alignment: 16)
        self.host = host

        var name = host
        if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name.hasSuffix(".") { name.removeLast() }
        if NetworkAddress(literal: name) != nil {
            if X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) != 1 {
                throw TLSError.drained(.configuration, call: "X509_VERIFY_PARAM_set1_ip_asc")
            }
        } else {
            if copenssl_set_tlsext_host_name(ssl, name) != 1 {
                throw TLSError.drained(.configuration, call: "SSL_set_tlsext_host_name")
            }
            // A wildcard must be a whole label: `*.example.com`, not `w*.example.com`.
            SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            if SSL_set1_host(ssl, name) != 1 {
                throw TLSError.drained(.configuration, call: "SSL_set1_host")
            }
        }
    }

    deinit {
        SSL_free(ssl)  // frees the inner BIO with it
        BIO_free(network)
        plaintext.deallocate()
    }

    /// The negotiated protocol, e.g. `TLSv1.3`, once the handshake is done.
    public var protocolVersion: String? {
        isHandshakeComplete ? String(cString: SSL_get_version(ssl)) : nil
    }

    /// Ciphertext waiting to be sent.
    public var pendingOutput: Int { copenssl_bio_pending(network) }

    /// Received ciphertext not yet taken by OpenSSL. The caller stops reading
    /// the socket while this is not zero, which keeps it bounded.
    public var inputBacklog: Int { inbox.count - inboxConsumed }

    /// Takes received ciphertext; `process` consumes it.
    public func feed(_ bytes: UnsafeRawBufferPointer) {
        if inboxConsumed == inbox.count {
            inbox.removeAll(keepingCapacity: true)
            inboxConsumed = 0
        }
        inbox.append(contentsOf: bytes)
    }

    /// Moves up to `buffer.count` bytes of ciphertext to send into `buffer`;
    /// returns how many.
    public func readOutput(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return 0 }
        let n = BIO_read(network, base, Int32(min(buffer.count, Int(Int32.max))))
        return n > 0 ? Int(n) : 0
    }

    /// Runs the handshake, then decrypts, handing each chunk of plaintext to
    /// `deliver` (valid only during the call), until it needs input or output
    /// space, the handshake finishes, or the peer closes. Throws on a fatal
    /// error, after which the session must only be dropped.
    public func process(
        deliver: (UnsafeRawBufferPointer) -> Void
    ) throws(TLSError) -> Progress {
        precondition(!hasFailed, "TLS session used after a fatal error")
        while true {
            let pushed = pushInbox()
            OpenSSLErrorQueue.clear()
            let rc =
                isHandshakeComplete
                ? SSL_read(ssl, plaintext, Int32(TLSSession.plaintextChunk))
                : SSL_do_handshake(ssl)
            if rc > 0 {
                if !isHandshakeComplete {
                    isHandshakeComplete = true
                    return .handshakeComplete
                }
                deliver(UnsafeRawBufferPointer(start: plaintext, count: Int(rc)))
                continue
            }
            switch SSL_get_error(ssl, rc) {
            case SSL_ERROR_WANT_READ:
                if inputBacklog == 0 { return .needInput }
                // OpenSSL drained the BIO, so the next push has room.
                precondition(pushed > 0 || pushInbox() > 0, "BIO pair accepts no input")
            case SSL_ERROR_WANT_WRITE:
                return .needOutputSpace
            case SSL_ERROR_ZERO_RETURN:
                receivedCloseNotify = true
                if isHandshakeComplete { return .peerClosed }
                hasFailed = true
                throw TLSError.drained(
                    .handshake, call: "SSL_do_handshake",
                    summary: "the peer closed TLS during the handshake")
            default:
                hasFailed = true
                throw failure(handshake: !isHandshakeComplete)
            }
        }
    }

    /// Encrypts all of `bytes` (not empty) into the outgoing buffer, or
    /// returns `.blocked`, after which the next call must pass the same bytes.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(TLSError) -> WriteResult {
        precondition(isHandshakeComplete && !sentCloseNotify, "TLS write outside an open session")
        precondition(!hasFailed, "TLS session used after a fatal error")
        precondition(!bytes.isEmpty && bytes.count <= Int(Int32.max), "TLS write of \(bytes.count)")
        if let blocked = blockedWrite {
            precondition(
                blocked.start == bytes.baseAddress && blocked.count == bytes.count,
                "a blocked TLS write must be retried with the same bytes")
        }
        OpenSSLErrorQueue.clear()
        let n = SSL_write(ssl, bytes.baseAddress, Int32(bytes.count))
        if n > 0 {
            // Without partial-write mode a success covers every byte.
            precondition(Int(n) == bytes.count, "partial TLS write of \(n) of \(bytes.count)")
            blockedWrite = nil
            return .written
        }
        switch SSL_get_error(ssl, n) {
        case SSL_ERROR_WANT_WRITE, SSL_ERROR_WANT_READ:
            blockedWrite = (bytes.baseAddress, bytes.count)
            blockedWriteCount += 1
            return .blocked
        default:
            hasFailed = true
            throw failure(handshake: false, stage: .write, call: "SSL_write")
        }
    }

    /// Puts close_notify into the outgoing buffer; returns false when the
    /// buffer is full (send output and call again). No write may be blocked.
    public func shutdown() throws(TLSError) -> Bool {
        precondition(isHandshakeComplete && blockedWrite == nil, "TLS shutdown mid-write")
        precondition(!hasFailed, "TLS session used after a fatal error")
        if sentCloseNotify { return true }
        OpenSSLErrorQueue.clear()
        // 0: sent, the peer's not seen yet; 1: both sent. Either is done here.
        let rc = SSL_shutdown(ssl)
        if rc >= 0 {
            sentCloseNotify = true
            return true
        }
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_WRITE, SSL_ERROR_WANT_READ:
            return false
        default:
            hasFailed = true
            throw failure(handshake: false, stage: .shutdown, call: "SSL_shutdown")
        }
    }

    /// Moves as much of the inbox into the BIO as it takes; returns how much.
    @discardableResult
    private func pushInbox() -> Int {
        var moved = 0
        while inputBacklog > 0 {
            let room = BIO_ctrl_get_write_guarantee(network)
            if room == 0 { break }
            let count = min(room, inputBacklog)
            let n = inbox.withUnsafeBytes {
                BIO_write(network, $0.baseAddress! + inboxConsumed, Int32(count))
            }
            if n <= 0 { break }
            inboxConsumed += Int(n)
            moved += Int(n)
        }
        return moved
    }

    /// The error for a failed call: a refused certificate is reported as a
    /// verification failure, anything else with OpenSSL's reasons.
    private func failure(
        handshake: Bool, stage: TLSError.Stage = .read, call: String = "SSL_read"
    ) -> TLSError {
        if handshake {
            let verify = SSL_get_verify_result(ssl)
            if verify != X509_V_OK {
                return TLSError.verification(result: verify, expected: host)
            }
            let error = TLSError.drained(.handshake, call: "SSL_do_handshake")
            return TLSError(
                stage: .handshake, call: error.call,
                summary: "TLS handshake failed: \(error.summary)",
                reasons: error.reasons, verifyResult: nil)
        }
        return TLSError.drained(stage, call: call)
    }
}
