@testable import Runner

/// An in-memory transport: writes complete at once and are counted, nothing else.
final class FuzzTransport: ByteTransport {
    /// Bytes the client wrote (request, pongs, echoes, close frames).
    var written = 0
    var queuedBytes: Int { 0 }
    func write(_ bytes: [UInt8], completion: @escaping (Bool) -> Void) {
        written += bytes.count
        completion(true)
    }
    func pauseReading() {}
    func resumeReading() {}
    func close() {}
}

/// Echoes every text message back, so the send path runs on fuzzed input too, and
/// checks the client ends at most once.
final class FuzzDelegate: WebSocketClientDelegate {
    var ends = 0
    func webSocketDidOpen(_ client: WebSocketClient, response: UpgradeResponse) {}
    func webSocket(_ client: WebSocketClient, didReceive text: String) {
        try? client.send(text: text)
    }
    func webSocket(_ client: WebSocketClient, writabilityChanged isWritable: Bool) {}
    func webSocket(_ client: WebSocketClient, didEnd end: WebSocketEnd) {
        ends += 1
        if ends > 1 { FuzzSupport.fail("client ended twice") }
    }
}

/// The fixed key (bytes 1...16) and the server's answer to it.
let keyBytes: [UInt8] = Array(1...16)
/// The 101 answer for `keyBytes` (accept value computed with Python's hashlib).
let switchingProtocols = Array(
    ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Accept: C/0nmHhBztSRGR1CwL6Tf4ZjwpY=\r\n\r\n").utf8)

/// Fuzzes the websocket frame parser: a client over an in-memory transport gets the
/// canned upgrade, then the input after byte 0 as server frames, cut into reads
/// whose size byte 0 picks. The client must end cleanly and leave no libuv handle.
@_cdecl("LLVMFuzzerTestOneInput")
nonisolated func fuzzWebSocket(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    guard let first = bytes.first else { return 0 }
    MainActor.assumeIsolated {
        guard let loop = try? EventLoop() else { FuzzSupport.fail("no event loop") }
        let transport = FuzzTransport()
        let delegate = FuzzDelegate()
        let request = try! UpgradeRequest(
            host: "example.test", port: 443, path: "/v1/link", keyBytes: keyBytes)
        let client = WebSocketClient(
            transport: transport, request: request, loop: loop,
            configuration: WebSocketConfiguration(heartbeatIntervalMilliseconds: nil))
        client.delegate = delegate
        client.start()
        client.receive(switchingProtocols)
        if !client.isOpen { FuzzSupport.fail("canned upgrade refused") }
        let readSize = Int(first) + 1
        var i = 1
        while i < bytes.count {
            let end = min(bytes.count, i + readSize)
            client.receive(Array(bytes[i..<end]))
            i = end
        }
        client.transportEnded("fuzz input over")
        loop.run()
        if loop.liveHandleCount != 0 { FuzzSupport.fail("\(loop.liveHandleCount) handles left") }
        do { try loop.close() } catch { FuzzSupport.fail("loop does not close: \(error)") }
    }
    return 0
}
