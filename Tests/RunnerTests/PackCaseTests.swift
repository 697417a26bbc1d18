import Testing

@testable import Runner

/// The load-time parts of the cases in docs (19, 20, 22, 25, 01, 04), each translated
/// into ward's pack format with the case's layout kept where positions matter.
@Suite struct PackCaseTests {
    @Test func case19ImplicitTypingFailsLoadWithPositions() {
        let (registry, lines) = PackFixtures.load(["case19-typing"])
        #expect(registry == nil)
        let integer = "expected an integer (decimal digits, no leading zeros), got"
        #expect(
            lines == [
                "case19-typing/pack.yaml:6:41: error: actions.region.set.args.dryrun.default:"
                    + " expected true or false, got \"off\"",
                "case19-typing/pack.yaml:9:40: error: actions.region.set.args.note.default:"
                    + " expected a string, got null",
                "case19-typing/pack.yaml:11:22: error: actions.region.set.options.timeout_s_min:"
                    + " \(integer) \"010\"",
                "case19-typing/pack.yaml:12:22: error: actions.region.set.options.timeout_s_max:"
                    + " \(integer) \"1e3\"",
                "case19-typing/pack.yaml:13:25: error:"
                    + " actions.region.set.options.max_output_lines: \(integer) \"0x3\"",
            ])
    }

    @Test func case20DuplicateKeysAreAllReportedWithBothLines() {
        let (registry, lines) = PackFixtures.load(["case20-duplicates"])
        #expect(registry == nil)
        // The rest of the file is still checked (the first of each duplicate
        // is kept): a duplicate used to hide every other mistake.
        let name =
            "is not a valid action name (dot-separated segments of lowercase letters,"
            + " digits and hyphens, at most 64 characters)"
        #expect(
            lines == [
                "case20-duplicates/pack.yaml:2:3: error: actions.restart_web: \"restart_web\" \(name)",
                "case20-duplicates/pack.yaml:3:5: error: actions.restart_web: missing required key"
                    + " \"description\"",
                "case20-duplicates/pack.yaml:6:7: error:"
                    + " actions.restart_web.options.timeout_s_max duplicated (lines 5 and 6)",
                "case20-duplicates/pack.yaml:7:3: error: actions.restart_web duplicated"
                    + " (lines 2 and 7)",
                "case20-duplicates/pack.yaml:9:3: error: actions.restart_db: \"restart_db\" \(name)",
                "case20-duplicates/pack.yaml:9:17: error: actions.restart_db: missing required key"
                    + " \"description\"",
                "case20-duplicates/pack.yaml:10:3: error: actions.restart_db duplicated"
                    + " (lines 9 and 10)",
            ])
    }

    @Test func case20SameActionInTwoPacksNamesBothFiles() {
        let (registry, lines) = PackFixtures.load(["case20-cross-pack"])
        #expect(registry == nil)
        #expect(
            lines == [
                "case20-cross-pack/beta/pack.yaml:8:3: error: action \"web.restart\" is already"
                    + " declared at case20-cross-pack/alpha/pack.yaml:5:3"
            ])
    }

    @Test func case22SecondDocumentFailsLoad() {
        let (registry, lines) = PackFixtures.load(["case22-multi-document"])
        #expect(registry == nil)
        #expect(
            lines == [
                "case22-multi-document/pack.yaml:4:1: error: pack must contain exactly one YAML"
                    + " document; second starts at line 4"
            ])
    }

    @Test(arguments: ["case22-empty", "case22-comments-only", "case22-bare-dashes"])
    func case22EmptyPackFailsLoad(_ fixture: String) {
        let (registry, lines) = PackFixtures.load([fixture])
        #expect(registry == nil)
        #expect(lines == ["\(fixture)/pack.yaml: error: empty file"])
    }

    @Test func case22TabIndentationIsReportedWithPosition() {
        let (registry, lines) = PackFixtures.load(["case22-tab"])
        #expect(registry == nil)
        #expect(
            lines == [
                "case22-tab/pack.yaml:3:1: error: YAML syntax error: found character that cannot"
                    + " start any token (while scanning for the next token); YAML does not allow"
                    + " TAB characters for indentation"
            ])
    }

    @Test func case22BOMAndCRLFLoadLikeLF() throws {
        let lf = """
            pack: crlf
            version: "1"
            description: Written with CRLF line ends and a byte order mark.
            actions:
              safe.restart:
                description: Restarts the web service.
                exec: ["/usr/bin/systemctl", "restart", "web.service"]
                args: {unit: {type: string, default: web}}

            """
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let crlf = bom + Array(lf.utf8).flatMap { $0 == 0x0A ? [0x0D, 0x0A] : [$0] }
        let temp = TemporaryFolder()
        temp.write("lf/pack.yaml", lf)
        temp.write("crlf/pack.yaml", crlf)
        let loader = PackLoader(ceilings: [:], allowWritable: false)
        let fromLF = loader.load(directories: [temp.path + "/lf"])
        let fromCRLF = loader.load(directories: [temp.path + "/crlf"])
        #expect(fromCRLF.diagnostics.isEmpty)
        let a = try #require(fromLF.registry?.actions.first)
        let b = try #require(fromCRLF.registry?.actions.first)
        #expect(a.name == b.name && a.description == b.description)
        #expect(a.execution.kind == b.execution.kind)
        if case .exec(let argvA) = a.execution, case .exec(let argvB) = b.execution {
            #expect(argvA == argvB)
        }
        #expect(a.arg("unit")?.defaultValue == b.arg("unit")?.defaultValue)
        #expect(a.location.line == b.location.line && a.location.column == b.location.column)
    }

    @Test func case22OneBadPackRegistersNothing() {
        let (registry, lines) = PackFixtures.load(["case22-atomic"])
        #expect(registry == nil)
        #expect(
            lines == [
                "case22-atomic/bad/pack.yaml:8:1: error: pack must contain exactly one YAML"
                    + " document; second starts at line 8"
            ])
        #expect(PackFixtures.load(["case22-atomic/good"]).registry != nil)
    }

    @Test func case25PatternsMatchTheWholeValue() throws {
        let (registry, _) = PackFixtures.load(["case25-leading-dash"])
        let url = try #require(registry?.action("fetch.status")?.arg("url"))
        guard case .string(let pattern?, _) = url.type else {
            Issue.record("url has no pattern")
            return
        }
        #expect(pattern.matches("http://a.example/"))
        for request in [
            "--output=/etc/cron.d/job?x=http://a.example/", "-o/tmp/x http://a.example/",
            "http://a.example/ -K /etc/shadow",
        ] {
            #expect(!pattern.matches(request), "substring match accepted: \(request)")
        }
    }

    @Test func case25WarnsOnlyForLeadingDashWithoutSeparator() {
        let (registry, lines) = PackFixtures.load(["case25-leading-dash"])
        #expect(registry != nil)
        #expect(
            lines == [
                "case25-leading-dash/pack.yaml:17:31: warning: actions.grep.log-nosep.exec[2]:"
                    + " argument \"needle\" allows a leading \"-\" and forms a whole argv element"
                    + " with no \"--\" before it, so the program may read the value as an option"
            ])
    }

    @Test func case25LintAlsoCoversScriptArguments() {
        let temp = TemporaryFolder()
        temp.write("p/run.sh", "echo \"$@\"\n")
        temp.write(
            "p/pack.yaml",
            """
            pack: p
            version: "1"
            description: d
            actions:
              p.unsafe:
                description: d
                script: {interpreter: ["/bin/sh", "--"], file: run.sh, args: ["{{args.x}}"]}
                args: {x: {type: string, allow_leading_dash: true}}
              p.safe:
                description: d
                script: {interpreter: ["/bin/sh"], file: run.sh, args: ["--", "{{args.x}}"]}
                args: {x: {type: string, allow_leading_dash: true}}

            """)
        let (_, diagnostics) = PackLoader(ceilings: [:], allowWritable: false)
            .load(directories: [temp.path + "/p"])
        #expect(diagnostics.map(\.severity) == [.warning])
        #expect(diagnostics.first?.location?.line == 7)
    }

    @Test func case01MultiLineRedactRuleFailsLoad() {
        let (registry, lines) = PackFixtures.load(["case01-multiline-rule"])
        #expect(registry == nil)
        #expect(
            lines == [
                "case01-multiline-rule/pack.yaml:6:14: error: redact rule \"pem-block\": pattern"
                    + " needs multi-line input; rules are applied per line"
            ])
    }

    @Test func case04RuleCompileErrorNamesTheRule() {
        let (registry, lines) = PackFixtures.load(["case04-rules"])
        #expect(registry == nil)
        #expect(
            lines == [
                "case04-rules/pack.yaml:13:18: error: redact rule \"unclosed\": pattern does not"
                    + " compile: missing terminating ] for character class at offset 9"
            ])
    }

    @Test func case04BacktrackingRuleCompilesAtLoad() throws {
        let temp = TemporaryFolder()
        temp.write(
            "p/pack.yaml",
            "pack: p\nversion: \"1\"\ndescription: d\nredact: [{id: bad, pattern: '(a+)+$'}]\n"
                + "actions: {p.x: {description: x, exec: [/bin/true]}}\n")
        let (registry, diagnostics) = PackLoader(ceilings: [:], allowWritable: false)
            .load(directories: [temp.path + "/p"])
        #expect(diagnostics.isEmpty)
        #expect(try #require(registry?.action("p.x")).redaction.map(\.id) == ["bad"])
    }
}
