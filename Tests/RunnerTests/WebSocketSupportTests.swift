import Glibc
import Testing

@testable import Runner

/// Helpers for the WebSocket suites: a hand-written frame encoder for server
/// frames, a decoder for the client's frames, an in-memory byte transport and
/// a delegate that records what the client reports.
nonisolated enum WebSocketTestSupport {
    /// The fixed key bytes 1...16 the tests' requests use.
    static let keyBytes: [UInt8] = Array(1...16)
    /// base64 of `keyBytes`, computed independently (Python's base64).
    static let key = "AQIDBAUGBwgJCgsMDQ4PEA=="
    /// The accept value for `key`, computed independently (Python's hashlib).
    static let accept = "C/0nmHhBztSRGR1CwL6Tf4ZjwpY="

    /// Bytes from hex like `"81 02 c3 28"`.
    static func hex(_ text: String) -> [UInt8] {
        text.split(separator: " ").map { UInt8($0, radix: 16)! }
    }

    /// How a test frame writes its payload length.
    enum LengthForm {
        /// The shortest form, as RFC 6455 requires.
        case minimal
        /// Always the 16-bit form.
        case sixteen
        /// Always the 64-bit form.
        case sixtyFour
    }

    /// One frame as a server would send it, built bit by bit.
    static func frame(
        _ opcode: UInt8, _ payload: [UInt8] = [], fin: Bool = true, rsv: UInt8 = 0,
        maskKey: [UInt8]? = nil, length: LengthForm = .minimal, claimedLength: UInt64? = nil
    ) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | (rsv << 4) | opcode]
        let count = claimedLength ?? UInt64(payload.count)
        let maskBit: UInt8 = maskKey == nil ? 0 : 0x80
        let form: LengthForm =
            length != .minimal
            ? length : count < 126 ? .minimal : count < 65536 ? .sixteen : .sixtyFour
        switch form {
        case .minimal: out.append(maskBit | UInt8(count))
        case .sixteen: out += [maskBit | 126, UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
        case .sixtyFour:
            out.append(maskBit | 127)
            out += (0..<8).map { UInt8(count >> (56 - 8 * UInt64($0)) & 0xFF) }
        }
        if let key = maskKey {
            out += key
            out += payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
        } else {
            out += payload
        }
        return out
    }

    /// A text frame of `text`.
    static func text(_ text: String, fin: Bool = true) -> [UInt8] {
        frame(0x1, Array(text.utf8), fin: fin)
    }

    /// A close frame with `code` and `reason`.
    static func close(_ code: UInt16, _ reason: String = "") -> [UInt8] {
        frame(0x8, [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8))
    }

    /// A frame the client sent, unmasked.
    struct ClientFrame: Equatable {
        var fin: Bool
        var rsv: UInt8
        var opcode: UInt8
        var masked: Bool
        var payload: [UInt8]

        /// The close code in a close frame's payload.
        var closeCode: UInt16? {
            opcode == 0x8 && payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil
        }
    }

    /// Splits the client's byte stream into frames; nil when it is not a
    /// whole number of well-formed frames.
    static func decode(_ bytes: [UInt8]) -> [ClientFrame]? {
        var frames: [ClientFrame] = []
        var i = 0
        while i < bytes.count {
            guard bytes.count - i >= 2 else { return nil }
            let b0 = bytes[i]
            let b1 = bytes[i + 1]
            i += 2
            var length = UInt64(b1 & 0x7F)
            let extra = length == 126 ? 2 : length == 127 ? 8 : 0
            guard bytes.count - i >= extra else { return nil }
            if extra > 0 {
                length = bytes[i..<(i + extra)].reduce(0) { $0 << 8 | UInt64($1) }
                i += extra
            }
            let masked = b1 & 0x80 != 0
            var key: [UInt8] = [0, 0, 0, 0]
            if masked {
                guard bytes.count - i >= 4 else { return nil }
                key = Array(bytes[i..<(i + 4)])
                i += 4
            }
            guard UInt64(bytes.count - i) >= length else { return nil }
            let body = bytes[i..<(i + Int(length))].enumerated().map {
                $0.element ^ key[$0.offset % 4]
            }
            i += Int(length)
            frames.append(
                ClientFrame(
                    fin: b0 & 0x80 != 0, rsv: (b0 >> 4) & 0x7, opcode: b0 & 0x0F, masked: masked,
                    payload: body))
        }
        return frames
    }

    /// The 101 answer to the tests' request.
    static let switchingProtocols = Array(
        ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(accept)\r\n\r\n").utf8)

    /// The tests' request: wss to example.test, fixed key.
    static func request() -> UpgradeRequest {
        try! UpgradeRequest(host: "example.test", port: 443, path: "/v1/link", keyBytes: keyBytes)
    }
}

/// An in-memory byte stream: records every write, and completes writes at
/// once or only when the test says so.
final class MemoryTransport: ByteTransport {
    /// Every buffer handed to `write`, in order.
    var writes: [[UInt8]] = []
    /// Completions not yet run (only when `holdWrites`).
    var pending: [(Bool) -> Void] = []
    /// When true, writes complete only through `completeWrite()`.
    var holdWrites = false
    /// What a completion reports.
    var writeSucceeds = true
    /// The most writes ever outstanding at once.
    var maxOutstanding = 0
    /// Writes handed over and not yet completed.
    var outstanding = 0
    /// Calls to `close()`.
    var closeCount = 0
    /// Calls to `pauseReading()` and `resumeReading()`.
    var pauses = 0
    var resumes = 0
    /// Called for each write, after it is recorded.
    var onWrite: (([UInt8]) -> Void)?

    var queuedBytes: Int { pendingBytes }
    private var pendingBytes = 0

    func write(_ bytes: [UInt8], completion: @escaping (Bool) -> Void) {
        writes.append(bytes)
        outstanding += 1
        maxOutstanding = max(maxOutstanding, outstanding)
        onWrite?(bytes)
        if holdWrites {
            pendingBytes += bytes.count
            pending.append(completion)
        } else {
            outstanding -= 1
            completion(writeSucceeds)
        }
    }

    /// Completes the oldest held write.
    func completeWrite() {
        let completion = pending.removeFirst()
        pendingBytes -= writes[writes.count - pending.count - 1].count
        outstanding -= 1
        completion(writeSucceeds)
    }

    /// Completes held writes until none is left (new ones included).
    func drain() {
        while !pending.isEmpty { completeWrite() }
    }

    func pauseReading() { pauses += 1 }
    func resumeReading() { resumes += 1 }
    func close() { closeCount += 1 }

    /// Everything written, as one stream.
    var stream: [UInt8] { writes.flatMap { $0 } }
}

/// Records what a client reports.
final class WebSocketRecorder: WebSocketClientDelegate {
    var opened: [UpgradeResponse] = []
    var texts: [String] = []
    var writability: [Bool] = []
    var ends: [WebSocketEnd] = []
    /// Called for each text, after it is recorded.
    var onText: ((WebSocketClient, String) -> Void)?

    func webSocketDidOpen(_ client: WebSocketClient, response: UpgradeResponse) {
        opened.append(response)
    }
    func webSocket(_ client: WebSocketClient, didReceive text: String) {
        texts.append(text)
        onText?(client, text)
    }
    func webSocket(_ client: WebSocketClient, writabilityChanged isWritable: Bool) {
        writability.append(isWritable)
    }
    func webSocket(_ client: WebSocketClient, didEnd end: WebSocketEnd) {
        ends.append(end)
    }
}

/// A client opened over a `MemoryTransport`, with its loop, for one test.
final class OpenedClient {
    let loop: EventLoop
    let transport = MemoryTransport()
    let recorder = WebSocketRecorder()
    let client: WebSocketClient
    /// Bytes written before the handshake finished (the request).
    let requestBytes: Int

    /// Starts a client and answers its upgrade; no heartbeat unless asked.
    init(
        configuration: WebSocketConfiguration = WebSocketConfiguration(
            heartbeatIntervalMilliseconds: nil)
    )
        throws
    {
        loop = try EventLoop()
        client = WebSocketClient(
            transport: transport, request: WebSocketTestSupport.request(), loop: loop,
            configuration: configuration)
        client.delegate = recorder
        client.start()
        requestBytes = transport.stream.count
        client.receive(WebSocketTestSupport.switchingProtocols)
    }

    /// The client's frames after the request.
    var frames: [WebSocketTestSupport.ClientFrame] {
        WebSocketTestSupport.decode(Array(transport.stream.dropFirst(requestBytes))) ?? []
    }

    /// The close codes the client sent.
    var sentCloseCodes: [UInt16?] {
        frames.filter { $0.opcode == 0x8 }.map(\.closeCode)
    }

    /// Ends the client if the test did not, and checks the loop closes clean.
    func finish(sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        client.transportEnded("test over")
        transport.drain()
        LoopTests.closeClean(loop, sourceLocation: sourceLocation)
    }
}

/// The helpers themselves: a test frame encoder that is wrong makes every
/// other websocket test meaningless.
@Suite struct WebSocketSupportTests {
    @Test func encoderMatchesTheRFCExamples() {
        // RFC 6455 section 5.7: unmasked "Hello", masked "Hello", 256-byte binary.
        #expect(
            WebSocketTestSupport.text("Hello") == WebSocketTestSupport.hex("81 05 48 65 6c 6c 6f"))
        #expect(
            WebSocketTestSupport.frame(0x1, Array("Hello".utf8), maskKey: [0x37, 0xfa, 0x21, 0x3d])
                == WebSocketTestSupport.hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"))
        #expect(
            Array(WebSocketTestSupport.frame(0x2, [UInt8](repeating: 0, count: 256)).prefix(4))
                == WebSocketTestSupport.hex("82 7e 01 00"))
    }

    @Test func decoderReadsAMaskedFrameAndRefusesATruncatedOne() {
        let bytes = WebSocketTestSupport.hex("81 85 37 fa 21 3d 7f 9f 4d 51 58")
        let frames = WebSocketTestSupport.decode(bytes)
        #expect(frames?.count == 1)
        #expect(frames?.first?.payload == Array("Hello".utf8))
        #expect(frames?.first?.masked == true)
        #expect(WebSocketTestSupport.decode(Array(bytes.dropLast())) == nil)
    }
}

extension OpenedClient {
    /// Feeds `bytes` in the pieces cut at `splits` (ascending offsets).
    func feed(_ bytes: [UInt8], splits: [Int] = []) {
        var start = 0
        for cut in splits + [bytes.count] {
            client.receive(Array(bytes[start..<cut]))
            start = cut
        }
    }

    /// Runs `check` on a fresh client fed `bytes` whole, then split in two at
    /// every offset, then one byte at a time; ends each client clean.
    static func everySplit(
        _ bytes: [UInt8],
        configuration: WebSocketConfiguration = WebSocketConfiguration(
            heartbeatIntervalMilliseconds: nil),
        sourceLocation: Testing.SourceLocation = #_sourceLocation,
        _ check: (OpenedClient, String) -> Void
    ) throws {
        var plans: [(String, [Int])] = (0...bytes.count).map { ("split at \($0)", [$0]) }
        plans.append(("byte by byte", Array(0..<bytes.count)))
        for (name, splits) in plans {
            let opened = try OpenedClient(configuration: configuration)
            opened.feed(bytes, splits: splits)
            check(opened, name)
            opened.finish(sourceLocation: sourceLocation)
        }
    }
}
