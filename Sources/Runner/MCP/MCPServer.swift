import Glibc

/// Why `ward mcp` cannot serve on the descriptors it was given.
public enum MCPServerError: Error, Equatable, CustomStringConvertible {
    /// stdin or stdout is not a pipe or a socket (a terminal, a file, /dev/null).
    case notAPipe(stream: String, kind: String)
    /// libuv could not take the descriptor.
    case open(stream: String, error: UVError)

    public var description: String {
        switch self {
        case .notAPipe(let stream, let kind):
            "\(stream) is \(kind); ward mcp talks to an MCP client over pipes on stdin and"
                + " stdout (configure it in the client, see docs/mcp.md)"
        case .open(let stream, let error):
            "cannot use \(stream): \(error.message) (\(error.name))"
        }
    }
}

/// `ward mcp`: an MCP session on stdin and stdout, driven by the runtime's
/// loop. Reading and writing both go through libuv, so a slow client never
/// blocks the loop; stdout carries nothing but protocol messages (ward's logs
/// go to stderr, children write into their own pipes).
public final class MCPServer {
    /// Queued stdout bytes above which ward stops reading requests and skips
    /// progress notifications until the client catches up. Replies are never
    /// dropped: each is bounded by its action's `max_output_bytes`, and how
    /// many are in flight by `max_concurrent_runs`.
    public static let stdoutHighWater = 1 << 20
    /// How long replies may take to drain once input closed and every run
    /// ended, in milliseconds; a client that stopped reading cannot hold ward.
    static let flushTimeoutMilliseconds: UInt64 = 2000

    /// The loop, journal and engine the session runs on.
    let runtime: Runtime
    /// Where ward's own messages go (stderr, never stdout).
    let logger: Logger
    /// stdin.
    let reader: PipeReader
    /// stdout.
    let writer: PipeWriter
    /// The protocol state; its messages go to `writer`.
    public private(set) var session: MCPSession!
    /// Cuts stdin into messages.
    var framer: LineFramer
    /// Set once stdin closed, failed, or a signal asked ward to stop.
    var inputEnded = false
    /// Bounds the wait for the last replies to drain.
    var flushTimer: Timer?
    /// Set when `flushTimer` fired: ward exits with replies still queued.
    var flushTimedOut = false
    /// SIGINT and SIGTERM, which end the session like a closed stdin.
    var signals: [SignalWatcher] = []

    /// Checks that `input` and `output` are pipes or sockets, as MCP clients
    /// connect them; anything else fails with a message saying so.
    public static func checkTransport(input: Int32 = 0, output: Int32 = 1)
        throws(MCPServerError)
    {
        for (fd, name) in [(input, "stdin"), (output, "stdout")] {
            var info = stat()
            guard fstat(fd, &info) == 0 else {
                throw .notAPipe(stream: name, kind: "closed")
            }
            switch info.st_mode & S_IFMT {
            case S_IFIFO, S_IFSOCK: continue
            case S_IFCHR:
                throw .notAPipe(stream: name, kind: isatty(fd) == 1 ? "a terminal" : "a device")
            case S_IFREG: throw .notAPipe(stream: name, kind: "a regular file")
            default: throw .notAPipe(stream: name, kind: "not a pipe")
            }
        }
    }

    /// A server over `runtime` on descriptors `input` and `output`, which it
    /// takes over; lines longer than `maxLineBytes` are refused unread.
    public init(
        runtime: Runtime, logger: Logger, input: Int32 = 0, output: Int32 = 1,
        maxLineBytes: Int = LineFramer.defaultMaxLineBytes
    ) throws(MCPServerError) {
        try MCPServer.checkTransport(input: input, output: output)
        self.runtime = runtime
        self.logger = logger
        do {
            reader = try PipeReader(loop: runtime.loop, fd: input)
        } catch {
            throw .open(stream: "stdin", error: error)
        }
        do {
            writer = try PipeWriter(loop: runtime.loop, fd: output)
        } catch {
            reader.close()
            throw .open(stream: "stdout", error: error)
        }
        framer = LineFramer(maxLineBytes: maxLineBytes)
        session = MCPSession(engine: runtime.engine, logger: logger) { [unowned self] message in
            self.write(message)
        }
        session.progressAllowed = { [unowned self] in
            self.writer.queuedBytes < MCPServer.stdoutHighWater
        }
    }

    /// Serves until the client closes stdin (or SIGINT/SIGTERM), then stops
    /// the runs in flight, lets the journal finish and the replies drain.
    public func run() {
        reader.onBytes = { [unowned self] bytes in self.handle(self.framer.feed(bytes)) }
        reader.onEnd = { [unowned self] end in
            if case .failed(let error) = end {
                self.logger.warn("mcp input failed", [("error", "\(error)")])
            } else {
                self.handle(self.framer.finish())
            }
            self.endInput(because: "stdin closed")
        }
        writer.onWritten = { [unowned self] in self.written() }
        for sig in [WatchedSignal.interrupt, .terminate] {
            let watcher = SignalWatcher(loop: runtime.loop)
            try? watcher.start(sig) { [unowned self] got in
                self.endInput(because: "signal \(SignalName.of(got.number))")
            }
            signals.append(watcher)
        }
        do {
            try reader.start()
        } catch {
            logger.error("mcp input cannot be read", [("error", "\(error)")])
            endInput(because: "stdin unreadable")
        }
        logger.info("mcp server listening on stdio")

        while !isFinished {
            armFlushTimerWhenOnlyWritesRemain()
            _ = runtime.loop.runOnce()
        }
        flushTimer?.close()
        for s in signals { s.close() }
        signals.removeAll()
        writer.close()
        logger.info("mcp server stopped")
    }

    /// Input is over, every run ended and was journaled, and the replies are out
    /// (or cannot go out).
    var isFinished: Bool {
        inputEnded && session.callsInFlight == 0 && runtime.engine.activeRunCount == 0
            && runtime.journal.pending == 0
            && (writer.pendingWrites == 0 || writer.failure != nil || flushTimedOut)
    }

    private func handle(_ events: [LineFramer.Event]) {
        for event in events {
            switch event {
            case .line(let bytes): session.receive(bytes)
            case .oversized: session.receiveOversized(limit: framer.maxLineBytes)
            }
        }
    }

    private func write(_ message: JSONValue) {
        writer.write(JSONRPCCodec.frame(message))
        if writer.queuedBytes > MCPServer.stdoutHighWater, reader.isReading {
            reader.pause()
        }
    }

    private func written() {
        if let failure = writer.failure, !inputEnded {
            logger.warn("mcp output failed, stopping", [("error", "\(failure)")])
            endInput(because: "stdout closed")
            return
        }
        if !inputEnded, !reader.isReading, writer.queuedBytes < MCPServer.stdoutHighWater / 2 {
            try? reader.resume()
        }
    }

    private func endInput(because reason: String) {
        guard !inputEnded else { return }
        inputEnded = true
        reader.close()
        logger.info(
            "mcp input ended, stopping runs in flight",
            [("reason", reason), ("runs", String(session.callsInFlight))])
        session.close()
    }

    private func armFlushTimerWhenOnlyWritesRemain() {
        guard inputEnded, flushTimer == nil, session.callsInFlight == 0,
            runtime.engine.activeRunCount == 0, runtime.journal.pending == 0,
            writer.pendingWrites > 0
        else { return }
        let timer = Timer(loop: runtime.loop)
        timer.start(after: MCPServer.flushTimeoutMilliseconds) { [unowned self] in
            self.logger.warn("mcp replies not drained in time; exiting anyway")
            self.flushTimedOut = true
        }
        flushTimer = timer
    }
}
