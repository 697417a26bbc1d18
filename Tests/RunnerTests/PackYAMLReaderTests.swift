import Testing

@testable import Runner

/// Parses `text` as file `f.yaml` and returns the diagnostics as printed, or [] on success.
private func problems(_ text: String) -> [String] {
    problems(Array(text.utf8))
}

private func problems(_ bytes: [UInt8]) -> [String] {
    YAMLDocument.parse(bytes, file: "f.yaml").problems.all.map(\.description)
}

private func tree(_ text: String) -> YAMLNode? {
    let (node, problems) = YAMLDocument.parse(Array(text.utf8), file: "f.yaml")
    return problems.all.isEmpty ? node : nil
}

@Suite struct YAMLReaderTests {
    @Test func refusesSecondDocumentNamingItsLine() {
        let text = "---\na: 1\nb: 2\n---\na: 3\n"
        #expect(
            problems(text) == [
                "f.yaml:4:1: error: pack must contain exactly one YAML document;"
                    + " second starts at line 4"
            ])
    }

    @Test func namesTheFileKindInTheDocumentMessage() {
        let (node, d) = YAMLDocument.parse(
            Array("a: 1\n---\nb: 2\n".utf8), file: "c", kind: "config")
        #expect(node == nil, "two documents loaded")
        #expect(
            d.all.map(\.message) == [
                "config must contain exactly one YAML document; second starts at line 2"
            ])
    }

    @Test(arguments: ["", "# only a comment\n", "\n\n   \n", "---\n", "--- \n...\n"])
    func refusesEmptyDocuments(_ text: String) {
        #expect(problems(text) == ["f.yaml: error: empty file"])
    }

    @Test func reportsTabIndentationWithPosition() {
        let found = problems("actions:\n\tsafe.restart: {exec: [\"/bin/true\"]}\n")
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("f.yaml:2:1: error: YAML syntax error: ") == true)
        #expect(
            found.first?.hasSuffix("YAML does not allow TAB characters for indentation") == true)
    }

    @Test func reportsSyntaxErrorWithLibyamlProblemAndContext() {
        #expect(
            problems("a: [1, 2\nb: 3\n") == [
                "f.yaml:2:2: error: YAML syntax error: did not find expected ',' or ']'"
                    + " (while parsing a flow sequence started at line 1, column 4)"
            ])
    }

    @Test func reportsInvalidUTF8WithPosition() {
        #expect(
            problems([0x61, 0x3A, 0x20, 0xFF, 0x0A])
                == ["f.yaml:1:4: error: YAML input error: invalid leading UTF-8 octet"])
    }

    @Test func loadsBOMAndCRLFLikeLF() {
        let lf = "a: 1\nb:\n  - x\n  - 'y'\nc: |\n  two\n  lines\n"
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let crlf = bom + Array(lf.utf8).flatMap { $0 == 0x0A ? [0x0D, 0x0A] : [$0] }
        let fromCRLF = YAMLDocument.parse(crlf, file: "f.yaml").node
        #expect(fromCRLF != nil)
        #expect(fromCRLF == tree(lf))
    }

    @Test func refusesAliasesAndAnchors() {
        #expect(
            problems("a: &x [1, 2]\nb: *x\n") == [
                "f.yaml:1:4: error: anchors and aliases are not allowed (found anchor \"&x\")",
                "f.yaml:2:4: error: anchors and aliases are not allowed (found alias \"*x\")",
            ])
    }

    @Test func refusesAliasBombWithoutExpandingIt() {
        var text = "l0: &l0 [x, x, x, x, x, x, x, x, x]\n"
        for i in 1..<9 {
            let items = Array(repeating: "*l\(i - 1)", count: 9).joined(separator: ", ")
            text += "l\(i): &l\(i) [\(items)]\n"
        }
        let found = problems(text)
        #expect(found.count == 9 + 8 * 9)
        #expect(found.allSatisfy { $0.contains("anchors and aliases are not allowed") })
    }

    @Test(arguments: [
        ("a: !!int 3\n", "!!int"), ("a: !!str no\n", "!!str"), ("a: !custom x\n", "!custom"),
        ("a: !!map {b: 1}\n", "!!map"), ("a: !!seq [1]\n", "!!seq"),
    ])
    func refusesExplicitTags(_ text: String, _ tag: String) {
        #expect(
            problems(text) == [
                "f.yaml:1:4: error: explicit tags are not allowed (found \"\(tag)\");"
                    + " every value is typed by the schema"
            ])
    }

    @Test func reportsEveryDuplicateKeyWithBothLinesAndFullPath() {
        let text = """
            actions:
              restart_web:
                options:
                  timeout_s_max: 30
                  timeout_s_max: 3000
              restart_web: {}
              "restart_db": 1
              restart_db: 2
            list:
              - {a: 1, 'a': 2}

            """
        #expect(
            problems(text) == [
                "f.yaml:5:7: error: actions.restart_web.options.timeout_s_max duplicated"
                    + " (lines 4 and 5)",
                "f.yaml:6:3: error: actions.restart_web duplicated (lines 2 and 6)",
                "f.yaml:8:3: error: actions.restart_db duplicated (lines 7 and 8)",
                "f.yaml:10:12: error: list[0].a duplicated (line 10, columns 6 and 12)",
            ])
    }

    @Test func refusesNonScalarKeys() {
        #expect(problems("? [a, b]\n: 1\n") == ["f.yaml:1:3: error: mapping keys must be strings"])
        #expect(
            problems("m:\n  {x: 1}: 2\n") == ["f.yaml:2:3: error: m: mapping keys must be strings"])
    }

    @Test func refusesNestingBeyondTheLimit() {
        let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
        #expect(problems(deep) == ["f.yaml:1:65: error: nesting is deeper than 64 levels"])
    }

    @Test func keepsRawTextStyleAndPositions() throws {
        let root = try #require(tree("a: no\nb: '3.10'\nc:\n  - \"x\"\n  - |\n    y\n"))
        let entries = try #require(root.entries)
        #expect(entries.map(\.key) == ["a", "b", "c"])
        #expect(entries[0].value.scalar == YAMLScalar(text: "no", style: .plain))
        #expect(entries[0].value.location == SourceLocation(file: "f.yaml", line: 1, column: 4))
        #expect(entries[1].keyLocation == SourceLocation(file: "f.yaml", line: 2, column: 1))
        #expect(entries[1].value.scalar == YAMLScalar(text: "3.10", style: .singleQuoted))
        let items = try #require(entries[2].value.items)
        #expect(items[0].scalar == YAMLScalar(text: "x", style: .doubleQuoted))
        #expect(items[0].location == SourceLocation(file: "f.yaml", line: 4, column: 5))
        #expect(items[1].scalar == YAMLScalar(text: "y\n", style: .literal))
    }

    @Test func keepsKeyOrderAsWritten() throws {
        let root = try #require(tree("z: 1\na: 2\nm: 3\n"))
        #expect(root.entries?.map(\.key) == ["z", "a", "m"])
    }
}
