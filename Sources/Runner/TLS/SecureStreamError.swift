/// Why a `SecureStream` could not open, or why it failed once open. Each
/// case wraps the stage's own error, whose message names the host and port.
nonisolated public enum SecureStreamError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The host (or the proxy's host) did not resolve.
    case resolve(ResolveError)
    /// No address accepted a TCP connection.
    case connect(TCPConnectError)
    /// The proxy did not open the tunnel.
    case proxy(ProxyError)
    /// TLS failed: handshake, verification or a record error.
    case tls(host: String, port: UInt16, TLSError)
    /// A read or write on the socket failed once connected.
    case io(host: String, port: UInt16, UVError)
    /// `close()` was called before the stream opened.
    case cancelled
    /// The stream closed before this write went out, or was already closed.
    case closed
    /// A write would take the queue past its hard limit, in bytes.
    case queueFull(limit: Int)

    /// One sentence for logs and users.
    public var description: String {
        switch self {
        case .resolve(let error): error.description
        case .connect(let error): error.description
        case .proxy(let error): error.description
        case .tls(let host, let port, let error):
            "TLS with \(HTTPConnectProxy.authority(host: host, port: port)) failed: \(error)"
        case .io(let host, let port, let error):
            "connection to \(HTTPConnectProxy.authority(host: host, port: port)) failed: \(error)"
        case .cancelled: "the connection was closed before it opened"
        case .closed: "the connection is closed"
        case .queueFull(let limit): "more than \(limit) bytes are waiting to be sent"
        }
    }
}
