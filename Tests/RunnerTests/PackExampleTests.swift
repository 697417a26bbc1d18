import Testing

@testable import Runner

/// The text of the fenced block that follows `marker` in `docs/action-packs.md`.
private func documentedBlock(after marker: String) -> String? {
    guard
        case .success(let bytes) = FileSystem.read(
            PackFixtures.repoRoot + "/docs/action-packs.md", limit: 1 << 20)
    else { return nil }
    let lines = String(decoding: bytes, as: UTF8.self).split(
        separator: "\n", omittingEmptySubsequences: false)
    guard let at = lines.firstIndex(where: { $0 == marker }), at + 1 < lines.count,
        lines[at + 1].hasPrefix("```"),
        let end = lines[(at + 2)...].firstIndex(where: { $0 == "```" })
    else { return nil }
    return lines[(at + 2)..<end].map { $0 + "\n" }.joined()
}

/// The worked example's state with the runner the documentation describes.
private func workedExampleState() -> JSONValue? {
    guard let registry = PackFixtures.load(["worked-example"]).registry else { return nil }
    var config = RunnerConfig.defaults(baseDirectory: "/etc/ward", hostname: "db-1")
    config.runnerID = "dev-runner-1"
    config.labels = [("env", "dev")]
    return StateDocument.build(
        config: config, registry: registry, version: "0.1.0", hostname: "db-1")
}

@Suite struct PackExampleTests {
    @Test(arguments: ["linux-core", "cassandra", "showcase"])
    func examplePackLoadsWithoutDiagnostics(_ name: String) throws {
        let loader = PackLoader(ceilings: [:], allowWritable: false)
        let (registry, diagnostics) = loader.load(
            directories: [PackFixtures.repoRoot + "/packs/" + name])
        #expect(diagnostics.map(\.description) == [])
        let pack = try #require(registry?.packs.first)
        #expect(pack.name == name)
        #expect(pack.actions.count >= 6)
    }

    @Test func examplePacksLoadTogether() throws {
        let loader = PackLoader(ceilings: [:], allowWritable: false)
        let (registry, diagnostics) = loader.load(directories: [PackFixtures.repoRoot + "/packs"])
        #expect(diagnostics.isEmpty)
        #expect(
            try #require(registry).packs.map(\.name) == ["cassandra", "linux-core", "showcase"])
    }

    @Test func linuxCoreAndCassandraAreReadOnly() throws {
        let loader = PackLoader(ceilings: [:], allowWritable: false)
        let (registry, _) = loader.load(directories: [PackFixtures.repoRoot + "/packs"])
        let actions = try #require(registry).actions.filter { $0.pack != "showcase" }
        #expect(actions.count >= 18)
        #expect(actions.allSatisfy { $0.readOnly })
    }

    @Test func exampleExecutablesExistOnThisHost() throws {
        let loader = PackLoader(ceilings: [:], allowWritable: false)
        let (registry, _) = loader.load(directories: [PackFixtures.repoRoot + "/packs"])
        for action in try #require(registry).actions where action.pack != "cassandra" {
            let program: String
            switch action.execution {
            case .exec(let argv): program = argv[0].source
            case .script(let interpreter, _, _): program = interpreter[0]
            }
            #expect(FileSystem.realPath(program) != nil, "\(action.name): \(program) is missing")
        }
    }

    @Test func documentedExampleIsTheFixture() throws {
        let documented = try #require(documentedBlock(after: "<!-- worked-example: pack.yaml -->"))
        let fixture = FileSystem.read(
            PackFixtures.packs + "/worked-example/pack.yaml", limit: 1 << 20)
        let text = String(decoding: try fixture.get(), as: UTF8.self)
        #expect(documented == text)
    }

    @Test func documentedStateIsWhatTheLoaderBuilds() throws {
        let documented = try #require(documentedBlock(after: "<!-- worked-example: state -->"))
        let state = try #require(workedExampleState())
        #expect(documented == JSONWriter.pretty(state) + "\n")
    }
}
