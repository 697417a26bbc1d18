import Testing

@testable import Runner

private func node(_ text: String, _ style: YAMLScalar.Style = .plain) -> YAMLNode {
    YAMLNode(
        kind: .scalar(YAMLScalar(text: text, style: style)),
        location: SourceLocation(file: "f", line: 1, column: 1))
}

private func message<T>(_ result: Result<T, TypingError>) -> String? {
    if case .failure(let e) = result { return e.message }
    return nil
}

@Suite struct YAMLTypingTests {
    @Test(arguments: [
        ("no", "no"), ("on", "on"), ("off", "off"), ("yes", "yes"), ("3.10", "3.10"),
        ("0750", "0750"), ("1e3", "1e3"), ("0x10", "0x10"), ("true", "true"), ("NO", "NO"),
    ])
    func stringFieldsTakeTheRawText(_ text: String, _ expected: String) throws {
        #expect(try ScalarTyping.string(node(text)).get() == expected)
    }

    @Test(arguments: ["~", "null", "Null", "NULL", ""])
    func plainNullIsAnErrorForStrings(_ text: String) {
        #expect(message(ScalarTyping.string(node(text))) == "expected a string, got null")
    }

    @Test(arguments: [YAMLScalar.Style.singleQuoted, .doubleQuoted])
    func quotedNullSpellingsAreStrings(_ style: YAMLScalar.Style) throws {
        #expect(try ScalarTyping.string(node("~", style)).get() == "~")
        #expect(try ScalarTyping.string(node("", style)).get() == "")
    }

    @Test func collectionsAreNotStrings() {
        let list = YAMLNode(
            kind: .sequence([]), location: SourceLocation(file: "f", line: 1, column: 1))
        #expect(message(ScalarTyping.string(list)) == "expected a string, got a list")
    }

    @Test(
        arguments: [
            ("0", 0), ("-0", 0), ("12", 12), ("-7", -7), ("9223372036854775807", Int64.max),
            ("-9223372036854775808", Int64.min),
        ] as [(String, Int64)])
    func integersAcceptPlainDecimal(_ text: String, _ expected: Int64) throws {
        #expect(try ScalarTyping.integer(node(text)).get() == expected)
    }

    @Test(arguments: [
        "010", "1e1", "1e3", "0x3", "12.5", "10.0", "+5", "1_000", " 1", "--1", "-", "0o7",
    ])
    func integersRefuseEverythingElse(_ text: String) {
        #expect(
            message(ScalarTyping.integer(node(text)))
                == "expected an integer (decimal digits, no leading zeros), got \"\(text)\"")
    }

    @Test func integersRefuseQuotedDigits() {
        #expect(
            message(ScalarTyping.integer(node("12", .doubleQuoted)))
                == "expected an integer, got the quoted string \"12\"")
    }

    @Test func integersRefuseOverflow() {
        #expect(
            message(ScalarTyping.integer(node("9223372036854775808")))
                == "integer 9223372036854775808 does not fit in 64 bits")
    }

    @Test(arguments: ["~", "null", ""])
    func integersRefuseNull(_ text: String) {
        #expect(message(ScalarTyping.integer(node(text))) == "expected an integer, got null")
    }

    @Test func booleansAcceptOnlyPlainTrueAndFalse() throws {
        #expect(try ScalarTyping.boolean(node("true")).get() == true)
        #expect(try ScalarTyping.boolean(node("false")).get() == false)
    }

    @Test(arguments: ["off", "on", "yes", "no", "True", "FALSE", "1", "0", "y"])
    func booleansRefuseYAML11Spellings(_ text: String) {
        #expect(
            message(ScalarTyping.boolean(node(text))) == "expected true or false, got \"\(text)\"")
    }

    @Test func booleansRefuseQuotedTrue() {
        #expect(
            message(ScalarTyping.boolean(node("true", .doubleQuoted)))
                == "expected true or false, got the quoted string \"true\"")
    }

    @Test func booleansRefuseNull() {
        #expect(message(ScalarTyping.boolean(node("~"))) == "expected true or false, got null")
    }

    @Test func messagesEscapeControlCharacters() {
        #expect(
            message(ScalarTyping.boolean(node("a\nb\u{1}", .doubleQuoted)))
                == "expected true or false, got the quoted string \"a\\nb\\u{1}\"")
    }
}
