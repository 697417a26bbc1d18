import Testing

@testable import Runner

/// The registry of pack folders under the repository (`packs/linux-core`, the
/// e2e and MCP fixtures).
private func registry(_ folders: [String]) throws -> Registry {
    let loader = PackLoader(ceilings: [:], allowWritable: false)
    let (registry, diagnostics) = loader.load(
        directories: folders.map { PackFixtures.repoRoot + "/" + $0 })
    #expect(diagnostics.filter { $0.severity == .error }.map(\.description) == [])
    return try #require(registry)
}

private let e2e = "Tests/RunnerTests/Fixtures/e2e/packs"
private let mcp = "Tests/RunnerTests/Fixtures/mcp/packs"

@Suite struct MCPToolSchemaTests {
    @Test func toolNamesMapBackToTheirActions() throws {
        let actions = try registry([e2e, mcp, "packs"]).actions
        #expect(actions.count > 20)
        for action in actions {
            let tool = ToolSchema.toolName(action.name)
            #expect(!tool.contains("."))
            #expect(ToolSchema.actionName(tool) == action.name)
        }
        #expect(ToolSchema.toolName("linux.disk-usage") == "linux_disk-usage")
        #expect(ToolSchema.actionName("linux.journal") == nil)
    }

    @Test func linuxCoreReadOnlyActionsAreAnnotatedSo() throws {
        let actions = try registry(["packs/linux-core"]).actions
        #expect(actions.contains { $0.readOnly })
        for action in actions {
            let tool = ToolSchema.tool(action, version: MCPVersion.latest)
            #expect(tool["annotations"]?["readOnlyHint"] == .bool(action.readOnly))
            #expect(tool["annotations"]?["title"] == .string(action.name))
        }
    }

    @Test func argumentsTypesBoundsAndDefaultsBecomeTheSchema() throws {
        let r = try registry([e2e])
        let region = ToolSchema.inputSchema(try #require(r.action("e2e.region")))
        let expected: JSONValue = [
            "type": "object",
            "properties": [
                "region": ["type": "string", "enum": ["se", "no", "dk"]],
                "host": [
                    "type": "string", "maxLength": 64, "pattern": "^(?:[a-z0-9.-]+)$",
                    "default": "localhost",
                ],
                "reason": [
                    "type": "string",
                    "description": "Why this run is needed, in a sentence; journaled with the run.",
                    "minLength": 1, "maxLength": 1024,
                ],
                "options": [
                    "type": "object",
                    "description": .string(
                        "Run options this action lets a call choose. Fixed for this action:"
                            + " timeout_s 30, max_output_bytes 1048576, max_output_lines 10000."),
                    "properties": [:], "additionalProperties": false,
                ],
                "dry_run": [
                    "type": "boolean", "default": false,
                    "description": .string(
                        "true: check the arguments and show the exact argv and clamped options"
                            + " that would run, without running anything."),
                ],
            ],
            "required": ["region", "reason"],
            "additionalProperties": false,
        ]
        #expect(region == expected)
    }

    @Test func requestableOptionsCarryTheirBounds() throws {
        let r = try registry([e2e])
        let count = ToolSchema.inputSchema(try #require(r.action("e2e.count")))
        #expect(
            count["properties"]?["n"]
                == ["type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 3])
        let lines = try #require(
            count["properties"]?["options"]?["properties"]?["max_output_lines"])
        #expect(lines["minimum"] == 1 && lines["maximum"] == 1000 && lines["default"] == 100)
        #expect(count["properties"]?["options"]?["properties"]?["timeout_s"] == nil)
    }

    @Test func secretArgumentIsMarkedAndHasNoDefault() throws {
        let r = try registry([mcp])
        let secret = try #require(r.action("mcp.secret"))
        let token = try #require(ToolSchema.inputSchema(secret)["properties"]?["token"])
        #expect(token["default"] == nil)
        #expect(token["description"]?.stringValue?.hasSuffix("never journaled.") == true)
    }

    @Test func olderRevisionsGetToolsWithoutNewerFields() throws {
        let r = try registry([e2e])
        let action = try #require(r.action("e2e.echo"))
        let old = ToolSchema.tool(action, version: "2024-11-05")
        #expect(old.objectValue?.keys == ["name", "description", "inputSchema"])
        let mid = ToolSchema.tool(action, version: "2025-03-26")
        #expect(mid.objectValue?.keys == ["name", "description", "inputSchema", "annotations"])
        let new = ToolSchema.tool(action, version: "2025-11-25")
        #expect(
            new.objectValue?.keys == ["name", "title", "description", "inputSchema", "annotations"])
    }

    nonisolated static let negotiation: [(asked: String?, answered: String)] = [
        ("2024-11-05", "2024-11-05"), ("2025-03-26", "2025-03-26"), ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"), ("2026-07-28", "2025-11-25"), ("draft", "2025-11-25"),
        (nil, "2025-11-25"),
    ]

    @Test(arguments: negotiation.indices)
    func versionNegotiationAnswersTheClientsRevisionOrTheNewest(_ index: Int) {
        let (asked, answered) = MCPToolSchemaTests.negotiation[index]
        #expect(MCPVersion.negotiate(asked) == answered)
    }

    @Test func onlyTheMarch2025RevisionHasBatches() {
        #expect(MCPVersion.supported.filter { MCPVersion.allowsBatches($0) } == ["2025-03-26"])
        #expect(!MCPVersion.allowsBatches(nil))
    }
}
