/// A close status code that may go on the wire (RFC 6455 section 7.4). The
/// type cannot hold 1005, 1006 or 1015, which mark local conditions and are
/// never sent, nor anything below 1000 or in the reserved ranges.
nonisolated public struct WebSocketCloseCode: RawRepresentable, Hashable, Sendable {
    /// The numeric code.
    public let rawValue: UInt16

    /// The code, or nil when it is not one a frame may carry.
    public init?(rawValue: UInt16) {
        guard WebSocketCloseCode.isValidOnWire(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// 1000: the purpose of the connection is fulfilled.
    public static let normal = WebSocketCloseCode(rawValue: 1000)!
    /// 1001: the runner is shutting down.
    public static let goingAway = WebSocketCloseCode(rawValue: 1001)!
    /// 1002: the peer broke the framing rules.
    public static let protocolError = WebSocketCloseCode(rawValue: 1002)!
    /// 1003: a message of a type ward does not take (binary).
    public static let unsupportedData = WebSocketCloseCode(rawValue: 1003)!
    /// 1007: a text message or close reason that is not UTF-8.
    public static let invalidPayload = WebSocketCloseCode(rawValue: 1007)!
    /// 1008: a message that breaks policy.
    public static let policyViolation = WebSocketCloseCode(rawValue: 1008)!
    /// 1009: a message over the size cap.
    public static let messageTooBig = WebSocketCloseCode(rawValue: 1009)!
    /// 1011: an unexpected condition inside the runner.
    public static let internalError = WebSocketCloseCode(rawValue: 1011)!
    /// 1012: the server is restarting.
    public static let serviceRestart = WebSocketCloseCode(rawValue: 1012)!
    /// 1013: try again later; the backoff takes a floor from it.
    public static let tryAgainLater = WebSocketCloseCode(rawValue: 1013)!

    /// The codes a close frame may carry in either direction: the defined
    /// 1000-1003 and 1007-1011, the IANA-registered 1012-1014, and the
    /// library and application range 3000-4999. wslay 1.1.1 itself refuses
    /// 1012-1014, which is why ward checks close frames before wslay does.
    public static func isValidOnWire(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    /// Longest close reason in bytes: a control frame carries at most 125
    /// payload bytes and the code takes two (RFC 6455 section 5.5).
    public static let maxReasonBytes = 123

    /// `reason` as UTF-8, cut to `maxReasonBytes` at a character boundary so
    /// the frame is legal and the text stays valid.
    public static func reasonBytes(_ reason: String) -> [UInt8] {
        var out: [UInt8] = []
        for scalar in reason.unicodeScalars {
            let encoded = Array(String(scalar).utf8)
            if out.count + encoded.count > maxReasonBytes { break }
            out += encoded
        }
        return out
    }
}
