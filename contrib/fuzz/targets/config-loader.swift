import Glibc

@testable import Runner

/// The scratch config file, made once per process.
let configPath = FuzzSupport.scratchFolder("config") + "/config.yaml"

/// Fuzzes the runner config loader over a real file: a load gives a config or
/// diagnostics, and a failed load must say why.
@_cdecl("LLVMFuzzerTestOneInput")
nonisolated func fuzzConfigLoader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    MainActor.assumeIsolated {
        bytes.withUnsafeBytes { FuzzSupport.write(configPath, $0) }
        switch RunnerConfig.load(path: configPath, allowWritable: true) {
        case .success(let config): _ = config.runnerID
        case .failure(let d):
            if d.all.isEmpty { FuzzSupport.fail("load failed without a diagnostic") }
            for problem in d.all { _ = problem.description }
        }
    }
    return 0
}
