import CPCRE2

/// Why a pattern could not be compiled.
nonisolated public struct PatternError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 0-based byte offset in the pattern where PCRE2 gave up.
    public var offset: Int
    /// PCRE2's message.
    public var message: String

    public var description: String { "\(message) at offset \(offset)" }
}

/// A compiled PCRE2 pattern with match limits, so that a pathological pattern
/// cannot stall the loop: a match that runs out of budget reports
/// `limitExceeded` and the caller fails closed.
///
/// Not main-actor isolated, although it is used on the loop thread only: an
/// isolated method pays a runtime executor check on every call, and matching runs
/// once per rule per output line (measured with callgrind: 571 M instructions for
/// 50,000 short lines with it, 413 M without).
nonisolated public final class Pattern {
    /// How the pattern is applied.
    public enum Mode: Sendable {
        /// The pattern must match the whole subject (argument values): it is
        /// compiled anchored at both ends, whatever the author wrote.
        case wholeValue
        /// The pattern finds matches anywhere in the subject (redaction).
        case search
    }

    /// The result of one match attempt.
    public enum Outcome: Equatable {
        /// The pattern matched this byte range (of the `value` group when the
        /// pattern has one).
        case match(Range<Int>)
        /// No match.
        case noMatch
        /// The match or depth limit ran out; the answer is unknown.
        case limitExceeded
    }

    /// Backtracking steps allowed per match attempt. A few hundred thousand
    /// steps cover any sane pattern on a 64 KiB line; the case-04 pattern
    /// `(a+)+$` on 50,000 `a`s hits it in milliseconds instead of running forever.
    public static let matchLimit: UInt32 = 200_000
    /// Nesting depth allowed per match attempt (PCRE2's backtracking depth).
    public static let depthLimit: UInt32 = 10_000

    /// The pattern as the author wrote it.
    public let source: String
    /// How it is applied.
    public let mode: Mode
    /// Number of the capture group named `value`, or 0 when there is none.
    public let valueGroup: UInt32
    nonisolated(unsafe) private let code: OpaquePointer
    nonisolated(unsafe) private let matchData: OpaquePointer
    nonisolated(unsafe) private let context: OpaquePointer
    private let jitted: Bool

    /// Compiles `source` for `mode`. Patterns are UTF-8 aware and tolerate
    /// invalid UTF-8 in subjects (child output is arbitrary bytes).
    public init(_ source: String, mode: Mode) throws(PatternError) {
        var options = UInt32(PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C)
        if mode == .wholeValue {
            options |= UInt32(PCRE2_ANCHORED | PCRE2_ENDANCHORED)
        }
        var errorCode: Int32 = 0
        var errorOffset = 0
        let bytes = Array(source.utf8)
        let compiled = bytes.withUnsafeBufferPointer { buf in
            pcre2_compile_8(buf.baseAddress, buf.count, options, &errorCode, &errorOffset, nil)
        }
        guard let compiled else {
            throw PatternError(offset: errorOffset, message: Pattern.message(for: errorCode))
        }
        self.source = source
        self.mode = mode
        self.code = compiled
        self.jitted = pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) == 0
        self.matchData = pcre2_match_data_create_from_pattern_8(compiled, nil)!
        self.context = pcre2_match_context_create_8(nil)!
        pcre2_set_match_limit_8(context, Pattern.matchLimit)
        pcre2_set_depth_limit_8(context, Pattern.depthLimit)
        let group = "value".withCString { name in
            name.withMemoryRebound(to: UInt8.self, capacity: 6) {
                pcre2_substring_number_from_name_8(compiled, $0)
            }
        }
        self.valueGroup = group > 0 ? UInt32(group) : 0
    }

    deinit {
        pcre2_match_context_free_8(context)
        pcre2_match_data_free_8(matchData)
        pcre2_code_free_8(code)
    }

    /// True when `value` matches the pattern (in `.wholeValue` mode: as a whole).
    /// A value that exhausts the match budget does not match.
    public func matches(_ value: String) -> Bool {
        var bytes = Array(value.utf8)
        if bytes.isEmpty { bytes.reserveCapacity(1) }
        return bytes.withUnsafeBufferPointer { buf in
            if case .match = firstMatch(in: UnsafeRawBufferPointer(buf), from: 0) { return true }
            return false
        }
    }

    /// The first match at or after byte `start` of `subject`.
    public func firstMatch(in subject: UnsafeRawBufferPointer, from start: Int) -> Outcome {
        let base = subject.baseAddress?.assumingMemoryBound(to: UInt8.self)
        // PCRE2 needs a non-null pointer even for an empty subject.
        var empty: UInt8 = 0
        let rc = withUnsafePointer(to: &empty) { emptyPtr in
            let subjectPtr = base ?? emptyPtr
            return jitted
                ? pcre2_jit_match_8(code, subjectPtr, subject.count, start, 0, matchData, context)
                : pcre2_match_8(code, subjectPtr, subject.count, start, 0, matchData, context)
        }
        if rc == PCRE2_ERROR_NOMATCH { return .noMatch }
        if rc < 0 { return .limitExceeded }
        let ovector = pcre2_get_ovector_pointer_8(matchData)!
        let unset = cpcre2_unset()
        if valueGroup > 0, UInt32(rc) > valueGroup, ovector[2 * Int(valueGroup)] != unset {
            let s = ovector[2 * Int(valueGroup)]
            let e = ovector[2 * Int(valueGroup) + 1]
            // An empty group still has to make progress past the whole match.
            if e > s { return .match(s..<e) }
        }
        return .match(ovector[0]..<ovector[1])
    }

    /// The end of the whole match last returned by `firstMatch` (which may lie
    /// past the `value` group); callers resume searching from here.
    public var lastMatchEnd: Int {
        pcre2_get_ovector_pointer_8(matchData)![1]
    }

    /// True when the pattern can only match text containing a line break, which
    /// per-line redaction never sees (a literal CR/LF or an escape for one).
    /// Inside a negated class (`[^"\r\n]`) such an escape excludes line breaks,
    /// which every line already does, so it is allowed there.
    public static func needsMultilineInput(_ source: String) -> Bool {
        if source.utf8.contains(0x0A) || source.utf8.contains(0x0D) { return true }
        let bytes = Array(source.utf8)
        var i = 0
        // Inside `[...]`: whether it is negated, and where its members begin
        // (a `]` right there is a member, not the end).
        var negatedClass: Bool?
        var membersStart = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\\"), i + 1 < bytes.count {
                if negatedClass != true, escapesLineBreak(bytes, at: i) { return true }
                i += 2
                continue
            }
            if negatedClass != nil {
                if b == UInt8(ascii: "["), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: ":"),
                    let close = (i + 2..<bytes.count).first(where: {
                        bytes[$0] == UInt8(ascii: "]") && bytes[$0 - 1] == UInt8(ascii: ":")
                    })
                {
                    i = close + 1  // a POSIX class such as [:space:]
                    continue
                }
                if b == UInt8(ascii: "]"), i > membersStart { negatedClass = nil }
                i += 1
                continue
            }
            if b == UInt8(ascii: "[") {
                i += 1
                let negated = i < bytes.count && bytes[i] == UInt8(ascii: "^")
                if negated { i += 1 }
                negatedClass = negated
                membersStart = i
                continue
            }
            i += 1
        }
        return false
    }

    /// Whether the escape at `bytes[i]` (a backslash) stands for CR, LF or any
    /// line break: `\n`, `\r`, `\R`, `\cJ`, `\cM`, octal `\012`/`\015`/`\o{12}`,
    /// hex `\x0a`/`\x{000a}`, and `\N{U+000A}`.
    private static func escapesLineBreak(_ bytes: [UInt8], at i: Int) -> Bool {
        let next = bytes[i + 1]
        if next == UInt8(ascii: "n") || next == UInt8(ascii: "r") || next == UInt8(ascii: "R") {
            return true
        }
        let spelled = String(decoding: bytes[(i + 1)...].prefix(12), as: UTF8.self).uppercased()
        if ["CJ", "CM", "012", "015"].contains(where: { spelled.hasPrefix($0) }) { return true }
        // A braced number: \x{...} (hex), \o{...} (octal), \N{U+...} (hex).
        func braced(_ opener: String, radix: Int) -> Bool {
            guard spelled.hasPrefix(opener), let close = spelled.firstIndex(of: "}") else {
                return false
            }
            let digits = spelled[spelled.index(spelled.startIndex, offsetBy: opener.count)..<close]
            return Int(digits, radix: radix).map { $0 == 0x0A || $0 == 0x0D } ?? false
        }
        if braced("X{", radix: 16) || braced("O{", radix: 8) || braced("N{U+", radix: 16) {
            return true
        }
        if next == UInt8(ascii: "x") {
            let two = String(decoding: bytes[(i + 2)...].prefix(2), as: UTF8.self).lowercased()
            return two == "0a" || two == "0d"
        }
        return false
    }

    private static func message(for code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = pcre2_get_error_message_8(code, &buffer, buffer.count)
        return n > 0 ? String(decoding: buffer[0..<Int(n)], as: UTF8.self) : "error \(code)"
    }
}
