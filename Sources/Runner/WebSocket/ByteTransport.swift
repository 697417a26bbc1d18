/// An ordered, reliable byte stream the websocket layer runs on: TCP, a proxy
/// tunnel and TLS live behind it, and tests put an in-memory stream there.
///
/// The websocket client never has more than one `write` outstanding: it waits
/// for the completion before handing over the next buffer, so a transport
/// that must retry a write (TLS `WANT_WRITE`) retries the very same bytes.
/// Incoming bytes do not come through this protocol: the transport's owner
/// passes them to `WebSocketClient.receive(_:)` and reports the end of the
/// stream with `WebSocketClient.transportEnded(_:)`.
public protocol ByteTransport: AnyObject {
    /// Sends `bytes` in order after everything written before; `completion`
    /// runs once, with `false` when the transport failed and the bytes may not
    /// have left. It may run before `write` returns.
    func write(_ bytes: [UInt8], completion: @escaping (Bool) -> Void)
    /// Bytes handed to `write` that have not yet left the process.
    var queuedBytes: Int { get }
    /// Stops delivering incoming bytes until `resumeReading()`.
    func pauseReading()
    /// Delivers incoming bytes again after `pauseReading()`.
    func resumeReading()
    /// Ends the stream (a TLS close_notify, then the socket). Calling it again
    /// is harmless.
    func close()
}
