import Testing

@testable import Runner

private let declared: Set<String> = ["unit", "lines"]

private func parts(_ source: String) -> [TemplatePart]? {
    try? TemplateParser.parse(source, arguments: declared).get().parts
}

private func refusal(_ source: String) -> String? {
    if case .failure(let e) = TemplateParser.parse(source, arguments: declared) {
        return e.message
    }
    return nil
}

@Suite struct PackTemplateTests {
    @Test(arguments: [
        ("plain", [TemplatePart.literal("plain")]),
        ("{{args.unit}}", [.arg("unit")]),
        ("{{ args.unit }}", [.arg("unit")]),
        ("{{  opts.timeout_s}}", [.option(.timeoutS)]),
        ("--unit={{args.unit}}", [.literal("--unit="), .arg("unit")]),
        (
            "{{args.unit}}:{{opts.max_output_lines}}x",
            [.arg("unit"), .literal(":"), .option(.maxOutputLines), .literal("x")]
        ),
        ("a{b}c { } {x}", [.literal("a{b}c { } {x}")]),
        ("", []),
    ])
    func parsesPlaceholdersAndLiterals(_ source: String, _ expected: [TemplatePart]) {
        #expect(parts(source) == expected)
    }

    @Test func keepsTheSourceText() throws {
        let t = try TemplateParser.parse("--lines={{ args.lines }}", arguments: declared).get()
        #expect(t.source == "--lines={{ args.lines }}")
    }

    @Test func wholeArgumentIsOnlyASinglePlaceholder() throws {
        #expect(
            try TemplateParser.parse("{{args.unit}}", arguments: declared).get()
                .wholeArgument == "unit")
        #expect(
            try TemplateParser.parse("-{{args.unit}}", arguments: declared).get()
                .wholeArgument == nil)
    }

    @Test(arguments: [
        ("{{args.nope}}", "\"{{args.nope}}\" names no declared argument \"nope\""),
        (
            "{{opts.retries}}",
            "\"{{opts.retries}}\" names no option \"retries\""
                + " (options: timeout_s, max_output_bytes, max_output_lines)"
        ),
        ("x{{args.unit", "unclosed \"{{\" at byte 1 of \"x{{args.unit\""),
        ("a}}", "stray \"}}\" at byte 1 of \"a}}\" (no \"{{\" opens it)"),
        ("{{unit}}", "\"{{unit}}\" is not a placeholder; write {{args.NAME}} or {{opts.NAME}}"),
        ("{{}}", "\"{{}}\" is not a placeholder; write {{args.NAME}} or {{opts.NAME}}"),
        ("{{args.}}", "\"{{args.}}\" names no declared argument \"\""),
        (
            "{{\targs.unit}}",
            "\"{{\\targs.unit}}\" is not a placeholder; write {{args.NAME}} or {{opts.NAME}}"
        ),
        ("{{args.unit}}}}", "stray \"}}\" at byte 13 of \"{{args.unit}}}}\" (no \"{{\" opens it)"),
    ])
    func refusesBrokenPlaceholders(_ source: String, _ message: String) {
        #expect(refusal(source) == message)
    }

    @Test func detectsPlaceholdersInFixedFields() {
        #expect(TemplateParser.containsPlaceholder("/usr/bin/{{args.x}}"))
        #expect(TemplateParser.containsPlaceholder("x}}"))
        #expect(!TemplateParser.containsPlaceholder("/usr/bin/{x}"))
    }
}
