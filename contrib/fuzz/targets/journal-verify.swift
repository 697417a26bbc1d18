import Glibc

@testable import Runner

/// The scratch journal file, made once per process.
let journalPath = FuzzSupport.scratchFolder("journal") + "/events.jsonl"

/// Fuzzes `ward events verify`: the input is written as the active journal file and
/// verified. Damage must come back in the report, never as a crash; a report that
/// says the chain is intact must have checked at least as many lines as it accepted.
@_cdecl("LLVMFuzzerTestOneInput")
nonisolated func fuzzJournalVerify(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    MainActor.assumeIsolated {
        bytes.withUnsafeBytes { FuzzSupport.write(journalPath, $0) }
        do {
            let report = try JournalVerifier.verify(path: journalPath)
            _ = report.filesChecked
        } catch {
            _ = "\(error)"
        }
    }
    return 0
}
