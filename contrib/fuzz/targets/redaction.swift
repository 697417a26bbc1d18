@testable import Runner

/// The registered secret. It has letters, digits and a dash so that its percent,
/// JSON and base64 spellings differ from it, and no `[` so no marker can spell it.
let fuzzSecret = "s3cr3t-Fuzz-Val"

/// Every spelling of the secret that must never reach the output.
let forbiddenForms: [[UInt8]] = {
    let raw = Array(fuzzSecret.utf8)
    return [raw] + SecretEncoding.derivedForms(of: raw).map(\.bytes)
}()

/// The built-in rules, compiled once.
let builtInRules = RedactionRuleSet()

/// Line caps to try: tiny ones force cuts everywhere, the last is the product's.
let lineCaps = [16, 64, 300, StreamProcessor.maxLineBytes]

/// Fuzzes the line splitter with redaction. Byte 0 picks the line cap, the regex
/// window and the stream; byte 1 seeds the read sizes and idle flushes; the rest is
/// what the child prints. No spelling of the registered secret may appear in the
/// emitted lines (split pieces rejoined), the buffer must stay within the cap plus
/// the holdback, line numbers must run 1, 2, 3..., and the same reads through a
/// redactor without the literal prefilter must give exactly the same lines.
@_cdecl("LLVMFuzzerTestOneInput")
nonisolated func fuzzRedaction(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    guard bytes.count >= 2 else { return 0 }
    MainActor.assumeIsolated {
        let config = bytes[0]
        var set = SecretSet(minimumLength: 6)
        set.register(fuzzSecret, as: .argument("token"))
        let window =
            config & 4 == 0 ? Redactor.minimumRegexWindow : Redactor.defaultRegexWindow
        let redactor = Redactor(rules: builtInRules, secrets: set, regexWindow: window)
        let unfiltered = Redactor(
            rules: builtInRules, secrets: set, regexWindow: window, prefiltered: false)
        let cap = lineCaps[Int(config & 3)]
        let stream: OutputLine.Stream = config & 8 == 0 ? .stdout : .stderr
        let p = StreamProcessor(stream: stream, redactor: redactor, lineCap: cap)
        let q = StreamProcessor(stream: stream, redactor: unfiltered, lineCap: cap)
        var state = UInt32(bytes[1]) &* 2_654_435_761 | 1
        func next() -> Int {
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            return Int(state >> 8)
        }
        let maxRead = [1, 7, 100, 5000][next() % 4]
        var out: [OutputLine] = []
        var reference: [OutputLine] = []
        var i = 2
        while i < bytes.count {
            let end = min(bytes.count, i + 1 + next() % maxRead)
            out += p.feed(Array(bytes[i..<end]))
            reference += q.feed(Array(bytes[i..<end]))
            if next() % 4 == 0 {
                out += p.idleFlush()
                reference += q.idleFlush()
            }
            if p.bufferedBytes > cap + p.holdback {
                FuzzSupport.fail("buffer \(p.bufferedBytes) > cap \(cap) + \(p.holdback)")
            }
            i = end
        }
        out += p.finish()
        reference += q.finish()
        if out != reference {
            FuzzSupport.fail("the prefiltered redactor's lines differ from the unfiltered one's")
        }
        if !out.enumerated().allSatisfy({ Int($0.element.seq) == $0.offset + 1 }) {
            FuzzSupport.fail("line numbers are not 1...\(out.count)")
        }
        var line: [UInt8] = []
        for piece in out {
            line += Array(piece.text.utf8)
            if piece.eol == .split { continue }
            for form in forbiddenForms where FuzzSupport.contains(line, form) {
                FuzzSupport.fail("secret spelling \(String(decoding: form, as: UTF8.self)) emitted")
            }
            line = []
        }
        for form in forbiddenForms where FuzzSupport.contains(line, form) {
            FuzzSupport.fail("secret spelling emitted in the last piece")
        }
    }
    return 0
}
