import Glibc
import Runner

/// Parses the global options, dispatches to the command and exits with its code.
@MainActor func wardMain(_ words: [String]) -> ExitCode {
    var globals = GlobalOptions()
    var i = 0
    do throws(CommandFailure) {
        while i < words.count, words[i].hasPrefix("-") {
            let word = words[i]
            i += 1
            switch word {
            case "-h", "--help":
                Terminal.out(Help.main)
                return .ok
            case "--version":
                guard i == words.count else {
                    throw CommandFailure(
                        .usage, "ward: --version takes no arguments (see 'ward --help')")
                }
                Terminal.out("ward \(WardVersion.current)")
                return .ok
            case "--allow-writable": globals.allowWritable = true
            case "--config", "--log-level", "--log-format":
                guard i < words.count else {
                    throw CommandFailure(.usage, "ward: \(word) needs a value (see 'ward --help')")
                }
                let value = words[i]
                i += 1
                try globals.set(word, value)
            default:
                if let eq = word.firstIndex(of: "="), word.hasPrefix("--") {
                    try globals.set(String(word[..<eq]), String(word[word.index(after: eq)...]))
                } else {
                    throw CommandFailure(.usage, "ward: unknown option \(word) (see 'ward --help')")
                }
            }
        }
        let rest = Array(words[i...])
        guard let command = rest.first else {
            Terminal.err(Help.main)
            return .usage
        }
        let tail = Array(rest.dropFirst())
        switch command {
        case "version": return try VersionCommand.run(tail)
        case "help": return HelpCommand.run(tail)
        case "state": return try StateCommand.run(tail, globals)
        case "connect": return try ConnectCommand.run(tail, globals)
        case "mcp": return try MCPCommand.run(tail, globals)
        case "doctor": return try DoctorCommand.run(tail, globals)
        case "redact": return try RedactCommand.run(tail, globals)
        case "pack":
            guard let (name, words) = try sub(tail, "pack", ["validate"]) else { return .ok }
            precondition(name == "validate")
            return try PackValidateCommand.run(words, globals)
        case "action":
            guard let (name, words) = try sub(tail, "action", ["list", "run", "plan"]) else {
                return .ok
            }
            switch name {
            case "run": return try ActionRunCommand.run(words, globals)
            case "plan": return try ActionPlanCommand.run(words, globals)
            default: return try ActionListCommand.run(words, globals)
            }
        case "events":
            guard let (name, words) = try sub(tail, "events", ["tail", "verify"]) else {
                return .ok
            }
            return name == "tail"
                ? try EventsTailCommand.run(words, globals)
                : try EventsVerifyCommand.run(words, globals)
        default:
            throw CommandFailure(.usage, "ward: unknown command \"\(command)\" (see 'ward --help')")
        }
    } catch {
        if !error.message.isEmpty { Terminal.err(error.message) }
        return error.code
    }
}

/// Picks a command group's subcommand from `words`: its name and the words after
/// it, or nil when the group's help was printed.
@MainActor func sub(_ words: [String], _ group: String, _ names: [String]) throws(CommandFailure)
    -> (String, [String])?
{
    let list = names.joined(separator: ", ")
    guard let name = words.first, !name.hasPrefix("-") else {
        if words.first == "--help" || words.first == "-h" {
            // The group's whole help, as `ward help GROUP` prints it.
            _ = HelpCommand.run([group])
            return nil
        }
        throw CommandFailure(.usage, "ward \(group): expected one of \(list)")
    }
    guard names.contains(name) else {
        throw CommandFailure(
            .usage, "ward \(group): unknown subcommand \"\(name)\" (expected \(list))")
    }
    return (name, Array(words.dropFirst()))
}

extension GlobalOptions {
    mutating func set(_ option: String, _ value: String) throws(CommandFailure) {
        switch option {
        case "--config": configPath = value
        case "--log-level":
            guard let l = LogLevel(name: value) else {
                throw CommandFailure(.usage, "ward: --log-level must be debug, info, warn or error")
            }
            logLevel = l
        case "--log-format":
            switch value {
            case "logfmt": logFormat = .logfmt
            case "json": logFormat = .json
            default: throw CommandFailure(.usage, "ward: --log-format must be logfmt or json")
            }
        default: throw CommandFailure(.usage, "ward: unknown option \(option) (see 'ward --help')")
        }
    }
}

// The pre-exec step of an action with `limits:` (LimitShim): before anything else.
LimitShim.runIfRequested(CommandLine.arguments)

do {
    try ProcessSetup.apply()
} catch {
    Terminal.err("ward: process setup failed: \(error)")
    exit(ExitCode.internalError.rawValue)
}
/// The options (of any command) whose next word is their value, so a bad
/// word after one of them is named as that option's value.
let valueOptions: Set<String> = [
    "--config", "--log-level", "--log-format", "--arg", "--opt", "--reason", "--run-id",
    "--action", "--anchor", "--lines",
]

/// The first command-line word that is not UTF-8, as a message naming it.
/// Swift reads such a word with U+FFFD in place of the bad bytes, so a run
/// would get a value other than the one typed: ward refuses it instead.
func invalidUTF8Word() -> String? {
    let argv = CommandLine.unsafeArgv
    for index in 1..<Int(CommandLine.argc) {
        guard let word = argv[index],
            String(validatingCString: word) == nil
        else { continue }
        let text = String(cString: word)
        let previous = index > 1 ? argv[index - 1].map { String(cString: $0) } : nil
        var what = "command-line word \(index)"
        if previous == "--arg" || previous == "--opt", let eq = text.firstIndex(of: "=") {
            what = "the value of \(previous ?? "") \(text[..<eq])"
        } else if let previous, valueOptions.contains(previous) {
            what = "the value of \(previous)"
        }
        return "ward: \(what) is not valid UTF-8: ward takes UTF-8 text only,"
            + " and would otherwise run with the bad bytes replaced"
    }
    return nil
}

if let message = invalidUTF8Word() {
    Terminal.err(message)
    exit(ExitCode.usage.rawValue)
}
// The config path from the environment is checked the same way: with its bad
// bytes replaced it would name another file.
if let path = getenv("WARD_CONFIG"), String(validatingCString: path) == nil {
    Terminal.err("ward: WARD_CONFIG is not valid UTF-8: ward takes UTF-8 paths only")
    exit(ExitCode.usage.rawValue)
}
let words = CommandLine.arguments.dropFirst().map { $0 }
exit(wardMain(Array(words)).rawValue)
