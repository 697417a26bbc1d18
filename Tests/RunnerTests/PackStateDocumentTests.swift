import Testing

@testable import Runner

private func state(_ packYAML: String, files: [String: String] = [:]) throws -> JSONValue {
    let temp = TemporaryFolder()
    temp.write("p/pack.yaml", packYAML)
    for (path, text) in files { temp.write("p/" + path, text) }
    let (registry, diagnostics) = PackLoader(ceilings: [:], allowWritable: false)
        .load(directories: [temp.path + "/p"])
    #expect(!diagnostics.contains { $0.severity == .error })
    var config = RunnerConfig.defaults(baseDirectory: "/etc/ward", hostname: "h")
    config.labels = [("zone", "b"), ("env", "dev")]
    return StateDocument.build(
        config: config, registry: try #require(registry), version: "9.9", hostname: "h")
}

@Suite struct StateDocumentTests {
    @Test func topLevelKeysComeInTheDocumentedOrder() throws {
        let s = try state("pack: p\nversion: \"1\"\ndescription: d\nactions: {}\n")
        #expect(s.objectValue?.keys == ["schema", "runner", "limits", "packs", "actions"])
        #expect(s["runner"]?.objectValue?.keys == ["id", "version", "hostname", "labels"])
        #expect(s["runner"]?["labels"]?.objectValue?.keys == ["zone", "env"])
        #expect(s["schema"] == .int(1))
    }

    @Test func actionsAreSortedByName() throws {
        let s = try state(
            """
            pack: p
            version: "1"
            description: d
            actions:
              p.zeta: {description: z, exec: [/bin/true]}
              p.alpha: {description: a, exec: [/bin/true]}

            """)
        #expect(
            s["actions"]?.arrayValue?.map { $0["name"] } == [.string("p.alpha"), .string("p.zeta")])
        #expect(s["packs"]?.arrayValue?.first?["actions"] == ["p.alpha", "p.zeta"])
    }

    @Test func describesAnActionCompactlyAndExactly() throws {
        let s = try state(
            """
            pack: p
            version: "1"
            description: d
            actions:
              p.run:
                description: Runs.
                script: {interpreter: ["/bin/sh", "-e"], file: run.sh, args: ["{{ args.word }}"]}
                args:
                  word: {type: string, pattern: '[a-z]+', default: hi, allow_leading_dash: true}
                  key: {type: string, secret: true, required: true}
                  mode: {type: enum, values: [a, b]}
                  n: {type: integer, min: -1}
                  flag: {type: boolean, default: true}
                env: {pass: [LANG], set: {KEY: "{{args.key}}"}}
                options: {max_output_lines_max: 10}

            """, files: ["run.sh": "echo \"$1\"\n"])
        let action = try #require(s["actions"]?.arrayValue?.first)
        let expected =
            #"{"name":"p.run","pack":"p","description":"Runs.","read_only":false,"#
            + #""kind":"script","script":{"interpreter":["/bin/sh","-e"],"file":"run.sh","#
            + #""args":["{{ args.word }}"]},"args":[{"name":"word","type":"string","#
            + #""description":"","required":false,"default":"hi","pattern":"[a-z]+","#
            + #""max_length":256,"secret":false,"allow_leading_dash":true},"#
            + #"{"name":"key","type":"string","description":"","required":true,"#
            + #""max_length":256,"secret":true,"allow_leading_dash":false},"#
            + #"{"name":"mode","type":"enum","description":"","required":false,"#
            + #""values":["a","b"],"secret":false,"allow_leading_dash":false},"#
            + #"{"name":"n","type":"integer","description":"","required":false,"min":-1,"#
            + #""secret":false,"allow_leading_dash":false},"#
            + #"{"name":"flag","type":"boolean","description":"","required":false,"#
            + #""default":true,"secret":false,"allow_leading_dash":false}],"#
            + #""options":{"timeout_s":{"default":30,"min":1,"max":300,"requestable":false},"#
            + #""max_output_bytes":{"default":1048576,"min":1024,"max":16777216,"#
            + #""requestable":false},"max_output_lines":{"default":10,"min":1,"max":10,"#
            + #""requestable":true}},"env":{"pass":["LANG"],"set":["KEY"]},"workdir":"/","#
            + #""redact":[]}"#
        #expect(JSONWriter.string(action) == expected)
    }

    @Test func limitsReflectTheConfig() throws {
        let s = try state("pack: p\nversion: \"1\"\ndescription: d\nactions: {}\n")
        #expect(
            JSONWriter.string(try #require(s["limits"]))
                == #"{"max_concurrent_runs":16,"kill_grace_ms":2000,"min_secret_length":6,"#
                + #""ceilings":{"timeout_s":3600,"max_output_bytes":67108864,"#
                + #""max_output_lines":1000000}}"#)
    }
}
