import Glibc
import Runner

/// `ward action plan NAME ...`: what `action run` would execute, without running it.
enum ActionPlanCommand {
    static let specs = [
        OptionSpec(name: "arg", takesValue: true, repeatable: true),
        OptionSpec(name: "opt", takesValue: true, repeatable: true),
        OptionSpec(name: "reason", takesValue: true),
        OptionSpec(name: "json", takesValue: false),
    ]

    static func run(_ words: [String], _ globals: GlobalOptions) throws(CommandFailure) -> ExitCode
    {
        let command = "action plan"
        let o = try ArgumentParser.parse(words, specs: specs, command: command)
        if o.flag("help") {
            Terminal.out(Help.actionPlan)
            return .ok
        }
        guard o.positionals.count == 1 else {
            throw ArgumentParser.usage(command, "name exactly one action")
        }
        guard let reason = o.value("reason") else {
            throw ArgumentParser.usage(command, "--reason is required: say why the plan is made")
        }
        let (args, options) = try ActionRunCommand.values(o, command: command)
        let (config, registry) = try globals.loadRegistry()
        let runtime: Runtime
        do {
            runtime = try Runtime(
                config: config, registry: registry, logger: globals.logger(config: config))
        } catch {
            throw CommandFailure(.journal, "ward: \(error)")
        }
        let request = RunRequest(
            id: "plan-" + RandomID.uuid(), action: o.positionals[0], args: args,
            options: options, reason: reason, origin: .local, requester: "uid:\(getuid())")
        let sink = TerminalSink(mode: o.flag("json") ? .json : .buffered)
        var code = ExitCode.internalError
        runtime.engine.plan(request) { result, head in
            switch result {
            case .failure(let refusal):
                sink.runRefused(request, refusal, journal: head)
                code = sink.exitCode
            case .success(let plan):
                if o.flag("json") {
                    Terminal.out(JSONWriter.pretty(plan.json))
                } else {
                    Terminal.out(render(plan))
                }
                code = .ok
            }
        }
        runtime.runUntilIdle()
        return code
    }

    /// The plan for a person: every argv element JSON-quoted on its own line,
    /// so spaces, empty strings and look-alike characters are unambiguous.
    static func render(_ plan: Plan) -> String {
        func q(_ s: String) -> String { TerminalSink.visible(JSONWriter.string(.string(s))) }
        var lines = ["plan for \(plan.action) (nothing was executed)", "argv:"]
        for (i, element) in plan.argv.enumerated() { lines.append("  [\(i)] \(q(element))") }
        lines.append("workdir: \(q(plan.workingDirectory))")
        lines.append("env:")
        lines.append("  PATH (ward's fixed safe PATH)")
        for name in plan.passthrough { lines.append("  \(name) (passed through from ward)") }
        for v in plan.environment { lines.append("  \(v.name)=\(q(v.value))") }
        lines.append("options:")
        for o in plan.options {
            var text = "  \(o.name.rawValue) = \(o.value)"
            if let by = o.clampedBy { text += " (requested \(o.requested ?? 0), clamped by \(by))" }
            lines.append(text)
        }
        if let head = plan.journal {
            lines.append("journaled as run \(plan.runID), seq \(head.seq)")
        }
        return lines.joined(separator: "\n")
    }
}
