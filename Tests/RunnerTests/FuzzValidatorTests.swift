import Testing

@testable import Runner

/// Inputs the validator fuzz target (contrib/fuzz/targets/validator.swift) stopped
/// on, replayed against the example packs it fuzzes with.
@Suite struct FuzzValidatorTests {
    /// The request in `Fixtures/fuzz/NAME`, built as the fuzz target builds it.
    private func request(_ name: String) throws -> RunRequest {
        let bytes = try FileSystem.read(
            PackFixtures.testsFolder + "/Fixtures/fuzz/" + name, limit: 1 << 16
        ).get()
        guard case .object(let o) = try JSONReader.parse(bytes),
            case .object(let args)? = o["args"]
        else { throw FuzzFixtureError.notARequest(name) }
        return RunRequest(
            id: "fuzz-1", action: o["action"]?.stringValue ?? "",
            args: args.members.map { ($0.key, .json($0.value)) }, options: [],
            reason: o["reason"]?.stringValue ?? "", origin: .cloud, requester: "fuzz")
    }

    /// The repo's showcase pack, whose `showcase.secret` has a secret `token`.
    private func registry() throws -> Registry {
        let (registry, diagnostics) = PackLoader(ceilings: [:], allowWritable: true)
            .load(directories: [PackFixtures.repoRoot + "/packs/showcase"])
        #expect(diagnostics.isEmpty)
        return try #require(registry)
    }

    /// The fuzzer found a secret whose value is the action's own name: the refusal
    /// names the action, so the text occurs, but only as the action's name. Replacing
    /// the secret must leave that occurrence, and no other copy of the value appears.
    @Test func refusalQuotesActionNameNotTheSecretThatEqualsIt() throws {
        let original = try request("validator-secret-equals-action-name.json")
        let registry = try registry()
        let validator = Validator(minSecretLength: 6)
        guard case .failure(let refusal) = validator.validate(original, in: registry) else {
            Issue.record("the request passed validation")
            return
        }
        var other = original
        other.args[0].value = .json(.string(String(repeating: "\u{7}", count: 15)))
        guard case .failure(let again) = validator.validate(other, in: registry) else {
            Issue.record("the request with the stand-in passed validation")
            return
        }
        #expect(
            occurrences("showcase.secret", in: refusal.description)
                == occurrences("showcase.secret", in: again.description))
        #expect(refusal.description.contains("args.args"))
    }
}

/// How many times `needle` occurs in `text`, overlapping occurrences included.
private func occurrences(_ needle: String, in text: String) -> Int {
    let hay = Array(text.utf8)
    let pin = Array(needle.utf8)
    guard pin.count <= hay.count else { return 0 }
    return (0...(hay.count - pin.count)).filter { hay[$0..<$0 + pin.count].elementsEqual(pin) }
        .count
}

/// A fixture that is not a request object with an `args` object.
enum FuzzFixtureError: Error {
    case notARequest(String)
}
