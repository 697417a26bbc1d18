import CWslay

/// The byte paths: incoming bytes through the upgrade parser, `FrameGuard`
/// and wslay to the delegate; outgoing frames through wslay, the outbox and
/// the single transport write.
extension WebSocketClient {
    /// Bytes the transport read, in order.
    public func receive(_ bytes: [UInt8]) {
        switch phase {
        case .idle:
            preconditionFailure("WebSocketClient.receive before start()")
        case .handshaking:
            guard var parser = handshake else {
                preconditionFailure("handshaking without a parser")
            }
            let step = parser.feed(bytes)
            handshake = parser
            switch step {
            case .needMore: return
            case .failed(let error):
                handshake = nil
                finish(.handshakeFailed(error))
            case .done(let response, let remainder):
                handshake = nil
                opened(response)
                if !remainder.isEmpty { receiveFrames(remainder) }
            }
        case .open, .closing:
            receiveFrames(bytes)
        case .ended:
            return
        }
    }

    /// Whether frames from the server are still read: not once the server's
    /// close came or the client began failing the connection.
    var readsFrames: Bool {
        switch phase {
        case .open, .closing(.initiated(_, false, _)): true
        default: false
        }
    }

    /// Runs frame bytes through the guard, then wslay, in stream order.
    func receiveFrames(_ bytes: [UInt8]) {
        for event in frameGuard.scan(bytes) {
            guard readsFrames else { break }
            switch event {
            case .forward(let chunk): feedWslay(chunk)
            case .close(let code, let reason): serverClosed(code: code, reason: reason)
            case .violation(let code, let detail): fail(code, detail)
            }
        }
        pump()
    }

    /// Lets wslay read `chunk`, then hands out the messages it completed.
    func feedWslay(_ chunk: [UInt8]) {
        inbox += chunk
        let rc = wslay_event_recv(context)
        let messages = completed
        completed = []
        guard rc == 0 else {
            // FrameGuard passes wslay only well-formed frames, so this is an
            // allocation failure inside wslay: nothing to answer, just stop.
            finish(.protocolViolation(code: 1011, detail: "wslay_event_recv failed: \(rc)"))
            return
        }
        for message in messages {
            switch UInt32(message.opcode) {
            case WSLAY_TEXT_FRAME.rawValue:
                // After the client's close, data is dropped: its owner is
                // shutting down and could not act on a request any more.
                guard phase == .open else { continue }
                // wslay validated the text across fragments; this is the
                // conversion, failing closed should the two ever disagree.
                guard let text = String(validating: message.payload, as: UTF8.self) else {
                    fail(.invalidPayload, "text message is not UTF-8")
                    return
                }
                delegate?.webSocket(self, didReceive: text)
            case WSLAY_BINARY_FRAME.rawValue:
                fail(.unsupportedData, "binary message")
                return
            case WSLAY_PONG.rawValue:
                heartbeat?.received(pong: message.payload)
            default:
                // A ping: wslay has queued the pong with the same payload.
                continue
            }
        }
        // wslay turns reading off when it fails the connection itself.
        if readsFrames && wslay_event_get_read_enabled(context) == 0 {
            failedByWslay()
        }
    }

    /// The server sent a valid close frame.
    func serverClosed(code: UInt16?, reason: String) {
        wslay_event_shutdown_read(context)
        switch phase {
        case .open:
            // Echo the code (RFC 6455 section 5.5.1); no code echoes as none.
            let rc = wslay_event_queue_close(context, code ?? 0, nil, 0)
            precondition(rc == 0, "wslay_event_queue_close failed while open: \(rc)")
            enterClosing(.answering(code: code, reason: reason))
        case .closing(.initiated(let ours, _, _)):
            phase = .closing(.initiated(code: ours, answered: true, serverCode: code))
        default:
            return
        }
    }

    /// Fails the connection: sends a close with `code`, reads no more.
    func fail(_ code: WebSocketCloseCode, _ detail: String) {
        wslay_event_shutdown_read(context)
        switch phase {
        case .open:
            // wslay may have queued its own close in the same read; then its
            // code is the one on the wire.
            let rc = wslay_event_queue_close(context, code.rawValue, nil, 0)
            enterClosing(
                .failing(code: rc == 0 ? code.rawValue : nil, detail: rc == 0 ? detail : nil))
        case .closing(.initiated):
            // Our close is already out; there is nothing left to wait for.
            finish(.protocolViolation(code: code.rawValue, detail: detail))
        default:
            return
        }
    }

    /// wslay failed the connection itself (invalid UTF-8 in a text message)
    /// and queued the close.
    func failedByWslay() {
        switch phase {
        case .open: enterClosing(.failing(code: nil, detail: nil))
        case .closing(.initiated):
            let code = wslay_event_get_status_code_sent(context)
            finish(.protocolViolation(code: code, detail: Self.wslayFailure(code)))
        default: return
        }
    }

    /// Queues one control message of `opcode` (a ping); wslay copies the
    /// bytes. Data messages are framed by `OutgoingDataFrames`.
    func queue(opcode: UInt8, _ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBufferPointer { buffer in
            var message = wslay_event_msg(
                opcode: opcode, msg: buffer.baseAddress, msg_length: buffer.count)
            return wslay_event_queue_msg(context, &message)
        }
    }

    /// Moves outgoing bytes to the transport, one write at a time. wslay is
    /// asked for frames only when the next write can start, so a pong queued
    /// meanwhile goes ahead of data frames that are still waiting.
    func pump() {
        // A write that completes synchronously lands back here; the loop
        // below carries on instead of recursing.
        guard !pumping else { return }
        pumping = true
        while !writeInFlight && phase != .ended {
            if outbox.isEmpty && phase != .handshaking { fillOutbox() }
            if outbox.isEmpty { break }
            let chunk = outbox
            outbox = []
            writeInFlight = true
            transport.write(chunk) { [weak self] ok in self?.writeCompleted(ok) }
        }
        pumping = false
        guard phase != .ended else { return }
        updateFlowControl()
        finishCloseWhenFlushed()
    }

    /// Fills the outbox for the next write, up to one write's worth: wslay's
    /// control frames first whenever no data frame is half sent (so a pong
    /// overtakes queued data, as inside wslay), then data frames, which may
    /// be cut across writes.
    func fillOutbox() {
        let limit = configuration.writeChunkBytes
        while outbox.count < limit {
            if dataFrames.isAtBoundary {
                wslayBlocked = false
                let rc = wslay_event_send(context)
                // The send callback only ever accepts or says WOULDBLOCK.
                precondition(rc == 0, "wslay_event_send failed: \(rc)")
                // wslay holds a frame it could not finish: it goes on first.
                if wslayBlocked { return }
                if wslay_event_get_close_sent(context) != 0 {
                    // Nothing follows a close (RFC 6455 section 5.5.1); wslay
                    // drops the data it still holds the same way.
                    dataFrames.removeAll()
                    return
                }
                if dataFrames.isEmpty || outbox.count >= limit { return }
            }
            dataFrames.move(into: &outbox, room: limit - outbox.count)
        }
    }

    /// The outstanding transport write finished.
    func writeCompleted(_ ok: Bool) {
        writeInFlight = false
        guard phase != .ended else { return }
        guard ok else {
            let why = "transport write failed"
            finish(
                phase == .handshaking
                    ? .handshakeFailed(.connectionClosed(why)) : .transportLost(why))
            return
        }
        pump()
    }

    /// Ends a close once its close frame is on the wire, unless the client
    /// started it and the server has not answered yet.
    func finishCloseWhenFlushed() {
        guard case .closing(let closing) = phase, wslay_event_get_close_sent(context) != 0,
            outbox.isEmpty, !writeInFlight
        else { return }
        if case .initiated(_, false, _) = closing { return }
        finish(endOfClose(closing))
    }

    /// Tells the delegate when the queue crosses a water mark, and stops
    /// reading the transport while control frames alone (pongs to a ping
    /// flood) hold the queue past its bound.
    func updateFlowControl() {
        let queued = queuedBytes
        if !readingPaused && queued > configuration.maxQueuedBytes {
            readingPaused = true
            transport.pauseReading()
        } else if readingPaused && queued <= configuration.lowWaterBytes {
            readingPaused = false
            transport.resumeReading()
        }
        if isWritable && queued >= configuration.highWaterBytes {
            isWritable = false
            delegate?.webSocket(self, writabilityChanged: false)
        } else if !isWritable && queued <= configuration.lowWaterBytes {
            isWritable = true
            delegate?.webSocket(self, writabilityChanged: true)
        }
    }

    /// wslay's recv callback: copies from the inbox, or WOULDBLOCK when empty.
    func wslayRead(into buffer: UnsafeMutablePointer<UInt8>, capacity: Int, context: OpaquePointer?)
        -> Int
    {
        let available = inbox.count - inboxOffset
        guard available > 0 else {
            wslay_event_set_error(context, WSLAY_ERR_WOULDBLOCK.rawValue)
            return -1
        }
        let count = min(available, capacity)
        inbox.withUnsafeBufferPointer {
            buffer.update(from: $0.baseAddress! + inboxOffset, count: count)
        }
        inboxOffset += count
        if inboxOffset == inbox.count {
            inbox.removeAll(keepingCapacity: true)
            inboxOffset = 0
        }
        return count
    }

    /// wslay's send callback: appends to the outbox up to one write's worth.
    func wslayWrite(_ bytes: UnsafePointer<UInt8>, count: Int, context: OpaquePointer?) -> Int {
        let room = configuration.writeChunkBytes - outbox.count
        guard room > 0 else {
            wslayBlocked = true
            wslay_event_set_error(context, WSLAY_ERR_WOULDBLOCK.rawValue)
            return -1
        }
        let taken = min(room, count)
        outbox.append(contentsOf: UnsafeBufferPointer(start: bytes, count: taken))
        return taken
    }

    /// wslay's message callback: keeps the message until wslay returns.
    func wslayReceived(opcode: UInt8, payload: [UInt8]) {
        completed.append((opcode: opcode, payload: payload))
    }
}
