@testable import Runner

/// Fuzzes the control plane's incoming message decoder: any bytes must decode to a
/// message or a `WireError`, and an error must be encodable as the wire's JSON.
@_cdecl("LLVMFuzzerTestOneInput")
nonisolated func fuzzWireDecode(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    MainActor.assumeIsolated {
        switch WireDecoder.decode(bytes) {
        case .success: break
        case .failure(let error): _ = JSONWriter.string(error.json)
        }
    }
    return 0
}
