import Glibc
import Testing

@testable import Runner

/// Case 30: the hash covers the stored bytes, the verifier never re-serialises,
/// and each kind of tampering is named for what it is.
@Suite struct JournalChainTests {
    typealias T = JournalTestSupport

    /// A journal holding case 30's three records; returns its path and lines.
    static func makeJournal(in dir: String) throws -> (path: String, lines: [[UInt8]]) {
        let path = dir + "/events.jsonl"
        let store = JournalStore(path: path, rotateBytes: 1 << 20, keepFiles: 3)
        for record in T.lines(T.fixture("chain-records.jsonl")) {
            let fields = try #require(try JSONReader.parse(record).objectValue)
            _ = try store.append(event: "finished", fields: fields)
        }
        return (path, T.lines(try #require(T.read(path))))
    }

    @Test func intactLogWithUnicodeNullAndIntegersVerifies() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let (path, lines) = try Self.makeJournal(in: dir)

        let text = String(decoding: T.join(lines), as: UTF8.self)
        #expect(text.contains(#""msg":"disque plein é ✓""#))
        #expect(text.contains(#""note":null"#))
        #expect(text.contains(#""exit":null,"duration_ms":1500}"#))
        let report = try JournalVerifier.verify(path: path)
        #expect(report.ok, "\(report.text)")
        #expect(report.linesChecked == 3)
        #expect(report.head == JournalHead(seq: 3, hash: SHA256.hex(lines[2])))
    }

    @Test func refusesTheCasesRealNumberDuration() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let record = try #require(
            try JSONReader.parse(T.fixture("record-with-real.json")).objectValue)
        #expect(record["duration_ms"] == .real(1500.0))
        let store = JournalStore(path: dir + "/events.jsonl", rotateBytes: 1 << 20, keepFiles: 3)
        #expect(
            throws: JournalError.invalidEvent(
                path: dir + "/events.jsonl", reason: #"member "duration_ms" holds a real number"#)
        ) {
            try store.append(event: "finished", fields: record)
        }
    }

    /// A mutation of the stored lines and the verdict it must get.
    nonisolated enum Mutation: String, CaseIterable, Sendable {
        case oneByteInRecord2
        case record2Deleted
        case records2And3Swapped
        case record2Resorted
        case record2PrevEdited
        case record2Duplicated
        case garbageLineInserted

        /// The damaged lines.
        func apply(_ lines: [[UInt8]]) -> [[UInt8]] {
            var out = lines
            switch self {
            case .oneByteInRecord2:
                let word = Array("plein".utf8)
                let at = out[1].indices.first { out[1][$0...].starts(with: word) }!
                out[1][at] = UInt8(ascii: "P")
            case .record2Deleted: out.remove(at: 1)
            case .records2And3Swapped: out.swapAt(1, 2)
            case .record2Resorted: out[1] = JournalChainTests.resortedAndEscaped(out[1])
            case .record2PrevEdited:
                let marker = Array(#""prev":""#.utf8)
                let at = out[1].indices.first { out[1][$0...].starts(with: marker) }! + marker.count
                out[1][at] = out[1][at] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
            case .record2Duplicated: out.insert(out[1], at: 2)
            case .garbageLineInserted: out.insert(Array(#"{"seq":3,"x":1}"#.utf8), at: 2)
            }
            return out
        }

        /// The kind and the 1-based line the verifier must report.
        var expected: (kind: JournalProblem.Kind, line: Int) {
            switch self {
            case .oneByteInRecord2, .record2Resorted: (.edited, 2)
            case .record2Deleted: (.deleted, 2)
            case .records2And3Swapped: (.reordered, 2)
            case .record2PrevEdited: (.edited, 2)
            case .record2Duplicated: (.reordered, 3)
            case .garbageLineInserted: (.malformed, 3)
            }
        }
    }

    @Test(arguments: Mutation.allCases)
    func tamperingIsReportedAtItsLineWithItsKind(_ mutation: Mutation) throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let (path, lines) = try Self.makeJournal(in: dir)
        T.write(path, T.join(mutation.apply(lines)))

        let report = try JournalVerifier.verify(path: path)
        #expect(!report.ok)
        #expect(report.problem?.kind == mutation.expected.kind, "\(report.text)")
        #expect(report.problem?.line == mutation.expected.line, "\(report.text)")
        #expect(report.problem?.file == path)
        // Only the lines before the damaged one count as checked.
        #expect(report.linesChecked == mutation.expected.line - 1, "\(report.text)")
    }

    @Test func resortedRecordHasTheSameLogicalContentAndReadsAsContentMismatch() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let (path, lines) = try Self.makeJournal(in: dir)
        let resorted = Self.resortedAndEscaped(lines[1])
        #expect(resorted != lines[1])
        #expect(String(decoding: resorted, as: UTF8.self).contains(#"\u00e9"#))
        let original = try #require(try JSONReader.parse(lines[1]).objectValue)
        let reread = try #require(try JSONReader.parse(resorted).objectValue)
        #expect(Set(original.keys) == Set(reread.keys))
        for key in original.keys { #expect(original[key] == reread[key]) }

        T.write(path, T.join([lines[0], resorted, lines[2]]))
        let report = try JournalVerifier.verify(path: path)
        #expect(report.problem?.kind == .edited)
        #expect(report.problem?.message.contains("content mismatch") == true)
        #expect(report.text.contains("edited: content mismatch"))
    }

    @Test func droppingTheLastRecordPassesWithoutAnAnchorAndFailsWithOne() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let (path, lines) = try Self.makeJournal(in: dir)
        let anchor = JournalAnchor(seq: 3, hash: SHA256.hex(lines[2]))
        #expect(try JournalVerifier.verify(path: path, anchor: anchor).ok)

        T.write(path, T.join(Array(lines.prefix(2))))

        #expect(try JournalVerifier.verify(path: path).ok)
        let report = try JournalVerifier.verify(path: path, anchor: anchor)
        #expect(report.problem?.kind == .truncated)
    }

    @Test func anchorWithAnotherHashFails() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let (path, _) = try Self.makeJournal(in: dir)
        let anchor = try #require(JournalAnchor(parsing: "2:" + String(repeating: "ab", count: 32)))

        let report = try JournalVerifier.verify(path: path, anchor: anchor)
        #expect(report.problem?.kind == .anchorMismatch)
        #expect(report.problem?.line == 2)
    }

    nonisolated static let anchorTexts: [(String, Bool)] = [
        ("3:" + String(repeating: "0f", count: 32), true),
        ("3:" + String(repeating: "0F", count: 32), false),
        ("0:" + String(repeating: "0f", count: 32), false),
        ("x:" + String(repeating: "0f", count: 32), false),
        ("3" + String(repeating: "0f", count: 32), false),
        ("3:abc", false),
    ]

    @Test(arguments: anchorTexts)
    func parsesOnlyWellFormedAnchors(_ input: (String, Bool)) {
        #expect((JournalAnchor(parsing: input.0) != nil) == input.1)
    }

    @Test func firstLineWithoutTheGenesisPrevIsALinkageProblem() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let (path, lines) = try Self.makeJournal(in: dir)
        let genesis = Array(JournalFormat.genesisHash.utf8)
        var first = lines[0]
        let at = try #require(first.indices.first { first[$0...].starts(with: genesis) })
        first.replaceSubrange(
            at..<(at + 64), with: [UInt8](repeating: UInt8(ascii: "1"), count: 64))
        T.write(path, T.join([first] + lines.dropFirst()))

        let report = try JournalVerifier.verify(path: path)
        #expect(report.problem?.kind == .linkage)
        #expect(report.problem?.line == 1)
    }

    @Test func reportRendersAsJSON() throws {
        let dir = T.makeTempDirectory()
        defer { T.remove(dir) }
        let (path, lines) = try Self.makeJournal(in: dir)
        T.write(path, T.join(Mutation.record2Deleted.apply(lines)))

        let json = try JournalVerifier.verify(path: path).json
        #expect(json["ok"] == .bool(false))
        #expect(json["problem"]?["kind"] == .string("deleted"))
        #expect(json["problem"]?["line"] == .int(2))
        #expect(json["problem"]?["seq"] == .int(3))
        let reparsed = try JSONReader.parse(JSONWriter.bytes(json))
        #expect(reparsed == json)
    }

    /// `line` re-serialised with its keys sorted and every non-ASCII character
    /// written as a `\u` escape: the same JSON value, other bytes.
    nonisolated static func resortedAndEscaped(_ line: [UInt8]) -> [UInt8] {
        let object = (try? JSONReader.parse(line))!.objectValue!
        var out = "{"
        for (i, key) in object.keys.sorted().enumerated() {
            if i > 0 { out += "," }
            out += escaped(key) + ":"
            switch object[key]! {
            case .string(let s): out += escaped(s)
            case let other: out += JSONWriter.string(other)
            }
        }
        return Array((out + "}").utf8)
    }

    nonisolated private static func escaped(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            if scalar.value < 0x80 {
                out += JSONWriter.string(.string(String(scalar))).dropFirst().dropLast()
            } else {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        return out + "\""
    }
}
