import CWslay

/// Outgoing text messages, framed here rather than by wslay: each message is
/// one final, masked text frame (RFC 6455 section 5.2), masked eight bytes
/// at a time as it is copied in. wslay would copy the message on queueing,
/// then mask it a byte at a time into a 4 KiB scratch buffer and hand that
/// to the send callback, which made framing a visible share of a stream.
///
/// Frames leave in order, whole or cut across transport writes. The client
/// lets wslay's control frames (pings, pongs, the close) out only where
/// `isAtBoundary` says no data frame is half sent, as wslay itself does.
struct OutgoingDataFrames {
    /// Framed bytes; everything before `offset` has been moved out.
    private var bytes: [UInt8] = []
    private var offset = 0
    /// Frames not yet started, from index `next`: their whole length and
    /// their header's.
    private var frames: [(length: Int, header: Int)] = []
    private var next = 0
    /// Bytes of the frame being moved out that are still here; zero at a
    /// frame boundary.
    private var headLeft = 0
    /// Header bytes of the frames not yet started.
    private var unstartedHeaderBytes = 0

    /// Longest payload whose length fits the 7-bit field.
    static let maxShortPayload = 125
    /// Longest payload whose length fits the 16-bit extended field.
    static let maxMediumPayload = 0xFFFF
    /// Fewest moved-out bytes worth compacting away while frames remain:
    /// below this, shifting the buffer costs more than the memory it frees.
    static let compactionThreshold = 64 * 1024
    /// The same for started frames' entries (16 bytes each).
    static let frameCompactionThreshold = 1024

    /// True when no data frame is half moved out: a control frame may go.
    var isAtBoundary: Bool { headLeft == 0 }
    /// True when nothing is left to move out.
    var isEmpty: Bool { headLeft == 0 && next == frames.count }
    /// Bytes waiting, counted as wslay counts its queue: the payloads of the
    /// frames not started, and what is left of the frame being moved out.
    var queuedBytes: Int { bytes.count - offset - unstartedHeaderBytes }

    /// Frames `payload` as one masked text frame under `maskKey` (4 bytes)
    /// and queues it after the frames before.
    mutating func enqueue(text payload: [UInt8], maskKey: [UInt8]) {
        precondition(maskKey.count == 4, "a websocket mask key is 4 bytes")
        let start = bytes.count
        // FIN and the text opcode; the mask bit on every client frame.
        bytes.append(0x80 | UInt8(WSLAY_TEXT_FRAME.rawValue))
        let n = payload.count
        if n <= Self.maxShortPayload {
            bytes.append(0x80 | UInt8(n))
        } else if n <= Self.maxMediumPayload {
            bytes.append(0x80 | 126)
            bytes.append(UInt8(n >> 8))
            bytes.append(UInt8(n & 0xFF))
        } else {
            bytes.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) {
                bytes.append(UInt8((UInt64(n) >> UInt64(shift)) & 0xFF))
            }
        }
        bytes.append(contentsOf: maskKey)
        let header = bytes.count - start
        // Copied, then masked in place (the mask reads each byte before
        // writing it).
        bytes.append(contentsOf: payload)
        bytes.withUnsafeMutableBufferPointer { out in
            maskKey.withUnsafeBufferPointer { key in
                let body = out.baseAddress! + start + header
                cwslay_mask_copy(body, body, n, key.baseAddress!)
            }
        }
        frames.append((length: header + n, header: header))
        unstartedHeaderBytes += header
    }

    /// Moves up to `room` bytes into `out`: the rest of the frame being moved
    /// out, or at a boundary the start of the next frame. Returns how many
    /// moved (zero when empty).
    @discardableResult
    mutating func move(into out: inout [UInt8], room: Int) -> Int {
        if headLeft == 0 {
            guard next < frames.count else { return 0 }
            headLeft = frames[next].length
            unstartedHeaderBytes -= frames[next].header
            next += 1
        }
        let n = min(headLeft, room)
        bytes.withUnsafeBufferPointer {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[offset..<(offset + n)]))
        }
        offset += n
        headLeft -= n
        compact()
        return n
    }

    /// Forgets every frame (the close went out, or the connection ended).
    mutating func removeAll() {
        bytes = []
        frames = []
        offset = 0
        next = 0
        headLeft = 0
        unstartedHeaderBytes = 0
    }

    /// Drops what has been moved out: at once when nothing is left (the
    /// usual case when the transport keeps up), else once it is both large
    /// and most of the buffer (so each byte is shifted at most once). The
    /// capacity stays: it is bounded by the client's queue bound, there is
    /// one buffer per connection, and freeing it made a stream that filled
    /// the queue fault fresh pages in again and again.
    private mutating func compact() {
        Self.dropFront(&bytes, consumed: &offset, threshold: Self.compactionThreshold)
        Self.dropFront(&frames, consumed: &next, threshold: Self.frameCompactionThreshold)
    }

    /// Removes `array`'s first `consumed` elements by the rule above, and
    /// resets `consumed` when it does.
    private static func dropFront<T>(_ array: inout [T], consumed: inout Int, threshold: Int) {
        if consumed == array.count {
            array.removeAll(keepingCapacity: true)
            consumed = 0
        } else if consumed >= threshold && consumed * 2 >= array.count {
            array.removeFirst(consumed)
            consumed = 0
        }
    }
}
