import Glibc
import Runner

/// `ward redact`: standard input through the same line splitting and redaction
/// rules as a run's output, to standard output. Operators try their config's
/// and packs' rules on real log samples with it; the benchmark times the
/// redaction stage with it. Nothing is journaled and nothing is run.
enum RedactCommand {
    /// Bytes per read: one full pipe buffer, as the engine reads a child.
    static let readBytes = 65536
    /// Output is written once this much is buffered (and at the end).
    static let writeBytes = 65536

    static func run(_ words: [String], _ globals: GlobalOptions) throws(CommandFailure) -> ExitCode
    {
        let o = try ArgumentParser.parse(
            words,
            specs: [
                OptionSpec(name: "action", takesValue: true),
                OptionSpec(name: "no-config", takesValue: false),
            ],
            command: "redact")
        if o.flag("help") {
            Terminal.out(Help.redact)
            return .ok
        }
        guard o.positionals.isEmpty else {
            throw ArgumentParser.usage("redact", "reads standard input; it takes no arguments")
        }
        let redactor = try makeRedactor(
            action: o.value("action"), noConfig: o.flag("no-config"), globals)
        let processor = StreamProcessor(stream: .stdout, redactor: redactor)
        var output = OutputBuffer(capacity: writeBytes)
        var lines = 0
        var markers = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: readBytes, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(0, buffer.baseAddress, readBytes)
            if n < 0 {
                if errno == EINTR { continue }
                throw CommandFailure(.failed, "ward redact: cannot read stdin: \(errnoName(errno))")
            }
            let done = n == 0
            let out =
                done
                ? processor.finish()
                : processor.feed(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
            for line in out {
                lines += 1
                markers += line.redactions
                try output.append(line)
            }
            if done { break }
        }
        try output.flush()
        Terminal.err("ward redact: \(lines) line(s), \(markers) redaction(s)")
        return .ok
    }

    /// The shared rules (built-ins plus the config's), and `action`'s own rules.
    static func makeRedactor(action: String?, noConfig: Bool, _ globals: GlobalOptions)
        throws(CommandFailure) -> Redactor
    {
        if noConfig {
            guard action == nil else {
                throw ArgumentParser.usage("redact", "--action needs the config's packs")
            }
            return Redactor(rules: RedactionRuleSet())
        }
        let config: RunnerConfig
        var actionRules: [RedactionRuleSpec] = []
        if let action {
            let (loaded, registry) = try globals.loadRegistry()
            guard let declared = registry.action(action) else {
                throw CommandFailure(.usage, "ward redact: no action \"\(action)\" is declared")
            }
            config = loaded
            actionRules = declared.redaction
        } else {
            config = try globals.loadConfig()
        }
        return Redactor(
            rules: RedactionRuleSet(extra: config.redactionRules), actionRules: actionRules)
    }
}

/// Redacted lines gathered into one buffer and written to stdout in large
/// writes, each with its original line ending, so the output is the input with
/// only the secrets changed.
struct OutputBuffer {
    private var bytes: [UInt8] = []
    private let capacity: Int

    /// A buffer that writes whenever `capacity` bytes are held.
    init(capacity: Int) {
        self.capacity = capacity
        bytes.reserveCapacity(capacity + StreamProcessor.maxLineBytes)
    }

    /// Adds `line` and its ending; writes when the buffer is full.
    mutating func append(_ line: OutputLine) throws(CommandFailure) {
        bytes.append(contentsOf: line.text.utf8)
        switch line.eol {
        case .lf: bytes.append(0x0A)
        case .crlf: bytes.append(contentsOf: [0x0D, 0x0A])
        case .cr: bytes.append(0x0D)
        case .none, .split: break
        }
        if bytes.count >= capacity { try flush() }
    }

    /// Writes everything held, retrying short writes.
    mutating func flush() throws(CommandFailure) {
        if let code = Terminal.writeAll(1, bytes) {
            // The reader left (`| head`, a closed pager): nothing to say.
            if code == EPIPE { throw CommandFailure(.failed, "") }
            throw CommandFailure(.failed, "ward redact: cannot write stdout: \(errnoName(code))")
        }
        bytes.removeAll(keepingCapacity: true)
    }
}
