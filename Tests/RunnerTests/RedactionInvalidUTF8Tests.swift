import CPCRE2
import Testing

@testable import Runner

/// A secret value with a byte that is not UTF-8 in it is redacted whole: PCRE2
/// matches nothing at an invalid byte, so the regex pass also runs over a copy
/// that reads each such byte as `?` (case 11 decodes the byte afterwards).
@Suite struct RedactionInvalidUTF8Tests {
    nonisolated static let leaks: [(input: [UInt8], expected: String)] = [
        (
            Array("login password=M".utf8) + [0xFC] + Array("ller2024 ok".utf8),
            "login password=[REDACTED:password-assignment] ok"
        ),
        (
            Array("api_key=".utf8) + [0xFF] + Array("ABCDEFGHIJKL".utf8),
            "api_key=[REDACTED:password-assignment]"
        ),
        (
            Array("password=\"hun".utf8) + [0xFF] + Array("ter22\"".utf8),
            "password=\"[REDACTED:password-assignment]\""
        ),
        (
            Array("Authorization: Basic dXNl".utf8) + [0xC3, 0x28] + Array("cjpwYXNz".utf8),
            "Authorization: Basic [REDACTED:authorization-header]"
        ),
        (
            Array("postgres://app:M".utf8) + [0xFC] + Array("llerS3cret@db/app".utf8),
            "postgres://app:[REDACTED:url-credentials]@db/app"
        ),
        (
            Array("postgres://app".utf8) + [0xFC] + Array(":S3cretPass@db/app".utf8),
            "postgres://app\u{FFFD}:[REDACTED:url-credentials]@db/app"
        ),
        (
            [0xFF] + Array(" key AKIAIOSFODNN7EXAMPLE".utf8),
            "\u{FFFD} key [REDACTED:aws-access-key-id]"
        ),
    ]

    @Test(arguments: leaks)
    func valueWithAnInvalidByteIsRedactedWhole(_ input: [UInt8], _ expected: String) throws {
        for prefiltered in [true, false] {
            let lines = process([input], with: try makeRedactor(prefiltered: prefiltered))
            #expect(lines.map(\.text) == [expected], "prefiltered: \(prefiltered)")
        }
    }

    @Test func configRuleSeesThroughInvalidBytes() throws {
        let r = try makeRedactor(builtIns: false, extra: [("order", #"ORD-[^\s]+"#)])
        let input = Array("ship ORD-12".utf8) + [0xE0, 0x80] + Array("34 now".utf8)
        #expect(process([input], with: r).map(\.text) == ["ship [REDACTED:order] now"])
    }

    /// The copy is valid UTF-8, keeps every well-formed sequence where it was,
    /// and replaces exactly the bytes Swift's decoder would not accept.
    @Test func sanitizedCopyKeepsOffsetsAndIsValid() {
        var rng = SplitMix64(seed: 0xB17E5)
        let pieces: [[UInt8]] = [
            Array("a".utf8), Array("é".utf8), Array("€".utf8), Array("😀".utf8), [0x80],
            [0xC0, 0x80],
            [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF0, 0x9F],
            [0xFF], [0xC3], [0xE2, 0x82],
        ]
        for _ in 0..<2000 {
            var input: [UInt8] = []
            for _ in 0..<Int.random(in: 0...12, using: &rng) {
                input += pieces.randomElement(using: &rng)!
            }
            var copy = [UInt8](repeating: 0, count: input.count)
            let replaced = input.withUnsafeBufferPointer { src in
                copy.withUnsafeMutableBufferPointer { dst in
                    cpcre2_utf8_sanitize(src.baseAddress, src.count, dst.baseAddress)
                }
            }
            let valid = String(validating: input, as: UTF8.self) != nil
            #expect((replaced == 0) == valid, "\(input)")
            #expect(String(validating: copy, as: UTF8.self) != nil, "\(input) -> \(copy)")
            #expect(copy.count == input.count)
            // Every byte is either kept or became `?`.
            #expect(zip(input, copy).allSatisfy { $0 == $1 || $1 == UInt8(ascii: "?") })
        }
    }
}
