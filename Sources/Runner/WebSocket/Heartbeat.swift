/// The liveness policy: ping on every tick; a ping still unanswered at the
/// next tick means the connection is half-open (the peer or a middlebox is
/// gone without a FIN), and the connection is closed locally.
///
/// A pure value: `WebSocketClient` ticks it from a repeating loop `Timer`
/// every `intervalMilliseconds`, sends the pings it asks for and feeds it the
/// pongs that arrive. Tests tick it by hand.
nonisolated public struct Heartbeat: Sendable {
    /// The default ping interval. Load balancers and NAT tables commonly drop
    /// idle flows after 60 s; 20 s keeps the flow warm with margin, and finds
    /// a dead peer within two intervals (40 s).
    public static let defaultIntervalMilliseconds: UInt64 = 20_000

    /// What a tick asks for.
    public enum Tick: Equatable, Sendable {
        /// Send a ping with this payload.
        case ping([UInt8])
        /// The last ping got no pong: close the connection, reporting "no pong".
        case halfOpen
    }

    /// Time between ticks.
    public let intervalMilliseconds: UInt64
    /// The payload of the ping still waiting for its pong, if any.
    public private(set) var outstanding: [UInt8]?
    private var sequence: UInt64 = 0

    /// A heartbeat ticking every `intervalMilliseconds` (more than zero).
    public init(intervalMilliseconds: UInt64 = Heartbeat.defaultIntervalMilliseconds) {
        precondition(intervalMilliseconds > 0, "heartbeat interval must be positive")
        self.intervalMilliseconds = intervalMilliseconds
    }

    /// One interval has passed.
    public mutating func tick() -> Tick {
        if outstanding != nil { return .halfOpen }
        sequence &+= 1
        // The sequence number as payload lets a late pong for an older ping
        // be told apart from the answer to the current one.
        let payload = (0..<8).map { UInt8(truncatingIfNeeded: sequence >> (56 - 8 * $0)) }
        outstanding = payload
        return .ping(payload)
    }

    /// A pong arrived. Only the answer to the outstanding ping counts; an
    /// unsolicited pong (RFC 6455 section 5.5.3 allows them) changes nothing.
    public mutating func received(pong payload: [UInt8]) {
        if payload == outstanding { outstanding = nil }
    }
}
