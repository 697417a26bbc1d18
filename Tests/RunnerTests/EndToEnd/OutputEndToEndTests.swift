import Glibc
import Testing

@testable import Runner

/// Line handling and redaction through the binary (cases 01, 02, 05, 07, 08, 09, 11, 12).
@Suite(.serialized) struct OutputEndToEndTests {
    func lines(_ what: String) -> (JSONValue, Scratch) {
        let s = Scratch()
        let (_, doc, _) = s.runJSON("e2e.printf", ["--arg", "what=\(what)"])
        return (doc, s)
    }

    @Test func finalLineWithoutNewlineIsEmitted() {
        let (doc, _) = lines("no-newline")
        let l = doc["lines"]?.arrayValue ?? []
        #expect(l.count == 1)
        #expect(l.first?["text"] == "fatal: disk full")
        #expect(l.first?["eol"] == "none")
    }

    @Test func mixedAndJustNewline() {
        #expect(lines("mixed").0.lineTexts == ["a", "b"])
        #expect(lines("just-newline").0.lineTexts == [""])
    }

    @Test func invalidUTF8IsReplacedAndEveryLineStaysValidJSON() throws {
        let (doc, s) = lines("invalid-utf8")
        let texts = doc.lineTexts
        #expect(texts.count == 3)
        #expect(texts[0] == "ok")
        #expect(texts[1].contains("\u{FFFD}"))
        #expect(texts[2] == "été")
        for line in s.journalLines { _ = try JSONReader.parse(line) }
    }

    @Test func multibyteCharacterSplitAcrossWritesIsKept() {
        #expect(lines("split-mb").0.lineTexts == ["café"])
    }

    @Test func longLineArrivesWholeOrInPiecesAndLaterLinesSurvive() {
        let texts = lines("long-line").0.lineTexts
        #expect(texts.prefix(3) == ["1", "2", "3"])
        #expect(texts.suffix(3) == ["4", "5", "6"])
        let xs = texts.dropFirst(3).dropLast(3).map(\.utf8.count).reduce(0, +)
        #expect(xs == 70_000)
    }

    @Test func tenMegabyteLineIsCappedAndTheEndStillArrives() {
        let (doc, s) = lines("huge-line")
        #expect(doc["outcome"] == "exited")
        #expect(doc.lineTexts.last == "after")
        #expect(s.events.last?["output"] != nil)
    }

    @Test func stdoutAndStderrNeverShareALine() {
        let (doc, _) = lines("interleave")
        let l = doc["lines"]?.arrayValue ?? []
        let out = l.filter { $0["stream"] == "stdout" }.compactMap { $0["text"]?.stringValue }
        let err = l.filter { $0["stream"] == "stderr" }.compactMap { $0["text"]?.stringValue }
        #expect(out == ["abcdef", "MARK:v=none"])
        #expect(err == ["ERR-1", "ERR-2"])
    }

    @Test func privateKeyBlockIsRedactedLineByLine() {
        let (doc, s) = lines("pem")
        let texts = doc.lineTexts
        #expect(texts.first == "before")
        #expect(texts.last == "after")
        #expect(!texts.joined().contains("MIIEow"))
        #expect(!texts.joined().contains("QUFBQUJC"))
        #expect(!s.allJournalText.contains("MIIEow"))
    }

    @Test func builtInRulesRedactKeysTokensAndPasswords() {
        let texts = lines("builtins").0.lineTexts
        let all = texts.joined(separator: "\n")
        #expect(!all.contains("AKIAABCDEFGHIJKLMNOP"))
        #expect(!all.contains("abcdefghijklmnopqrstuvwxyz012345"))
        #expect(!all.contains("hunter2hunter2"))
        #expect(all.contains("[REDACTED:"))
        #expect(texts.contains("pass_count=3"))
    }

    @Test func packRuleRedactsItsPattern() {
        let texts = lines("ticket").0.lineTexts
        #expect(texts == ["see [REDACTED:e2e-ticket] for details"])
    }

    @Test func secretArgumentNeverLeavesTheProcess() {
        let s = Scratch()
        let secret = "Pl4ceholder-Secret!"
        let out = s.ward([
            "action", "run", "e2e.secret", "--arg", "token=\(secret)", "--reason", "t", "--json",
        ])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(!out.stdout.contains(secret))
        #expect(!out.stderr.contains(secret))
        #expect(!out.stdout.contains("Pl4ce"))
        #expect(!s.allJournalText.contains(secret))
        #expect(!s.allJournalText.contains("Pl4ce"))
        let doc = (try? JSONReader.parse(out.stdout)) ?? .null
        #expect(doc.lineTexts.first == "pre [REDACTED:arg.token] post")
        #expect(doc.lineTexts.contains("argv and env done"))
    }

    @Test func secretTooShortIsRefused() {
        let s = Scratch()
        let (status, doc, _) = s.runJSON("e2e.secret", ["--arg", "token=abc"])
        #expect(status == 4)
        #expect(doc["errors"]?.arrayValue?.first?["field"] == "args.token")
    }
}
