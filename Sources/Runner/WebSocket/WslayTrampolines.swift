import CWslay

/// Every C callback ward hands to wslay, in one place. Each recovers its
/// `WebSocketClient` from wslay's `user_data` (an unretained reference: the
/// client owns the wslay context and frees it in `deinit`, so the client is
/// alive whenever wslay runs) and calls a method on it. wslay calls them only
/// from inside `wslay_event_recv`/`wslay_event_send`, on the loop thread.
enum WslayTrampolines {
    /// The client behind `user_data`.
    static func client(_ data: UnsafeMutableRawPointer?) -> WebSocketClient {
        guard let data else { preconditionFailure("wslay callback without its WebSocketClient") }
        return Unmanaged<WebSocketClient>.fromOpaque(data).takeUnretainedValue()
    }

    /// The callbacks of every client context.
    static var callbacks: wslay_event_callbacks {
        wslay_event_callbacks(
            recv_callback: recv, send_callback: send, genmask_callback: genmask,
            on_frame_recv_start_callback: nil, on_frame_recv_chunk_callback: nil,
            on_frame_recv_end_callback: nil, on_msg_recv_callback: message)
    }

    /// wslay wants incoming bytes: from the client's inbox, or WOULDBLOCK.
    static let recv: wslay_event_recv_callback = { context, buffer, length, _, data in
        client(data).wslayRead(into: buffer!, capacity: length, context: context)
    }

    /// wslay has frame bytes to send: into the client's outbox, or WOULDBLOCK.
    static let send: wslay_event_send_callback = { context, bytes, length, _, data in
        client(data).wslayWrite(bytes!, count: length, context: context)
    }

    /// wslay needs a masking key: fresh kernel randomness for every frame, as
    /// RFC 6455 section 5.3 requires keys a proxy cannot predict.
    static let genmask: wslay_event_genmask_callback = { _, buffer, length, _ in
        let key = RandomID.bytes(length)
        for index in 0..<length { buffer![index] = key[index] }
        return 0
    }

    /// wslay finished a message (text, binary, ping or pong; close frames
    /// never reach wslay, `FrameGuard` takes them out).
    static let message: wslay_event_on_msg_recv_callback = { _, argument, data in
        let arg = argument!.pointee
        let payload =
            arg.msg_length == 0
            ? [] : Array(UnsafeBufferPointer(start: arg.msg, count: arg.msg_length))
        client(data).wslayReceived(opcode: arg.opcode, payload: payload)
    }
}
