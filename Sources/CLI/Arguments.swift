/// How one option of a command is written.
struct OptionSpec {
    /// The long name without dashes (`arg` for `--arg`).
    var name: String
    /// Whether it takes a value (`--lines 20` or `--lines=20`).
    var takesValue: Bool
    /// Whether it may be given more than once.
    var repeatable: Bool = false
}

/// Options and positional words of one command after parsing.
struct ParsedOptions {
    /// Values by option name; a flag has one empty value per occurrence.
    var values: [String: [String]] = [:]
    /// Words that are not options, in order.
    var positionals: [String] = []

    /// Whether flag `name` was given.
    func flag(_ name: String) -> Bool { values[name] != nil }

    /// The single value of `name`, if given.
    func value(_ name: String) -> String? { values[name]?.last }

    /// Every value of repeatable option `name`.
    func all(_ name: String) -> [String] { values[name] ?? [] }

    /// Refuses positional words, for a command that takes none: a word
    /// silently ignored could be a file the user believes was checked.
    func requireNoPositionals(_ command: String, _ why: String = "takes no arguments")
        throws(CommandFailure)
    {
        guard positionals.isEmpty else { throw ArgumentParser.usage(command, why) }
    }
}

/// A small strict parser: unknown options and missing values are usage errors
/// naming the command, so a typo never runs something else.
enum ArgumentParser {
    /// Parses `words` against `specs` for the command called `command`.
    static func parse(_ words: [String], specs: [OptionSpec], command: String)
        throws(CommandFailure)
        -> ParsedOptions
    {
        var parsed = ParsedOptions()
        var i = 0
        var onlyPositionals = false
        while i < words.count {
            let word = words[i]
            i += 1
            if onlyPositionals || !word.hasPrefix("-") || word == "-" {
                parsed.positionals.append(word)
                continue
            }
            if word == "--" {
                onlyPositionals = true
                continue
            }
            if word == "-h" {
                parsed.values["help", default: []].append("")
                continue
            }
            guard word.hasPrefix("--") else {
                throw usage(command, "unknown option \(word)")
            }
            var name = String(word.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if name == "help" {
                parsed.values["help", default: []].append("")
                continue
            }
            guard let spec = specs.first(where: { $0.name == name }) else {
                if ["config", "allow-writable", "log-level", "log-format"].contains(name) {
                    throw usage(
                        command,
                        "--\(name) is a global option: put it before the command"
                            + " (ward --\(name) ... \(command) ...)")
                }
                throw usage(command, "unknown option --\(name)")
            }
            if !spec.repeatable, parsed.values[name] != nil {
                throw usage(command, "--\(name) given more than once")
            }
            if spec.takesValue {
                if let inline {
                    parsed.values[name, default: []].append(inline)
                } else if i < words.count {
                    parsed.values[name, default: []].append(words[i])
                    i += 1
                } else {
                    throw usage(command, "--\(name) needs a value")
                }
            } else {
                if inline != nil { throw usage(command, "--\(name) takes no value") }
                parsed.values[name, default: []].append("")
            }
        }
        return parsed
    }

    /// A usage error for `command` that points at its help.
    static func usage(_ command: String, _ message: String) -> CommandFailure {
        CommandFailure(.usage, "ward \(command): \(message) (see 'ward \(command) --help')")
    }

    /// Splits `k=v` into its parts; the key must be non-empty.
    static func keyValue(_ text: String, option: String, command: String) throws(CommandFailure)
        -> (String, String)
    {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw usage(command, "--\(option) expects NAME=VALUE, got \"\(text)\"")
        }
        return (String(text[..<eq]), String(text[text.index(after: eq)...]))
    }
}
