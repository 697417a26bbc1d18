import Glibc

@testable import Runner

/// The registry every input is validated against: the repo's example packs (or the
/// folder in WARD_FUZZ_PACKS), loaded once.
let fuzzRegistry: Registry = {
    let folder = getenv("WARD_FUZZ_PACKS").map { String(cString: $0) } ?? "packs"
    var entries: [String] = []
    if let dir = opendir(folder) {
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if !name.hasPrefix(".") { entries.append(folder + "/" + name) }
        }
        closedir(dir)
    }
    let (registry, diagnostics) = PackLoader(ceilings: [:], allowWritable: true)
        .load(directories: entries.sorted())
    guard let registry else {
        fatalError("cannot load packs from \(folder): \(diagnostics.map(\.description))")
    }
    return registry
}()

/// Secret values at least this long are looked for in refusals (the validator's
/// minimum secret length, so shorter ones are refused before anything is quoted).
let secretProbeBytes = 6

/// Fails when `refusal` quotes a secret argument's value. A value can also occur in
/// the message for other reasons (it may equal the action's name), so the request is
/// validated again with that value's letters and digits rotated (so it fails or
/// passes the same checks): a quote that disappears with the value is a leak.
/// `byte` moved one place within its class (a-z, A-Z, 0-9, wrapping); others kept.
func rotated(_ byte: UInt8) -> UInt8 {
    for (low, high) in [(UInt8(97), UInt8(122)), (65, 90), (48, 57)]
    where (low...high).contains(byte) {
        return byte == high ? low : byte + 1
    }
    return byte
}

func checkNoSecretQuoted(_ refusal: Refusal, _ request: RunRequest) {
    let said = Array(refusal.description.utf8)
    let action = fuzzRegistry.action(request.action)
    for (index, arg) in request.args.enumerated() where action?.arg(arg.name)?.secret == true {
        let secret: String
        switch arg.value {
        case .json(.string(let s)), .text(let s): secret = s
        default: continue
        }
        let bytes = Array(secret.utf8)
        guard bytes.count >= secretProbeBytes, FuzzSupport.contains(said, bytes) else { continue }
        var other = request
        let stand = String(decoding: bytes.map(rotated), as: UTF8.self)
        other.args[index].value = arg.value == .text(secret) ? .text(stand) : .json(.string(stand))
        guard
            case .failure(let again) = Validator(minSecretLength: 6).validate(
                other, in: fuzzRegistry)
        else { FuzzSupport.fail("refusal quotes secret argument \(arg.name)") }
        if !FuzzSupport.contains(Array(again.description.utf8), bytes) {
            FuzzSupport.fail("refusal quotes secret argument \(arg.name)")
        }
    }
}

/// Fuzzes argument validation and template expansion: the input is a JSON object
/// `{"action": …, "args": {…}, "options": {…}, "reason": …, "text": bool}` (with
/// `text` true, string values arrive as command-line text). Validation must give a
/// run whose argv[0] is absolute, or a refusal that never quotes a secret argument.
@_cdecl("LLVMFuzzerTestOneInput")
nonisolated func fuzzValidator(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    MainActor.assumeIsolated {
        guard case .object(let o)? = try? JSONReader.parse(bytes) else { return }
        let text = o["text"]?.boolValue ?? false
        func values(_ key: String) -> [(name: String, value: RequestValue)] {
            guard case .object(let m)? = o[key] else { return [] }
            return m.members.map { member in
                if text, case .string(let s) = member.value { return (member.key, .text(s)) }
                return (member.key, .json(member.value))
            }
        }
        let request = RunRequest(
            id: "fuzz-1", action: o["action"]?.stringValue ?? "", args: values("args"),
            options: values("options"), reason: o["reason"]?.stringValue ?? "", origin: .cloud,
            requester: "fuzz")
        switch Validator(minSecretLength: 6).validate(request, in: fuzzRegistry) {
        case .success(let run):
            guard let first = run.argv.first, first.hasPrefix("/") else {
                FuzzSupport.fail("argv[0] is not absolute: \(run.argv)")
            }
            _ = JSONWriter.string(run.maskedArgsJSON)
        case .failure(let refusal):
            checkNoSecretQuoted(refusal, request)
        }
    }
    return 0
}
