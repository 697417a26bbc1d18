/// Lets the websocket client write through a `SecureStream` (TCP, proxy, TLS) and
/// feeds the stream's plaintext and its end back into the client.
public final class StreamTransport: ByteTransport {
    /// The byte stream underneath.
    public let stream: SecureStream
    /// The websocket client reading from it; set once the client exists.
    public weak var client: WebSocketClient?

    /// Joins `stream` to whichever client is assigned to `client`.
    public init(stream: SecureStream) {
        self.stream = stream
        stream.onBytes = { [weak self] bytes in
            self?.client?.receive(Array(bytes))
        }
        stream.onEnd = { [weak self] end in
            self?.client?.transportEnded("\(end)")
        }
    }

    public func write(_ bytes: [UInt8], completion: @escaping (Bool) -> Void) {
        stream.write(bytes) { error in completion(error == nil) }
    }

    public var queuedBytes: Int { stream.queuedBytes }

    public func pauseReading() { stream.pause() }

    public func resumeReading() { stream.resume() }

    public func close() { stream.close() }
}
