/// One redacted line (or piece of a line) of a child's output, ready for the
/// world: its text is valid UTF-8 and holds no registered secret.
nonisolated public struct OutputLine: Equatable, Sendable {
    /// Which pipe the bytes came from.
    public enum Stream: String, Sendable {
        /// The child's standard output.
        case stdout
        /// The child's standard error.
        case stderr
    }

    /// What ended the line, so the original byte stream can be rebuilt exactly.
    public enum Ending: String, Sendable {
        /// `\n`.
        case lf
        /// `\r\n`.
        case crlf
        /// A lone `\r` (progress bars redraw the line).
        case cr
        /// End of output without a line break (case 08).
        case none
        /// Not the end: the line was cut at the cap or by an idle flush, and the
        /// next line of the same stream continues it.
        case split

        /// The bytes the ending stands for.
        public var bytes: [UInt8] {
            switch self {
            case .lf: [0x0A]
            case .crlf: [0x0D, 0x0A]
            case .cr: [0x0D]
            case .none, .split: []
            }
        }

        /// How many bytes the ending stands for (without building them).
        public var byteCount: Int {
            switch self {
            case .crlf: 2
            case .lf, .cr: 1
            case .none, .split: 0
            }
        }
    }

    /// Which pipe.
    public var stream: Stream
    /// Position in its stream, contiguous from 1 (pieces of a split line each
    /// have their own).
    public var seq: Int
    /// The redacted text; bytes that were not UTF-8 are U+FFFD.
    public var text: String
    /// What ended it.
    public var eol: Ending
    /// Number of markers written into it.
    public var redactions: Int
    /// Ids of the rules that matched in it.
    public var rules: [String]
    /// Whether the redacted bytes held invalid UTF-8 (replaced in `text`).
    public var invalidUTF8: Bool

    /// A line with every field given.
    public init(
        stream: Stream, seq: Int, text: String, eol: Ending, redactions: Int = 0,
        rules: [String] = [], invalidUTF8: Bool = false
    ) {
        self.stream = stream
        self.seq = seq
        self.text = text
        self.eol = eol
        self.redactions = redactions
        self.rules = rules
        self.invalidUTF8 = invalidUTF8
    }

    /// Bytes the line weighs against the output cap: its text and its ending.
    public var byteCount: Int { text.utf8.count + eol.byteCount }
}
