/// How ward reaches its control plane: the `control_plane:` section of the config.
/// Absent, `ward connect` refuses to start; the local commands need none of it.
public struct ControlPlaneConfig: Equatable, Sendable {
    /// `wss://host[:port]/path`; `ws://` only to loopback with `allowPlaintextLoopback`.
    public var url: String
    /// A PEM bundle to trust instead of the system store (absolute path).
    public var caFile: String?
    /// A PEM CA certificate that must be the server chain's anchor (absolute path).
    public var pinnedCAFile: String?
    /// File holding the runner key, mode 0600 (absolute path).
    public var keyFile: String?
    /// Accept `ws://` to a loopback address: for development against a local peer.
    public var allowPlaintextLoopback: Bool = false
    /// An HTTPS proxy URL; when nil, `HTTPS_PROXY` and `NO_PROXY` apply.
    public var proxy: String?
    /// Websocket ping interval; a pong missing at the next tick closes the link.
    public var heartbeatMilliseconds: Int64 = ControlPlaneLimits.heartbeat.defaultValue
    /// First reconnect delay ceiling (full jitter below it).
    public var backoffBaseMilliseconds: Int64 = ControlPlaneLimits.backoffBase.defaultValue
    /// Largest reconnect delay.
    public var backoffCapMilliseconds: Int64 = ControlPlaneLimits.backoffCap.defaultValue
    /// How long a connection must stay up before the backoff resets.
    public var backoffResetMilliseconds: Int64 = ControlPlaneLimits.backoffReset.defaultValue
    /// Time allowed for TCP, TLS and the upgrade together.
    public var connectTimeoutMilliseconds: Int64 = ControlPlaneLimits.connectTimeout.defaultValue
    /// On SIGTERM, how long running actions may go on before they are killed.
    public var drainGraceMilliseconds: Int64 = ControlPlaneLimits.drainGrace.defaultValue

    /// `url` parsed and checked against `allowPlaintextLoopback`.
    public var endpoint: Result<ControlPlaneEndpoint, ConfigProblem> {
        ControlPlaneEndpoint.parse(url, allowPlaintextLoopback: allowPlaintextLoopback)
    }

    /// A config for `url` with every other setting at its default.
    public init(url: String) {
        self.url = url
    }
}

/// Bounds of the `control_plane` settings, with why each default was chosen.
public enum ControlPlaneLimits {
    /// 15 s notices a half-open link within half a minute without chatter; tests
    /// go down to milliseconds.
    public static let heartbeat = IntegerSetting(defaultValue: 15_000, min: 10, max: 600_000)
    /// One second before the first retry spreads a fleet's reconnects.
    public static let backoffBase = IntegerSetting(defaultValue: 1_000, min: 1, max: 60_000)
    /// Five minutes bounds how stale a runner can get during an outage.
    public static let backoffCap = IntegerSetting(defaultValue: 300_000, min: 1, max: 3_600_000)
    /// A minute up proves the link healthy before delays shrink again.
    public static let backoffReset = IntegerSetting(defaultValue: 60_000, min: 1, max: 3_600_000)
    /// 30 s covers a slow TLS handshake across continents.
    public static let connectTimeout = IntegerSetting(defaultValue: 30_000, min: 10, max: 600_000)
    /// Thirty seconds lets most operational reads finish; below the unit's stop timeout.
    public static let drainGrace = IntegerSetting(defaultValue: 30_000, min: 0, max: 600_000)
}
