@testable import Runner

/// Fuzzes the MCP stdio reader: bytes are cut into reads (first byte picks the read
/// size), framed into lines by `LineFramer` with a small cap, and every line goes
/// through `JSONRPCCodec.decode`. Each line must decode to a message, a batch or a
/// rejection; the framer must never hold more than its cap.
@_cdecl("LLVMFuzzerTestOneInput")
nonisolated func fuzzMCPReader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    guard let first = bytes.first else { return 0 }
    // A small cap so the oversized path is reachable with short inputs.
    let cap = 256
    let readSize = Int(first % 64) + 1
    var framer = LineFramer(maxLineBytes: cap)
    var events: [LineFramer.Event] = []
    var i = 1
    while i < bytes.count {
        let end = min(bytes.count, i + readSize)
        events += framer.feed(Array(bytes[i..<end]))
        if framer.bufferedBytes > cap { FuzzSupport.fail("framer holds \(framer.bufferedBytes)") }
        i = end
    }
    events += framer.finish()
    for case .line(let line) in events {
        if line.count > cap { FuzzSupport.fail("line of \(line.count) bytes passed the cap") }
        switch JSONRPCCodec.decode(line) {
        case .single(let item): describe(item)
        case .batch(let items): items.forEach(describe)
        default: break
        }
    }
    return 0
}

/// Renders a decoded item the way the server answers it, so encoding is fuzzed too.
nonisolated func describe(_ item: JSONRPCItem) {
    if case .rejected(let r) = item {
        _ = JSONRPCCodec.frame(JSONRPCCodec.error(r.id, r.error))
    }
}
