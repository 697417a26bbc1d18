import Glibc
import Runner

/// `ward mcp`: a Model Context Protocol server on stdin and stdout, exposing
/// every declared action as a tool through the same pipeline as every face.
enum MCPCommand {
    static func run(_ words: [String], _ globals: GlobalOptions) throws(CommandFailure) -> ExitCode
    {
        let o = try ArgumentParser.parse(words, specs: [], command: "mcp")
        if o.flag("help") {
            Terminal.out(Help.mcp)
            return .ok
        }
        guard o.positionals.isEmpty else {
            throw ArgumentParser.usage("mcp", "takes no arguments")
        }
        // Before anything is loaded or journaled: a terminal or a file on stdin
        // is a mistake in how ward was started, not a session.
        do {
            try MCPServer.checkTransport()
        } catch {
            throw CommandFailure(.usage, "ward mcp: \(error)")
        }

        let (config, registry) = try globals.loadRegistry()
        // A long-running mode: the config's log level applies, on stderr.
        let logger = Logger(
            level: globals.logLevel ?? config.logLevel,
            format: globals.logFormat ?? config.logFormat)
        let runtime: Runtime
        do {
            runtime = try Runtime(config: config, registry: registry, logger: logger)
        } catch {
            throw CommandFailure(.journal, "ward: \(error)")
        }
        let server: MCPServer
        do {
            server = try MCPServer(runtime: runtime, logger: logger)
        } catch {
            throw CommandFailure(.usage, "ward mcp: \(error)")
        }
        server.run()
        return .ok
    }
}
