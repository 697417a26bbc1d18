/// Whose literal secret a registered value is; decides the marker that replaces it.
nonisolated public enum SecretOwner: Hashable, Sendable {
    /// The value of a `secret: true` argument: `[REDACTED:arg.NAME]`.
    case argument(String)
    /// ward's own control-plane auth key: `[REDACTED:auth-key]`.
    case authKey

    /// The rule id in the marker.
    public var ruleID: String {
        switch self {
        case .argument(let name): "arg." + name
        case .authKey: "auth-key"
        }
    }

    /// The name the run event reports (never the value).
    public var name: String {
        switch self {
        case .argument(let name): name
        case .authKey: "auth-key"
        }
    }
}

/// Why a secret value, or one line of it, was not registered for masking.
nonisolated public enum SecretSkipReason: String, Sendable {
    /// Shorter than the minimum length: masking it would mask ordinary text.
    case tooShort = "too_short"
    /// A word like `true` or pure punctuation, which appears everywhere.
    case denyList = "deny_list"
}

/// What registering one secret did, by name and encoding only.
nonisolated public struct SecretRegistration: Equatable, Sendable {
    /// Who the secret belongs to.
    public var owner: SecretOwner
    /// Names of the spellings registered (`raw`, `json-ascii`, `base64-1`, ...).
    public var encodings: [String]
    /// Lines of a multi-line value that were too short or denied (case 01).
    public var linesNotMasked: Int
    /// Set when nothing at all was registered: the value is not masked.
    public var reason: SecretSkipReason?

    /// The registration for the run event: names and counts, never the value.
    public var json: JSONValue {
        var o = JSONObject()
        o["name"] = .string(owner.name)
        if let reason { o["reason"] = .string(reason.rawValue) }
        o["encodings"] = .array(encodings.map { .string($0) })
        if linesNotMasked > 0 { o["lines_not_masked"] = .int(Int64(linesNotMasked)) }
        return .object(o)
    }
}

/// The literal secrets of one run (argument values, ward's auth key) with every
/// derived spelling, checked against the minimum length and the deny list. Values
/// are matched as bytes, never as regular expressions (case 04).
nonisolated public struct SecretSet: Sendable {
    /// Default shortest value that is masked: shorter values are mostly common
    /// words and numbers, whose masking ruins logs and protects nothing (case 06).
    public static let defaultMinimumLength = 6
    /// The minimum can be lowered to this and no further: below four bytes a
    /// secret is guessable and its masking would hit ordinary words everywhere.
    public static let lowestMinimumLength = 4
    /// Words that appear in every log and are never masked whatever their length.
    static let denyList: Set<String> = ["true", "false", "null", "yes", "no"]

    /// One registered spelling.
    struct Literal: Sendable {
        /// The bytes to look for.
        var bytes: [UInt8]
        /// Index of the owner in `owners`.
        var owner: Int
        /// A base64 core, widened over its base64 run when found.
        var base64: Bool
    }

    /// The effective minimum length (never below `lowestMinimumLength`).
    public let minimumLength: Int
    /// Every registration in order, for the run event.
    public private(set) var registrations: [SecretRegistration] = []
    private(set) var owners: [SecretOwner] = []
    private(set) var literals: [Literal] = []

    /// An empty set with the given minimum length (clamped up to 4).
    public init(minimumLength: Int = SecretSet.defaultMinimumLength) {
        self.minimumLength = Swift.max(SecretSet.lowestMinimumLength, minimumLength)
    }

    /// Registers `value` and its derived spellings for `owner`. A value holding
    /// CR or LF is split on runs of them and each line registered on its own,
    /// because output is redacted line by line (case 01); the whole value's
    /// single-line encodings (JSON, percent, base64) are registered as well.
    @discardableResult
    public mutating func register(_ value: String, as owner: SecretOwner) -> SecretRegistration {
        let bytes = Array(value.utf8)
        let lines = SecretSet.lines(of: bytes)
        var registration = SecretRegistration(
            owner: owner, encodings: [], linesNotMasked: 0, reason: nil)
        let ownerIndex = owners.firstIndex(of: owner) ?? owners.count
        if ownerIndex == owners.count { owners.append(owner) }

        var firstReason: SecretSkipReason?
        var registeredLines = 0
        for line in lines {
            if let reason = refusal(line) {
                firstReason = firstReason ?? reason
                registration.linesNotMasked += 1
                continue
            }
            registeredLines += 1
            add(line, name: "raw", base64: false, owner: ownerIndex, to: &registration)
            for form in SecretEncoding.derivedForms(of: line) {
                add(
                    form.bytes, name: form.name, base64: form.base64, owner: ownerIndex,
                    to: &registration)
            }
        }
        if lines.count > 1 || lines.first?.count != bytes.count, registeredLines > 0 {
            for form in SecretEncoding.derivedForms(of: bytes)
            where !form.bytes.contains(where: SecretSet.isLineBreak) {
                add(
                    form.bytes, name: "whole-" + form.name, base64: form.base64,
                    owner: ownerIndex, to: &registration)
            }
        }

        // A single-line value is either registered or refused as a whole.
        if lines.count <= 1 { registration.linesNotMasked = 0 }
        if registeredLines == 0 { registration.reason = firstReason ?? .tooShort }
        registrations.append(registration)
        return registration
    }

    /// Warnings and encodings for the run event: `secrets_not_masked` lists each
    /// refused secret by name and reason, `secret_lines_not_masked` counts lines
    /// of multi-line values left out, `secret_encodings` names the spellings.
    public var json: JSONValue {
        var o = JSONObject()
        let refused = registrations.filter { $0.reason != nil }
        o["secrets_not_masked"] = .array(
            refused.map {
                .object(
                    JSONObject([
                        ("name", .string($0.owner.name)),
                        ("reason", .string($0.reason!.rawValue)),
                    ]))
            })
        let lines = registrations.filter { $0.reason == nil }.reduce(0) { $0 + $1.linesNotMasked }
        o["secret_lines_not_masked"] = .int(Int64(lines))
        var encodings = JSONObject()
        for r in registrations where r.reason == nil {
            encodings[r.owner.name] = .array(r.encodings.map { .string($0) })
        }
        o["secret_encodings"] = .object(encodings)
        return .object(o)
    }

    private func refusal(_ bytes: [UInt8]) -> SecretSkipReason? {
        let lowered = String(decoding: bytes, as: UTF8.self).lowercased()
        if SecretSet.denyList.contains(lowered) { return .denyList }
        if bytes.allSatisfy({ SecretSet.isPunctuationOrSpace($0) }) { return .denyList }
        if bytes.count < minimumLength { return .tooShort }
        return nil
    }

    private mutating func add(
        _ bytes: [UInt8], name: String, base64: Bool, owner: Int,
        to registration: inout SecretRegistration
    ) {
        guard refusal(bytes) == nil else { return }
        if !registration.encodings.contains(name) { registration.encodings.append(name) }
        // The same bytes under a second owner would only ever lose the tie-break.
        if literals.contains(where: { $0.bytes == bytes }) { return }
        literals.append(Literal(bytes: bytes, owner: owner, base64: base64))
    }

    /// `bytes` split on runs of CR and LF, empty pieces dropped.
    static func lines(of bytes: [UInt8]) -> [[UInt8]] {
        bytes.split(whereSeparator: isLineBreak).map(Array.init)
    }

    private static func isLineBreak(_ b: UInt8) -> Bool {
        b == 0x0A || b == 0x0D
    }

    private static func isPunctuationOrSpace(_ b: UInt8) -> Bool {
        (0x20...0x2F).contains(b) || (0x3A...0x40).contains(b) || (0x5B...0x60).contains(b)
            || (0x7B...0x7E).contains(b) || b == 0x09
    }
}
