/// The documented exit codes of `ward` (README, "Exit codes").
enum ExitCode: Int32 {
    /// Success: the command did what it was asked, the action exited 0.
    case ok = 0
    /// A check failed: a pack did not validate, the journal did not verify, or the
    /// action ran and exited non-zero.
    case failed = 1
    /// The command line was wrong.
    case usage = 2
    /// The config or the packs could not be loaded.
    case config = 3
    /// The run was refused before anything ran (undeclared action, invalid argument,
    /// journal unavailable).
    case refused = 4
    /// The run started but did not complete: it timed out, was cancelled or the
    /// executable could not be started.
    case incomplete = 5
    /// The journal could not be read or written.
    case journal = 6
    /// A bug in ward.
    case internalError = 70
}

/// An error that ends the command with a message on stderr and an exit code.
struct CommandFailure: Error {
    /// What the user reads.
    var message: String
    /// How the process exits.
    var code: ExitCode

    init(_ code: ExitCode, _ message: String) {
        self.code = code
        self.message = message
    }
}
