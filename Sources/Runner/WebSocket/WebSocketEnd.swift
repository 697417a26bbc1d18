/// How a websocket connection ended; reported exactly once.
nonisolated public enum WebSocketEnd: Equatable, Sendable, CustomStringConvertible {
    /// The opening handshake failed; the connection never opened.
    case handshakeFailed(UpgradeError)
    /// The server started the close handshake (with `code`, nil when its
    /// frame had none) and the client answered.
    case serverClosed(code: UInt16?, reason: String)
    /// The client started the close with `code`. `serverCode` is the code of
    /// the server's answer; `answered` is false when none came before the
    /// timeout or the end of the transport.
    case clientClosed(code: UInt16, serverCode: UInt16?, answered: Bool)
    /// The client failed the connection because the server broke the
    /// protocol, sending a close with `code`.
    case protocolViolation(code: UInt16, detail: String)
    /// No pong came for a heartbeat ping: the connection was half-open.
    case noPong
    /// The transport failed or ended without a close handshake.
    case transportLost(String)

    /// The status code to record for this end: the one exchanged in a close
    /// handshake, or 1006 (abnormal closure, never sent) when there was none.
    public var code: UInt16 {
        switch self {
        case .serverClosed(let code, _): code ?? 1005
        case .clientClosed(let code, _, _): code
        case .protocolViolation(let code, _): code
        case .handshakeFailed, .noPong, .transportLost: 1006
        }
    }

    /// What the end says about the next reconnect delay.
    public var backoffHint: BackoffHint {
        switch self {
        case .handshakeFailed(let error):
            if error.isAuthenticationFailure { return .credentialsRejected }
            if let seconds = error.retryAfterSeconds { return .retryAfter(seconds: seconds) }
            return .none
        case .serverClosed(let code, _):
            return code == WebSocketCloseCode.tryAgainLater.rawValue ? .tryAgainLater : .none
        case .clientClosed(_, let serverCode, _):
            return serverCode == WebSocketCloseCode.tryAgainLater.rawValue ? .tryAgainLater : .none
        case .protocolViolation, .noPong, .transportLost:
            return .none
        }
    }

    /// A sentence for logs and status output.
    public var description: String {
        switch self {
        case .handshakeFailed(let error): "handshake failed: \(error)"
        case .serverClosed(let code, let reason):
            "server closed with \(code.map(String.init) ?? "no code") \(quoted(reason))"
        case .clientClosed(let code, _, let answered):
            "closed with \(code)" + (answered ? "" : ", server never answered")
        case .protocolViolation(let code, let detail): "failed with \(code): \(detail)"
        case .noPong: "no pong: the connection was half-open"
        case .transportLost(let why): "transport lost: \(why)"
        }
    }
}

/// Why `WebSocketClient.send(text:)` refused a message.
nonisolated public enum WebSocketSendError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The connection is not open (still handshaking, closing or ended).
    case notOpen
    /// Queuing the message would take the outgoing queue past its bound.
    case queueFull(queued: Int, limit: Int)
    /// The message alone is larger than the whole outgoing queue.
    case messageTooLarge(bytes: Int, limit: Int)

    /// A sentence naming the numbers involved.
    public var description: String {
        switch self {
        case .notOpen: "websocket is not open"
        case .queueFull(let queued, let limit):
            "websocket outgoing queue holds \(queued) bytes of its \(limit)-byte bound"
        case .messageTooLarge(let bytes, let limit):
            "websocket message of \(bytes) bytes exceeds the \(limit)-byte queue bound"
        }
    }
}

/// The owner of a `WebSocketClient`: receives its messages and its end.
/// Every call comes on the loop thread, never from inside wslay.
public protocol WebSocketClientDelegate: AnyObject {
    /// The handshake succeeded; messages may be sent.
    func webSocketDidOpen(_ client: WebSocketClient, response: UpgradeResponse)
    /// A complete text message arrived, validated as UTF-8.
    func webSocket(_ client: WebSocketClient, didReceive text: String)
    /// The outgoing queue crossed a water mark: stop producing (the owner
    /// pauses its child pipes) at false, resume at true.
    func webSocket(_ client: WebSocketClient, writabilityChanged isWritable: Bool)
    /// The connection ended; the transport is closed. Called once.
    func webSocket(_ client: WebSocketClient, didEnd end: WebSocketEnd)
}
