import CUV

/// The sending side of `SecureStream`: one queue, one writer. Over TLS the
/// head write is encrypted in place until OpenSSL takes all of it (a blocked
/// write is retried with the same bytes), and ciphertext moves to the socket
/// only while libuv's queue is below `socketHighWater`, so every buffer on
/// the way is bounded and the caller sees the backlog in `queuedBytes`.
extension SecureStream {
    /// Most ciphertext queued in libuv before encrypting waits for the
    /// kernel to take some. A few hundred KiB keeps a fast link busy between
    /// loop iterations; more would only hide backpressure from the caller.
    static let socketHighWater = 256 * 1024

    /// Queues `bytes` to send after everything queued before; `completion`
    /// runs once they are handed to the kernel, or with the error (`.closed`
    /// when the stream closed first). Only an open stream takes writes; a
    /// write past `maximumQueuedBytes` fails with `.queueFull` at once. Over
    /// TLS the array itself is queued, not a copy: it is not changed while
    /// held, so its storage stays at one address for a retried write.
    public func write(_ bytes: [UInt8], completion: ((SecureStreamError?) -> Void)? = nil) {
        switch phase {
        case .open:
            break
        case .closing, .closed:
            completion?(.closed)
            return
        case .resolving, .connecting, .proxying, .handshaking:
            preconditionFailure("write() before the stream opened")
        }
        guard queuedBytes + bytes.count <= SecureStream.maximumQueuedBytes else {
            completion?(.queueFull(limit: SecureStream.maximumQueuedBytes))
            return
        }
        guard session != nil else {
            tcp?.write(bytes) { [self] error in plainWritten(error, completion) }
            return
        }
        if bytes.isEmpty {
            completion?(nil)
            return
        }
        output.enqueue(OutgoingWrite(bytes, completion: completion))
        pump()
    }

    /// Queues a copy of `bytes`; see `write(_:completion:)`.
    public func write(
        _ bytes: UnsafeRawBufferPointer, completion: ((SecureStreamError?) -> Void)? = nil
    ) {
        write(Array(bytes), completion: completion)
    }

    /// A plain-TCP write finished.
    private func plainWritten(
        _ error: UVError?, _ completion: ((SecureStreamError?) -> Void)?
    ) {
        guard let error else {
            completion?(nil)
            return
        }
        if error.code == UV_ECANCELED.rawValue || phase == .closed {
            completion?(.closed)
            return
        }
        let failure = SecureStreamError.io(host: host, port: port, error)
        completion?(failure)
        fail(failure)
    }

    /// Encrypts queued writes and moves ciphertext to the socket as far as
    /// the buffers allow; during a graceful close, then sends close_notify
    /// and FIN. Called whenever something may have freed space.
    func pump() {
        guard let tcp, tcp.isConnected, !output.isPumping else { return }
        guard let session else {
            if phase == .closing { requestShutdown() }
            return
        }
        output.isPumping = true
        defer { output.isPumping = false }

        flushOutput()
        while phase == .open || phase == .closing {
            if let head = output.head {
                let result: TLSSession.WriteResult
                let attempt = head.bytes.withUnsafeBytes { plaintext in
                    Result { () throws(TLSError) in try session.write(plaintext) }
                }
                switch attempt {
                case .success(let written): result = written
                case .failure(let error):
                    fail(.tls(host: host, port: port, error))
                    return
                }
                if result == .written {
                    output.encryptedHead(throughCiphertext: output.handed + session.pendingOutput)
                    flushOutput()
                    continue
                }
                // Blocked: retry only once the socket took some ciphertext;
                // otherwise a write callback or more input calls back here.
                if flushOutput() > 0 { continue }
                break
            }
            if phase == .closing { sendCloseNotify(session) }
            break
        }
    }

    /// Puts close_notify out, then FIN once all ciphertext is queued.
    private func sendCloseNotify(_ session: TLSSession) {
        if session.isHandshakeComplete && !session.sentCloseNotify {
            do {
                if try !session.shutdown() {
                    if flushOutput() > 0 { sendCloseNotify(session) }
                    return
                }
            } catch {
                finish(.closed)
                return
            }
        }
        flushOutput()
        if session.pendingOutput == 0 { requestShutdown() }
    }

    /// Sends FIN after every queued socket write (libuv orders them).
    private func requestShutdown() {
        guard let tcp, tcp.isConnected, !output.shutdownRequested else { return }
        output.shutdownRequested = true
        tcp.shutdown { [self] error in
            guard phase == .closing else { return }
            if error != nil {
                finish(.closed)
                return
            }
            shutdownDone = true
            finishIfClosed()
        }
    }

    /// Moves ciphertext from the session to the socket while libuv's queue
    /// is below the high water mark; returns how many bytes moved.
    @discardableResult
    func flushOutput() -> Int {
        guard let session, let tcp, tcp.isConnected else { return 0 }
        var moved = 0
        while session.pendingOutput > 0 && tcp.queuedBytes < SecureStream.socketHighWater {
            // Read into a buffer of its own that the socket write takes over:
            // no copy between OpenSSL's buffer and the kernel's.
            let buffer = UnsafeMutableRawBufferPointer.allocate(
                byteCount: min(session.pendingOutput, TLSSession.bufferSize), alignment: 16)
            let n = session.readOutput(into: buffer)
            if n == 0 {
                buffer.deallocate()
                break
            }
            output.handed += n
            let end = output.handed
            tcp.write(taking: buffer, count: n) { [self] error in
                ciphertextSent(through: end, error)
            }
            moved += n
        }
        return moved
    }

    /// The socket took ciphertext up to `end`: completes the writes it
    /// finished, then lets input and output go on.
    private func ciphertextSent(through end: Int, _ error: UVError?) {
        if let error {
            switch phase {
            case .closed: break
            case .closing: finish(.closed)
            default: fail(.io(host: host, port: port, error))
            }
            return
        }
        for completion in output.acknowledge(through: end) {
            completion?(nil)
        }
        guard phase != .closed else { return }
        // Decryption may have stopped for want of output space (or have a
        // record to answer); `drive` resumes it, then pumps the writes.
        if session != nil {
            drive()
        } else {
            pump()
        }
    }
}

/// One queued plaintext write. The array is held unchanged until its
/// ciphertext is out, so its storage stays at one address and a blocked TLS
/// write is retried with exactly the same bytes.
final class OutgoingWrite {
    /// The plaintext.
    let bytes: [UInt8]
    /// Called once the ciphertext for these bytes left.
    let completion: ((SecureStreamError?) -> Void)?

    /// Holds `bytes` until written.
    init(_ bytes: [UInt8], completion: ((SecureStreamError?) -> Void)?) {
        self.bytes = bytes
        self.completion = completion
    }
}

/// The TLS write queue and the accounting that ties each write to the
/// ciphertext that carries it.
struct OutputQueue {
    /// Writes not yet fully encrypted, oldest first, from index `first`.
    private var writes: [OutgoingWrite] = []
    private var first = 0
    /// Encrypted writes waiting for their ciphertext to reach the kernel:
    /// the total ciphertext count that covers each, and its completion.
    private var awaiting: [(end: Int, completion: ((SecureStreamError?) -> Void)?)] = []
    private var firstAwaiting = 0
    /// Plaintext bytes still in `writes`.
    private(set) var plaintextBytes = 0
    /// Ciphertext bytes handed to the socket so far.
    var handed = 0
    /// Whether FIN was requested.
    var shutdownRequested = false
    /// Guards `pump` against running inside itself.
    var isPumping = false

    /// The oldest write not yet encrypted.
    var head: OutgoingWrite? { first < writes.count ? writes[first] : nil }

    /// Adds a write at the end.
    mutating func enqueue(_ write: OutgoingWrite) {
        writes.append(write)
        plaintextBytes += write.bytes.count
    }

    /// The head is fully encrypted; its ciphertext ends at `end`.
    mutating func encryptedHead(throughCiphertext end: Int) {
        let write = writes[first]
        first += 1
        plaintextBytes -= write.bytes.count
        awaiting.append((end, write.completion))
        if first == writes.count {
            writes.removeAll(keepingCapacity: true)
            first = 0
        }
    }

    /// Removes and returns the completions of writes whose ciphertext is
    /// all at or before `end`.
    mutating func acknowledge(through end: Int) -> [((SecureStreamError?) -> Void)?] {
        var done: [((SecureStreamError?) -> Void)?] = []
        while firstAwaiting < awaiting.count && awaiting[firstAwaiting].end <= end {
            done.append(awaiting[firstAwaiting].completion)
            firstAwaiting += 1
        }
        if firstAwaiting == awaiting.count {
            awaiting.removeAll(keepingCapacity: true)
            firstAwaiting = 0
        }
        return done
    }

    /// Empties the queue; returns every completion not yet called, oldest first.
    mutating func removeAll() -> [((SecureStreamError?) -> Void)?] {
        let done = awaiting[firstAwaiting...].map(\.completion) + writes[first...].map(\.completion)
        writes.removeAll()
        awaiting.removeAll()
        first = 0
        firstAwaiting = 0
        plaintextBytes = 0
        return done
    }
}
