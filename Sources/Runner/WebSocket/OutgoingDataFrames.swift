import CWslay

/// Outgoing text messages, framed here rather than by wslay: each message is
/// one final, masked text frame (RFC 6455 section 5.2), masked eight bytes
/// at a time as it is copied in. wslay would copy the message on queueing,
/// then mask it a byte at a time into a 4 KiB scratch buffer and hand that
/// to the send callback, which made framing a visible share of a stream.
///
/// Frames leave in order, whole or cut across transport writes. Each frame
/// is an array of its own: one that starts an empty write is handed over as
/// it is, without a copy. The client lets wslay's control frames (pings,
/// pongs, the close) out only where `isAtBoundary` says no data frame is
/// half sent, as wslay itself does.
struct OutgoingDataFrames {
    /// Frames not yet wholly moved out, oldest first from index `next`, with
    /// their header's length.
    private var frames: [(bytes: [UInt8], header: Int)] = []
    private var next = 0
    /// Bytes of `frames[next]` already moved out; zero at a frame boundary.
    private var sent = 0
    /// Bytes of every frame not yet moved out.
    private var remaining = 0
    /// Header bytes of the frames not yet started.
    private var unstartedHeaderBytes = 0

    /// Longest payload whose length fits the 7-bit field.
    static let maxShortPayload = 125
    /// Longest payload whose length fits the 16-bit extended field.
    static let maxMediumPayload = 0xFFFF
    /// Fewest finished entries worth compacting away while frames remain.
    static let frameCompactionThreshold = 64

    /// True when no data frame is half moved out: a control frame may go.
    var isAtBoundary: Bool { sent == 0 }
    /// True when nothing is left to move out.
    var isEmpty: Bool { next == frames.count }
    /// Bytes waiting, counted as wslay counts its queue: the payloads of the
    /// frames not started, and what is left of the frame being moved out.
    var queuedBytes: Int { remaining - unstartedHeaderBytes }

    /// Frames `payload` as one masked text frame under `maskKey` (4 bytes)
    /// and queues it after the frames before.
    mutating func enqueue(text payload: [UInt8], maskKey: [UInt8]) {
        payload.withUnsafeBytes { enqueue(text: [$0], maskKey: maskKey) }
    }

    /// Frames the concatenation of `parts` as one masked text frame, copying
    /// each part once, straight into the frame.
    mutating func enqueue(text parts: [UnsafeRawBufferPointer], maskKey: [UInt8]) {
        precondition(maskKey.count == 4, "a websocket mask key is 4 bytes")
        var n = 0
        for part in parts { n += part.count }
        let lengthBytes = n <= Self.maxShortPayload ? 0 : n <= Self.maxMediumPayload ? 2 : 8
        let header = 2 + lengthBytes + 4
        let frame = [UInt8](unsafeUninitializedCapacity: header + n) { out, count in
            // FIN and the text opcode; the mask bit on every client frame.
            out[0] = 0x80 | UInt8(WSLAY_TEXT_FRAME.rawValue)
            switch lengthBytes {
            case 0:
                out[1] = 0x80 | UInt8(n)
            case 2:
                out[1] = 0x80 | 126
                out[2] = UInt8(n >> 8)
                out[3] = UInt8(n & 0xFF)
            default:
                out[1] = 0x80 | 127
                for k in 0..<8 { out[2 + k] = UInt8((UInt64(n) >> UInt64(56 - 8 * k)) & 0xFF) }
            }
            for k in 0..<4 { out[2 + lengthBytes + k] = maskKey[k] }
            var at = header
            for part in parts {
                guard let from = part.baseAddress, !part.isEmpty else { continue }
                // The key goes on where the previous part left it.
                let key = (0..<4).map { maskKey[(at - header + $0) & 3] }
                key.withUnsafeBufferPointer { key in
                    cwslay_mask_copy(
                        out.baseAddress! + at, from.assumingMemoryBound(to: UInt8.self),
                        part.count, key.baseAddress!)
                }
                at += part.count
            }
            count = header + n
        }
        frames.append((frame, header))
        remaining += frame.count
        unstartedHeaderBytes += header
    }

    /// Moves up to `room` bytes of the frames into `out`; returns how many.
    /// A frame not yet started that fits goes into an empty `out` as the
    /// array it already is; otherwise bytes are copied, and a frame may be
    /// cut off (it goes on in the next write).
    @discardableResult
    mutating func move(into out: inout [UInt8], room: Int) -> Int {
        guard next < frames.count else { return 0 }
        let frame = frames[next]
        if sent == 0 { unstartedHeaderBytes -= frame.header }
        let n: Int
        if sent == 0 && out.isEmpty && frame.bytes.count <= room {
            out = frame.bytes
            n = frame.bytes.count
        } else {
            n = min(frame.bytes.count - sent, room)
            frame.bytes.withUnsafeBufferPointer {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[sent..<(sent + n)]))
            }
        }
        sent += n
        remaining -= n
        if sent == frame.bytes.count {
            frames[next].bytes = []
            next += 1
            sent = 0
            compact()
        }
        return n
    }

    /// Drops everything queued.
    mutating func removeAll() {
        frames = []
        next = 0
        sent = 0
        remaining = 0
        unstartedHeaderBytes = 0
    }

    /// Forgets the entries of frames that are out.
    private mutating func compact() {
        if next == frames.count {
            frames.removeAll(keepingCapacity: true)
            next = 0
        } else if next >= Self.frameCompactionThreshold && next * 2 >= frames.count {
            frames.removeFirst(next)
            next = 0
        }
    }
}
