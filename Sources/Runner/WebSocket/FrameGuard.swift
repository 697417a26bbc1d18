/// Checks every frame header the server sends before wslay sees the frame,
/// and takes close frames out of the stream to check them whole.
///
/// wslay 1.1.1 already fails a masked frame, reserved bits, unknown opcodes
/// and bad fragment order with 1002. It does not do so for a fragmented or
/// oversized control frame or a non-minimal length (it sends a close with no
/// code), for a 1-byte close payload (taken as "no code"), nor for a close
/// with code 1012-1014 (refused as 1002), and it checks the size cap only
/// once payload bytes arrive. Doing every header rule here, in one place,
/// makes each of those fail the same way; wslay still reassembles messages,
/// validates text as UTF-8 across fragments and answers pings.
nonisolated struct FrameGuard: Sendable {
    /// Most payload bytes in a control frame (RFC 6455 section 5.5).
    static let maxControlPayload = 125

    /// What a scan found, in stream order.
    enum Event: Equatable, Sendable {
        /// Bytes of checked frames for wslay.
        case forward([UInt8])
        /// A valid close frame: its code (nil when it had none) and reason.
        case close(code: UInt16?, reason: String)
        /// A broken rule: fail the connection with `code`.
        case violation(code: WebSocketCloseCode, detail: String)
    }

    /// Where the guard is in the frame stream.
    enum State: Sendable {
        /// Collecting a frame header.
        case header
        /// Passing `remaining` payload bytes of a non-close frame through.
        case payload(remaining: UInt64)
        /// Collecting `remaining` bytes of a close frame's payload.
        case closePayload(remaining: Int)
        /// A close frame or a violation ended the stream; the rest is ignored.
        case stopped
    }

    /// What the header collected so far says.
    private enum HeaderCheck {
        case needMore
        case complete(opcode: UInt8, length: UInt64)
        case violation(WebSocketCloseCode, String)
    }

    private(set) var state = State.header
    private var header: [UInt8] = []
    private var closeBody: [UInt8] = []
    private var messageOpen = false
    private var messageBytes: UInt64 = 0
    private let maxMessageBytes: UInt64

    /// A guard refusing data messages longer than `maxMessageBytes`.
    init(maxMessageBytes: Int) {
        self.maxMessageBytes = UInt64(maxMessageBytes)
    }

    /// Scans the next `bytes` of the stream.
    mutating func scan(_ bytes: [UInt8]) -> [Event] {
        var events: [Event] = []
        var index = 0
        while index < bytes.count {
            switch state {
            case .stopped:
                return events
            case .header:
                header.append(bytes[index])
                index += 1
                switch checkHeader() {
                case .needMore: break
                case .violation(let code, let detail):
                    state = .stopped
                    events.append(.violation(code: code, detail: detail))
                case .complete(let opcode, let length):
                    if opcode == 0x8 {
                        state = .closePayload(remaining: Int(length))
                        closeBody = []
                        if length == 0 { events.append(endClose()) }
                    } else {
                        Self.append(header, to: &events)
                        state = length == 0 ? .header : .payload(remaining: length)
                    }
                    header = []
                }
            case .payload(let remaining):
                let take = Int(min(remaining, UInt64(bytes.count - index)))
                Self.append(bytes[index..<(index + take)], to: &events)
                index += take
                state =
                    remaining == UInt64(take)
                    ? .header : .payload(remaining: remaining - UInt64(take))
            case .closePayload(let remaining):
                let take = min(remaining, bytes.count - index)
                closeBody += bytes[index..<(index + take)]
                index += take
                state = .closePayload(remaining: remaining - take)
                if remaining == take { events.append(endClose()) }
            }
        }
        return events
    }

    /// Adds bytes to the last forward event, or starts one.
    private static func append(_ bytes: some Collection<UInt8>, to events: inout [Event]) {
        if case .forward(var last) = events.last {
            last += bytes
            events[events.count - 1] = .forward(last)
        } else {
            events.append(.forward(Array(bytes)))
        }
    }

    /// Checks as much of the header as has arrived, failing as early as a
    /// byte allows: a hostile length is refused before any payload comes.
    private mutating func checkHeader() -> HeaderCheck {
        let b0 = header[0]
        let fin = b0 & 0x80 != 0
        let opcode = b0 & 0x0F
        let control = opcode & 0x8 != 0
        if header.count == 1 {
            // No extension is negotiated, so every reserved bit must be clear.
            if b0 & 0x70 != 0 { return .violation(.protocolError, "reserved bits set") }
            guard [0x0, 0x1, 0x2, 0x8, 0x9, 0xA].contains(opcode) else {
                return .violation(.protocolError, "unknown opcode \(opcode)")
            }
            if control && !fin { return .violation(.protocolError, "fragmented control frame") }
            if opcode == 0x0 && !messageOpen {
                return .violation(.protocolError, "continuation frame with no message open")
            }
            if (opcode == 0x1 || opcode == 0x2) && messageOpen {
                return .violation(.protocolError, "new message inside a fragmented one")
            }
            return .needMore
        }

        let b1 = header[1]
        if header.count == 2 {
            // RFC 6455 section 5.1: a client fails any masked server frame.
            if b1 & 0x80 != 0 { return .violation(.protocolError, "masked frame from the server") }
            if control && Int(b1 & 0x7F) > Self.maxControlPayload {
                return .violation(.protocolError, "control frame payload over 125 bytes")
            }
        }
        let short = UInt64(b1 & 0x7F)
        let extra = short == 126 ? 2 : short == 127 ? 8 : 0
        guard header.count == 2 + extra else { return .needMore }

        var length = short
        if extra > 0 {
            length = header[2...].reduce(0) { $0 << 8 | UInt64($1) }
            // Section 5.2: the shortest length form MUST be used, and a
            // 64-bit length has its top bit clear.
            let minimum: UInt64 = extra == 2 ? 126 : 65536
            if length < minimum {
                return .violation(.protocolError, "length \(length) not minimally encoded")
            }
            if length >> 63 != 0 {
                return .violation(.protocolError, "length with the top bit set")
            }
        }
        if !control {
            let total = (opcode == 0x0 ? messageBytes : 0) &+ length
            if total > maxMessageBytes {
                return .violation(
                    .messageTooBig,
                    "message of at least \(total) bytes over the \(maxMessageBytes)-byte cap")
            }
            messageOpen = !fin
            messageBytes = fin ? 0 : total
        }
        return .complete(opcode: opcode, length: length)
    }

    /// Checks a complete close payload (RFC 6455 sections 5.5.1 and 7.4).
    private mutating func endClose() -> Event {
        state = .stopped
        if closeBody.isEmpty { return .close(code: nil, reason: "") }
        guard closeBody.count >= 2 else {
            return .violation(code: .protocolError, detail: "close payload of 1 byte")
        }
        let code = UInt16(closeBody[0]) << 8 | UInt16(closeBody[1])
        guard WebSocketCloseCode.isValidOnWire(code) else {
            return .violation(code: .protocolError, detail: "invalid close code \(code)")
        }
        guard let reason = String(validating: closeBody[2...], as: UTF8.self) else {
            return .violation(code: .invalidPayload, detail: "close reason is not UTF-8")
        }
        return .close(code: code, reason: reason)
    }
}
