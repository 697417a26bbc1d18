import Glibc

/// Turns one stream of a child's output (arbitrary pipe-read chunks) into
/// redacted lines. Redaction runs on assembled lines of raw bytes, never on read
/// chunks, and before the lossy UTF-8 decode (case 11). A line longer than the cap,
/// or one that sits unfinished, is cut into pieces, but never through a secret:
/// the last `holdback` bytes stay buffered and the cut moves in front of any
/// match that would straddle it (case 02). Memory stays below
/// `lineCap + holdback` bytes whatever the child prints (case 09).
nonisolated public final class StreamProcessor {
    /// Longest piece of a line sent as one `OutputLine`: 64 KiB is one full pipe
    /// buffer on Linux, far above any real log line, and keeps every websocket
    /// frame and journal record small; longer lines arrive as `.split` pieces, so
    /// nothing is lost.
    public static let maxLineBytes = 65536

    /// Which stream this is.
    public let stream: OutputLine.Stream
    /// The piece cap in raw bytes.
    public let lineCap: Int
    /// Bytes kept back before a forced split (see `Redactor.holdback`).
    public var holdback: Int { redactor.holdback }
    /// Bytes of the current partial line held right now.
    public var bufferedBytes: Int { pending.count }
    /// The most bytes ever held at once (for the memory-bound tests).
    public private(set) var peakBufferedBytes = 0
    /// Raw bytes fed so far.
    public private(set) var bytesRead = 0
    /// True when an unfinished line waits for more bytes (the engine arms its
    /// idle timer on it).
    public var hasPartialLine: Bool { !pending.isEmpty || pendingCR }

    /// Why a line is being cut.
    private enum Cut {
        /// The line is complete: every match is known.
        case complete
        /// The buffer reached the cap plus the holdback: something must go.
        case cap
        /// The partial line sat idle: emit only what is certainly safe.
        case idle
    }

    private let redactor: Redactor
    private let limit: Int
    private var pending: [UInt8] = []
    private var pendingCR = false
    private var midLine = false
    private var limitRule: Int?
    private var privateKey = false
    private var nextSeq = 1
    private var finished = false
    private var out: [OutputLine] = []

    /// A processor for `stream` that redacts with `redactor` and cuts lines at
    /// `lineCap` raw bytes.
    public init(
        stream: OutputLine.Stream, redactor: Redactor,
        lineCap: Int = StreamProcessor.maxLineBytes
    ) {
        precondition(lineCap > 0, "line cap must be positive")
        self.stream = stream
        self.redactor = redactor
        self.lineCap = lineCap
        self.limit = lineCap + redactor.holdback
    }

    /// Takes one read's bytes; returns the lines they completed.
    public func feed(_ bytes: [UInt8]) -> [OutputLine] {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// Takes one read's bytes; returns the lines they completed.
    public func feed(_ chunk: UnsafeRawBufferPointer) -> [OutputLine] {
        precondition(!finished, "feed after finish")
        let n = chunk.count
        bytesRead += n
        var i = 0
        // A CR ending the previous read waited to see whether LF follows.
        if pendingCR, n > 0 {
            if chunk[0] == 0x0A {
                emitLine(.crlf)
                i = 1
            } else {
                emitLine(.cr)
            }
        }

        while i < n {
            // Never take in more than fits: the buffer stays within the limit.
            let end = min(n, i + (limit - pending.count))
            guard let j = StreamProcessor.lineBreak(in: chunk, from: i, to: end) else {
                take(chunk, i..<end)
                i = end
                if pending.count == limit { emitForced(.cap) }
                continue
            }
            // A line that starts and ends inside this read is scanned where it
            // lies; only a line begun in an earlier read goes through `pending`.
            var line: UnsafeRawBufferPointer?
            if pending.isEmpty && (chunk[j] == 0x0A || j + 1 < n) {
                line = UnsafeRawBufferPointer(rebasing: chunk[i..<j])
            } else {
                take(chunk, i..<j)
            }
            if chunk[j] == 0x0A {
                emitLine(.lf, line)
                i = j + 1
            } else if j + 1 == n {
                pendingCR = true
                i = n
            } else if chunk[j + 1] == 0x0A {
                emitLine(.crlf, line)
                i = j + 2
            } else {
                emitLine(.cr, line)
                i = j + 1
            }
        }
        return drain()
    }

    /// Called when a partial line has waited a while: emits a lone CR's line, or
    /// what of the partial line lies safely before the holdback (nothing when
    /// the partial line is no longer than the holdback).
    public func idleFlush() -> [OutputLine] {
        precondition(!finished, "idle flush after finish")
        if pendingCR {
            emitLine(.cr)
        } else if pending.count > holdback {
            emitForced(.idle)
        }
        return drain()
    }

    /// Called at EOF: emits the unterminated rest (eol `.none`, case 08).
    public func finish() -> [OutputLine] {
        precondition(!finished, "finish twice")
        if pendingCR {
            emitLine(.cr)
        } else if !pending.isEmpty || midLine {
            emitLine(.none)
        }
        finished = true
        return drain()
    }

    private func take(_ chunk: UnsafeRawBufferPointer, _ range: Range<Int>) {
        pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[range]))
        peakBufferedBytes = max(peakBufferedBytes, pending.count)
    }

    /// Most lines the next batch reserves room for: a 64 KiB read of log
    /// lines holds a few hundred; a read of bare newlines (65,536 lines) must
    /// not leave megabytes reserved while the stream is idle.
    static let maxReservedLines = 512

    /// Hands out the lines made so far. The next batch starts with room for
    /// as many (up to `maxReservedLines`), so a pipe read's few hundred lines
    /// do not regrow the array from empty (about ten reallocations) each time.
    private func drain() -> [OutputLine] {
        let lines = out
        out = []
        out.reserveCapacity(min(lines.count, StreamProcessor.maxReservedLines))
        return lines
    }

    /// Emits the whole line, ended by `ending`, in pieces of at most `lineCap`
    /// bytes cut from one scan of the complete line: `line` when given (the
    /// line lay whole in one read and `pending` is empty), else `pending`.
    private func emitLine(_ ending: OutputLine.Ending, _ line: UnsafeRawBufferPointer? = nil) {
        if let line {
            precondition(pending.isEmpty, "a direct line while bytes are pending")
            emitLine(ending, window: line)
        } else {
            pending.withUnsafeBytes { emitLine(ending, window: $0) }
            pending.removeAll(keepingCapacity: true)
        }
        pendingCR = false
        limitRule = nil
    }

    private func emitLine(_ ending: OutputLine.Ending, window: UnsafeRawBufferPointer) {
        let scan = redactor.scan(window, inPrivateKey: privateKey)
        limitRule = limitRule ?? scan.limitRule
        var p = 0
        while window.count - p > lineCap {
            let c = cutPosition(window, scan, from: p, nominal: p + lineCap, cut: .complete)
            emit(window, scan, p..<c, .split)
            p = c
        }
        emit(window, scan, p..<window.count, ending)
        privateKey = scan.privateKeyOpenStart != nil
    }

    /// Emits the front of an unfinished line, keeping at least `holdback` bytes.
    private func emitForced(_ cut: Cut) {
        var c = 0
        pending.withUnsafeBytes { window in
            let scan = redactor.scan(window, inPrivateKey: privateKey)
            limitRule = limitRule ?? scan.limitRule
            c = cutPosition(window, scan, from: 0, nominal: window.count - holdback, cut: cut)
            guard c > 0 else { return }
            emit(window, scan, 0..<c, .split)
            privateKey = (scan.privateKeyOpenStart ?? Int.max) < c
        }
        if c > 0 { pending.removeFirst(c) }
    }

    /// Where to end the piece that starts at `p`: at `nominal` unless a match
    /// straddles it (then before the match, or after it when it starts the
    /// piece), backed off to a UTF-8 character boundary where possible. Returns
    /// `p` when an idle flush has nothing it can safely emit.
    private func cutPosition(
        _ window: UnsafeRawBufferPointer, _ scan: RedactionScan, from p: Int, nominal: Int,
        cut: Cut
    ) -> Int {
        // A line over budget is redacted whole, so any cut is as good.
        if limitRule != nil { return nominal }
        // Inside an unfinished private-key block every byte is redacted.
        if let open = scan.privateKeyOpenStart, nominal > open { return nominal }

        var c = nominal
        if let x = scan.extent(straddling: c) {
            if x.start > p {
                c = x.start
            } else if x.end < window.count || cut != .idle {
                // Known gap: a regex match that fills the whole buffer (cap plus
                // holdback) is emitted redacted up to here, but its continuation
                // in the next piece no longer matches and is shown: a 70 KB
                // `password=...` value leaks everything past the first 66 KB.
                // Literal secrets are never affected (the holdback covers them).
                c = x.end
            } else {
                // The match may go on past what has arrived: wait for more.
                return p
            }
        }
        let floor = max(p, scan.extentEnd(before: c) ?? p)
        // A token that has not arrived whole matches no rule yet (a JWT needs
        // its second dot): a cut through it would send both halves in the
        // clear. An unfinished line is cut at the start of such a run instead,
        // or, when the run fills the piece, waits (idle) or is cut as before
        // (at the cap, where something must go).
        if cut != .complete, c < window.count, c > p,
            StreamProcessor.isTokenByte(window[c - 1]), StreamProcessor.isTokenByte(window[c])
        {
            var start = c
            while start > floor, StreamProcessor.isTokenByte(window[start - 1]) { start -= 1 }
            if start > p {
                c = start
            } else if cut == .idle {
                return p
            }
        }
        return StreamProcessor.characterStart(window, at: c, floor: floor, after: p)
    }

    /// Bytes of the tokens the rules match (JWTs, bearer and vendor tokens,
    /// base64): `[A-Za-z0-9._~+/=-]`.
    private static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "+"),
            UInt8(ascii: "/"), UInt8(ascii: "="), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    /// `c`, moved back to the first byte of the UTF-8 sequence it falls into
    /// (at most 3 bytes, never to `floor` or below when that would empty the piece).
    private static func characterStart(
        _ window: UnsafeRawBufferPointer, at c: Int, floor: Int, after p: Int
    ) -> Int {
        guard c < window.count, window[c] & 0xC0 == 0x80 else { return c }
        var q = c - 1
        while q >= floor, q > p, q >= c - 3 {
            let b = window[q]
            if b & 0xC0 != 0x80 {
                let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
                return length > c - q ? q : c
            }
            q -= 1
        }
        return c
    }

    private func emit(
        _ window: UnsafeRawBufferPointer, _ scan: RedactionScan, _ range: Range<Int>,
        _ ending: OutputLine.Ending
    ) {
        var count = 0
        var hits: [Int] = []
        let decoded: (text: String, invalid: Bool)
        if let rule = limitRule {
            count = 1
            hits = [rule]
            decoded = (String(decoding: redactor.limitMarker(rule), as: UTF8.self), false)
        } else if scan.spans.contains(where: {
            $0.end > range.lowerBound && $0.start < range.upperBound
        }) {
            var bytes: [UInt8] = []
            (count, hits) = redactor.render(window, scan, range, into: &bytes)
            decoded = bytes.withUnsafeBytes { StreamProcessor.decode($0) }
        } else {
            decoded = StreamProcessor.decode(
                UnsafeRawBufferPointer(rebasing: window[range]), knownASCII: scan.knownASCII)
        }
        out.append(
            OutputLine(
                stream: stream, seq: nextSeq, text: decoded.text, eol: ending, redactions: count,
                rules: hits.map { redactor.ruleIDs[$0] }, invalidUTF8: decoded.invalid))
        nextSeq += 1
        midLine = ending == .split
    }

    /// The line's text, and whether bytes had to be replaced. Nearly every
    /// log line is ASCII: for those a word-at-a-time check stands in for the
    /// validating initializer, which walked the bytes one at a time and was
    /// the larger part of a line's cost here. `knownASCII` (the prefilter
    /// already read every byte) skips even that check.
    private static func decode(_ bytes: UnsafeRawBufferPointer, knownASCII: Bool = false)
        -> (text: String, invalid: Bool)
    {
        let units = bytes.assumingMemoryBound(to: UInt8.self)
        if knownASCII || ByteSearch.isASCII(bytes) {
            return (String(decoding: units, as: UTF8.self), false)
        }
        if let text = String(validating: units, as: UTF8.self) { return (text, false) }
        return (String(decoding: units, as: UTF8.self), true)
    }

    /// Index of the first LF or CR in `chunk[i..<end]`.
    private static func lineBreak(in chunk: UnsafeRawBufferPointer, from i: Int, to end: Int)
        -> Int?
    {
        guard end > i, let base = chunk.baseAddress else { return nil }
        let start = base + i
        var span = end - i
        var found: Int?
        if let lf = memchr(start, 0x0A, span) {
            span = start.distance(to: UnsafeRawPointer(lf))
            found = span
        }
        if span > 0, let cr = memchr(start, 0x0D, span) {
            found = start.distance(to: UnsafeRawPointer(cr))
        }
        return found.map { i + $0 }
    }
}
