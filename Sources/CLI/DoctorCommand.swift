import Runner

/// `ward doctor`: checks this host's config, packs, programs, journal, control
/// plane and service install, and prints a checklist (or JSON).
enum DoctorCommand {
    static func run(_ words: [String], _ globals: GlobalOptions) throws(CommandFailure) -> ExitCode
    {
        let o = try ArgumentParser.parse(
            words,
            specs: [
                OptionSpec(name: "json", takesValue: false),
                OptionSpec(name: "offline", takesValue: false),
            ], command: "doctor")
        if o.flag("help") {
            Terminal.out(Help.doctor)
            return .ok
        }
        guard o.positionals.isEmpty else {
            throw ArgumentParser.usage("doctor", "takes no arguments")
        }
        var settings = Doctor.Settings(configPath: globals.resolvedConfigPath)
        settings.allowWritable = globals.allowWritable
        settings.offline = o.flag("offline")
        settings.environment = ChildEnvironment.currentDictionary()
        let report = Doctor.run(settings)
        if o.flag("json") {
            Terminal.out(JSONWriter.pretty(report.json))
        } else {
            var text = report.text
            while text.hasSuffix("\n") { text.removeLast() }
            Terminal.out(text)
        }
        return report.ok ? .ok : .failed
    }
}
