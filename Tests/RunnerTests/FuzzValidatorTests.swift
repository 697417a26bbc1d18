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

    /// The fuzzer stopped on secrets whose value is other text of the refusal: the
    /// action's name, or "attern" (inside "pattern"). The value occurs, but not as a
    /// quote: with the secret's letters rotated, it occurs just as often.
    @Test(arguments: [
        "validator-secret-equals-action-name.json", "validator-secret-equals-message-word.json",
    ])
    func refusalNeverQuotesTheSecretThatEqualsOtherWords(_ fixture: String) throws {
        let original = try request(fixture)
        let registry = try registry()
        let validator = Validator(minSecretLength: 6)
        let secret = try #require(original.args.first { $0.name == "token" })
        guard case .json(.string(let value)) = secret.value,
            case .failure(let refusal) = validator.validate(original, in: registry)
        else {
            Issue.record("no string token, or the request passed validation")
            return
        }
        var other = original
        let index = try #require(other.args.firstIndex { $0.name == "token" })
        let stand = value.unicodeScalars.map { c -> Character in
            switch c {
            case "a"..."y", "A"..."Y", "0"..."8": Character(Unicode.Scalar(c.value + 1)!)
            case "z": "a"
            case "Z": "A"
            case "9": "0"
            default: Character(c)
            }
        }
        other.args[index].value = .json(.string(String(stand)))
        guard case .failure(let again) = validator.validate(other, in: registry) else {
            Issue.record("the request with the stand-in passed validation")
            return
        }
        #expect(occurrences(value, in: refusal.description) > 0)
        #expect(
            occurrences(value, in: refusal.description)
                == occurrences(value, in: again.description))
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
