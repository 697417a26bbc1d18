/// What a face receives about the runs it submitted. Every callback runs on the
/// loop thread. Lines and results are already redacted and journaled.
public protocol RunSink: AnyObject {
    /// The `started` event is on disk and the child was spawned (or failed to spawn:
    /// `runFinished` follows at once with `failed_to_start`).
    func runStarted(_ run: RunInfo)
    /// Redacted lines of a run, in order per stream.
    func runOutput(_ run: RunInfo, _ lines: [OutputLine])
    /// The output cap was reached: `gap` lines and bytes were not forwarded. The
    /// retained tail follows through `runOutput`.
    func runOutputDropped(_ run: RunInfo, _ gap: OutputCap.Gap)
    /// The request was refused; nothing ran. `journal` is the refusal event's head
    /// when it could be written.
    func runRefused(_ request: RunRequest, _ refusal: Refusal, journal: JournalHead?)
    /// The run ended and its `finished` event was written (or could not be).
    func runFinished(_ run: RunInfo, _ result: RunResult)
}

/// What a face may show about a run in flight.
public struct RunInfo {
    /// The run's id.
    public var id: String
    /// The action's name.
    public var action: String
    /// The argv as executed, redacted (secret values replaced by their markers).
    public var argv: [String]
    /// Options with the values used.
    public var options: [ClampedOption]
    /// The `started` event's head.
    public var journal: JournalHead
}
