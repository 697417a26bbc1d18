/// Limits and timings of one websocket client.
nonisolated public struct WebSocketConfiguration: Sendable {
    /// Largest incoming message. A run request is a few kilobytes; a megabyte
    /// leaves room for large arguments while keeping a hostile length from
    /// costing more than that (it is refused from its header, unread).
    public static let defaultMaxMessageBytes = 1 << 20
    /// Bound on bytes waiting to go out. Output lines are small; a megabyte
    /// absorbs a burst from a chatty child for the time a slow link needs,
    /// and past it the owner must stop reading child pipes.
    public static let defaultMaxQueuedBytes = 1 << 20
    /// Above this many queued bytes the client reports itself not writable.
    /// Half the bound leaves the other half for lines already in flight
    /// between the pipe read and the pause.
    public static let defaultHighWaterBytes = 1 << 19
    /// Below this many queued bytes the client is writable again. A quarter of
    /// the high mark keeps the pause and resume from flapping on every write.
    public static let defaultLowWaterBytes = 1 << 17
    /// Largest single transport write. 128 KiB holds a whole `run.output`
    /// batch of ordinary log lines (256 lines of ~280 bytes each), which then
    /// goes to TLS as the array it was framed in, with no copy; it is small
    /// enough that a pong queued behind it still leaves well within the
    /// server's ping timeout on a slow link (a second at 1 Mbit/s).
    public static let defaultWriteChunkBytes = 1 << 17
    /// How long a close waits for the peer's close (and for our own close to
    /// drain) before the transport is dropped. RFC 6455 names no value; 5 s
    /// is many round trips yet short enough for a shutdown to feel prompt.
    public static let defaultCloseTimeoutMilliseconds: UInt64 = 5_000
    /// How long the server has to answer the upgrade once the request is
    /// written. 10 s covers a loaded server; a dial that hangs longer is
    /// better retried with backoff.
    public static let defaultHandshakeTimeoutMilliseconds: UInt64 = 10_000

    /// Largest incoming message in bytes.
    public var maxMessageBytes: Int
    /// Bound on queued outgoing bytes; `send` refuses a message past it.
    public var maxQueuedBytes: Int
    /// Queued bytes at or above which the client is not writable.
    public var highWaterBytes: Int
    /// Queued bytes at or below which the client is writable again.
    public var lowWaterBytes: Int
    /// Largest single transport write.
    public var writeChunkBytes: Int
    /// Close handshake timeout.
    public var closeTimeoutMilliseconds: UInt64
    /// Upgrade response timeout.
    public var handshakeTimeoutMilliseconds: UInt64
    /// Ping interval; nil turns the heartbeat off.
    public var heartbeatIntervalMilliseconds: UInt64?

    /// A configuration; every argument defaults to the constant of that name,
    /// and the heartbeat to `Heartbeat.defaultIntervalMilliseconds`.
    public init(
        maxMessageBytes: Int = defaultMaxMessageBytes,
        maxQueuedBytes: Int = defaultMaxQueuedBytes,
        highWaterBytes: Int = defaultHighWaterBytes,
        lowWaterBytes: Int = defaultLowWaterBytes,
        writeChunkBytes: Int = defaultWriteChunkBytes,
        closeTimeoutMilliseconds: UInt64 = defaultCloseTimeoutMilliseconds,
        handshakeTimeoutMilliseconds: UInt64 = defaultHandshakeTimeoutMilliseconds,
        heartbeatIntervalMilliseconds: UInt64? = Heartbeat.defaultIntervalMilliseconds
    ) {
        precondition(
            0 <= lowWaterBytes && lowWaterBytes < highWaterBytes
                && highWaterBytes <= maxQueuedBytes,
            "websocket water marks must satisfy low < high <= max")
        precondition(maxMessageBytes > 0 && writeChunkBytes > 0, "websocket sizes must be positive")
        self.maxMessageBytes = maxMessageBytes
        self.maxQueuedBytes = maxQueuedBytes
        self.highWaterBytes = highWaterBytes
        self.lowWaterBytes = lowWaterBytes
        self.writeChunkBytes = writeChunkBytes
        self.closeTimeoutMilliseconds = closeTimeoutMilliseconds
        self.handshakeTimeoutMilliseconds = handshakeTimeoutMilliseconds
        self.heartbeatIntervalMilliseconds = heartbeatIntervalMilliseconds
    }
}
