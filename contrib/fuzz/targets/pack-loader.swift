import Glibc

@testable import Runner

/// The scratch pack folder, made once per process.
let packRoot = FuzzSupport.scratchFolder("pack")

/// Fuzzes the pack loader over real files: the input up to its first NUL byte is
/// `p/pack.yaml`, the rest (when there is a NUL) is `p/actions/a.yaml`. Loading must
/// give a registry or diagnostics, and a failed load must say why.
@_cdecl("LLVMFuzzerTestOneInput")
nonisolated func fuzzPackLoader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    MainActor.assumeIsolated {
        let pack = packRoot + "/p"
        FuzzSupport.folder(pack)
        FuzzSupport.folder(pack + "/actions")
        let cut = bytes.firstIndex(of: 0) ?? bytes.count
        Array(bytes[..<cut]).withUnsafeBytes { FuzzSupport.write(pack + "/pack.yaml", $0) }
        let actions = pack + "/actions/a.yaml"
        if cut < bytes.count {
            Array(bytes[(cut + 1)...]).withUnsafeBytes { FuzzSupport.write(actions, $0) }
        } else {
            unlink(actions)
        }
        let (registry, diagnostics) = PackLoader(ceilings: [:], allowWritable: true)
            .load(directories: [pack])
        if registry == nil && diagnostics.isEmpty {
            FuzzSupport.fail("load failed without a diagnostic")
        }
        for d in diagnostics { _ = d.description }
    }
    return 0
}
