/// The spelling rules for names in packs and the config, checked byte by byte (ASCII
/// only, so no Unicode look-alikes can pass).
nonisolated struct NameRule: Sendable {
    /// What the name is, for messages ("action name").
    let noun: String
    /// The rule in words, for messages.
    let explanation: String
    /// Bytes allowed as the first character of a name (or of each segment).
    let first: String
    /// Bytes allowed after the first.
    let rest: String
    /// Longest name accepted.
    let maxLength: Int
    /// True when the name is dot-separated segments, each following `first`/`rest`.
    var segmented = false

    private static let lower = "abcdefghijklmnopqrstuvwxyz"
    private static let upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    private static let digits = "0123456789"

    /// Names are identifiers people type and read in diagnostics and UIs; 64
    /// characters is generous for that and keeps journal lines and state small.
    static let identifierLength = 64

    /// `linux-core`: a pack's name.
    static let pack = NameRule(
        noun: "pack name",
        explanation: "lowercase letters, digits and hyphens, not starting with"
            + " a hyphen, at most 64 characters", first: lower + digits,
        rest: lower + digits + "-", maxLength: identifierLength)

    /// `corp-ticket`: a redaction rule's id.
    static let ruleID = NameRule(
        noun: "rule id",
        explanation: "lowercase letters, digits and hyphens, not starting with"
            + " a hyphen, at most 64 characters", first: lower + digits,
        rest: lower + digits + "-", maxLength: identifierLength)

    /// `linux.journal`: an action's name.
    static let action = NameRule(
        noun: "action name",
        explanation: "dot-separated segments of lowercase letters, digits"
            + " and hyphens, at most 64 characters", first: lower + digits + "-",
        rest: lower + digits + "-", maxLength: identifierLength, segmented: true)

    /// `unit`: an argument's name; underscores so that it reads as an identifier in
    /// templates and tool schemas.
    static let argument = NameRule(
        noun: "argument name",
        explanation: "a lowercase letter, then lowercase letters,"
            + " digits and underscores, at most 64 characters", first: lower,
        rest: lower + digits + "_", maxLength: identifierLength)

    /// `LANG`: an environment variable's name, as POSIX shells accept them.
    static let environment = NameRule(
        noun: "environment variable name",
        explanation: "letters, digits and underscores,"
            + " not starting with a digit, at most 128 characters", first: lower + upper + "_",
        rest: lower + upper + digits + "_", maxLength: 128)

    /// `dev-runner-1`: a runner's id.
    static let runnerID = NameRule(
        noun: "runner id",
        explanation: "letters, digits, dots, underscores and hyphens,"
            + " 1 to 64 characters", first: lower + upper + digits + "._-",
        rest: lower + upper + digits + "._-", maxLength: identifierLength)

    /// `env`, `team.owner`: a label's key.
    static let labelKey = NameRule(
        noun: "label key",
        explanation: "letters, digits, dots, slashes, underscores and"
            + " hyphens, 1 to 64 characters", first: lower + upper + digits + "._/-",
        rest: lower + upper + digits + "._/-", maxLength: identifierLength)

    /// Nil when `value` follows the rule, otherwise a sentence quoting it.
    func problem(_ value: String) -> String? {
        let quoted = YAMLScalar(text: value, style: .plain).quotedForMessage
        let refusal = "\(quoted) is not a valid \(noun) (\(explanation))"
        guard !value.isEmpty, value.utf8.count <= maxLength else { return refusal }
        let segments =
            segmented
            ? value.split(separator: ".", omittingEmptySubsequences: false)
            : [Substring(value)]
        for segment in segments {
            guard let head = segment.utf8.first, first.utf8.contains(head),
                segment.utf8.dropFirst().allSatisfy({ rest.utf8.contains($0) })
            else { return refusal }
        }
        return nil
    }
}
