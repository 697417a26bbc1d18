/// What to run: an argv array, never a shell line, with exactly the given
/// environment (nothing is inherited from ward).
nonisolated public struct ChildSpec: Equatable, Sendable {
    /// Absolute path of the program; PATH is never searched.
    public var executable: String
    /// The argument vector, argv[0] included.
    public var argv: [String]
    /// `NAME=value` entries, exactly the child's environment. Build it with
    /// `ChildEnvironment.build`.
    public var environment: [String]
    /// Directory the child starts in.
    public var workingDirectory: String

    /// A spec from its parts.
    public init(
        executable: String, argv: [String], environment: [String], workingDirectory: String
    ) {
        self.executable = executable
        self.argv = argv
        self.environment = environment
        self.workingDirectory = workingDirectory
    }
}

/// Which of the child's output pipes bytes came from.
nonisolated public enum ChildStream: String, Equatable, Sendable {
    /// File descriptor 1.
    case stdout
    /// File descriptor 2.
    case stderr
}

/// How the direct child ended.
nonisolated public enum ChildExitStatus: Equatable, Sendable {
    /// It called exit with this code.
    case exited(Int32)
    /// A signal with this number killed it.
    case signaled(Int32)
}

/// The end of a run: the direct child was reaped and both pipes are closed.
nonisolated public struct ExitInfo: Equatable, Sendable {
    /// The exit code, when the child exited by itself.
    public var exitCode: Int32?
    /// The signal number, when a signal killed the child.
    public var signal: Int32?
    /// Whether a pipe was still held open by some other process and ward
    /// closed its read end instead of waiting for end of file.
    public var pipesForceClosed: Bool
    /// Processes other than the direct child that ward signalled: background
    /// jobs, escaped descendants, pipe holders.
    public var descendantsKilled: Int

    /// An info from its parts.
    public init(exitCode: Int32?, signal: Int32?, pipesForceClosed: Bool, descendantsKilled: Int) {
        self.exitCode = exitCode
        self.signal = signal
        self.pipesForceClosed = pipesForceClosed
        self.descendantsKilled = descendantsKilled
    }
}

/// The callbacks of one child, all called on the loop thread.
public struct ChildHandlers {
    /// Bytes from one pipe, valid only during the call.
    public var onOutput: (ChildStream, UnsafeRawBufferPointer) -> Void
    /// The direct child was reaped. Output may still follow.
    public var onExit: (ChildExitStatus) -> Void
    /// Called exactly once, after the exit and the end of both pipes.
    public var onFinished: (ExitInfo) -> Void

    /// Handlers from closures; any may be left out.
    public init(
        onOutput: @escaping (ChildStream, UnsafeRawBufferPointer) -> Void = { _, _ in },
        onExit: @escaping (ChildExitStatus) -> Void = { _ in },
        onFinished: @escaping (ExitInfo) -> Void = { _ in }
    ) {
        self.onOutput = onOutput
        self.onExit = onExit
        self.onFinished = onFinished
    }
}
