import Testing

@testable import Runner

private func params(_ text: String) throws -> JSONObject? {
    try JSONReader.parse(text).objectValue
}

@Suite struct MCPToolCallTests {
    @Test func argumentsSplitIntoArgsOptionsAndReason() throws {
        let call = try ToolCall.parse(
            params(
                #"{"name":"e2e_count","arguments":{"n":5,"reason":"why","options":"#
                    + #"{"max_output_lines":10},"flag":true},"_meta":{"progressToken":0}}"#)
        ).get()
        #expect(call.action == "e2e.count" && call.tool == "e2e_count")
        #expect(call.args.map(\.name) == ["n", "flag"])
        #expect(call.args.map(\.value) == [.json(.int(5)), .json(.bool(true))])
        #expect(call.options.map(\.name) == ["max_output_lines"])
        #expect(call.options.map(\.value) == [.json(.int(10))])
        #expect(call.reason == "why")
        #expect(call.progressToken == .int(0))
    }

    @Test func valuesKeepTheirJSONTypesForTheEngineToCheck() throws {
        let call = try ToolCall.parse(
            params(#"{"name":"e2e_count","arguments":{"n":"10","m":10.0}}"#)
        ).get()
        #expect(call.args.map(\.value) == [.json(.string("10")), .json(.real(10.0))])
        #expect(call.reason == "")
    }

    nonisolated static let invalid: [(text: String, problem: ToolCall.Problem)] = [
        ("{}", .invalidParams("params.name must be a string")),
        (#"{"name":3}"#, .invalidParams("params.name must be a string")),
        (#"{"name":"e2e.echo"}"#, .unknownTool("e2e.echo")),
        (
            #"{"name":"e2e_echo","arguments":[1]}"#,
            .invalidParams("params.arguments must be an object, got array")
        ),
        (
            #"{"name":"e2e_echo","_meta":{"progressToken":1.5}}"#,
            .invalidParams("_meta.progressToken must be a string or an integer")
        ),
        (
            #"{"name":"e2e_echo","arguments":{"reason":1,"options":[]}}"#,
            .malformed([
                FieldError("reason", "expected a string, got integer"),
                FieldError("options", "expected an object, got array"),
            ])
        ),
    ]

    @Test(arguments: invalid.indices)
    func malformedCallsSayWhatIsWrong(_ index: Int) throws {
        let (text, problem) = MCPToolCallTests.invalid[index]
        #expect(throws: problem) { try ToolCall.parse(params(text)).get() }
    }

    @Test func missingParamsAreInvalid() {
        #expect(throws: ToolCall.Problem.invalidParams("tools/call needs params")) {
            try ToolCall.parse(nil).get()
        }
    }

    @Test func textLabelsEachLineWithItsStreamAndMarksTheGap() {
        let entries: [ToolResult.Entry] = [
            .line(OutputLine(stream: .stdout, seq: 1, text: "one", eol: .lf)),
            .line(OutputLine(stream: .stderr, seq: 1, text: "warn", eol: .lf)),
            .gap(lines: 7, bytes: 70),
            .line(OutputLine(stream: .stdout, seq: 9, text: "last", eol: .none)),
        ]
        #expect(
            ToolResult.text(entries)
                == "out| one\nerr| warn\n[ward: output cap reached: 7 lines (70 bytes) not shown;"
                + " the last lines follow]\nout| last")
        #expect(ToolResult.text([]) == "(no output)")
    }

    @Test func refusalNamesEveryField() {
        let result = ToolResult.refused(
            runID: "mcp-1", action: "e2e.region", code: "invalid_request",
            message: "request for e2e.region is not valid",
            errors: [
                FieldError("args.region", "is not one of: se"), FieldError("reason", "required"),
            ],
            journal: JournalHead(seq: 4, hash: "ab"), version: "2025-11-25")
        #expect(result["isError"] == true)
        let text = result["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
        #expect(text.contains("- args.region: is not one of: se"))
        #expect(text.contains("- reason: required"))
        #expect(result["structuredContent"]?["journal"]?["seq"] == 4)
        let old = ToolResult.refused(
            runID: "mcp-1", action: "a", code: "busy", message: "m", errors: [], journal: nil,
            version: "2025-03-26")
        #expect(old["structuredContent"] == nil)
    }

    nonisolated static let requesters: [(name: String?, version: String?, text: String)] = [
        ("claude-code", "1.0.3", "claude-code/1.0.3"),
        (nil, nil, "mcp-client/unknown"),
        ("evil\nname\u{1B}[31m", "1", "evil?name?[31m/1"),
        (String(repeating: "n", count: 300), "1", String(repeating: "n", count: 200)),
    ]

    @Test(arguments: requesters.indices)
    func requesterIsTheClientsNameAndVersionMadeSafe(_ index: Int) {
        let (name, version, text) = MCPToolCallTests.requesters[index]
        #expect(MCPSession.requester(name: name, version: version) == text)
    }
}
