import Testing

@testable import Runner

/// Builds actions by hand so validation is tested without the pack loader.
@MainActor enum Fixture {
    static let here = SourceLocation(file: "test.yaml", line: 1, column: 1)

    static func arg(
        _ name: String, _ type: ArgType, required: Bool = false, defaultValue: ArgValue? = nil,
        secret: Bool = false, allowLeadingDash: Bool = false
    ) -> ArgSpec {
        ArgSpec(
            name: name, description: "", type: type, required: required,
            defaultValue: defaultValue, secret: secret, allowLeadingDash: allowLeadingDash,
            location: here)
    }

    static func template(_ s: String) -> Template {
        // Enough of the template syntax for tests: a literal with at most one
        // `{{args.NAME}}` placeholder.
        let parts = s.split(separator: "{{args.", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return Template(parts: [.literal(s)], source: s) }
        let rest = parts[1].split(separator: "}}", maxSplits: 1, omittingEmptySubsequences: false)
        var out: [TemplatePart] = []
        if !parts[0].isEmpty { out.append(.literal(String(parts[0]))) }
        out.append(.arg(String(rest[0])))
        if rest.count == 2, !rest[1].isEmpty { out.append(.literal(String(rest[1]))) }
        return Template(parts: out, source: s)
    }

    static func action(
        _ name: String, argv: [String], args: [ArgSpec], declared: Set<OptionName> = []
    ) -> Action {
        Action(
            name: name, pack: "test", description: "", readOnly: true, args: args,
            options: [
                OptionBounds(
                    name: .timeoutS, defaultValue: 10, min: 1, max: 60,
                    declared: declared.contains(.timeoutS)),
                OptionBounds(
                    name: .maxOutputBytes, defaultValue: 1 << 20, min: 1024, max: 1 << 24,
                    declared: declared.contains(.maxOutputBytes)),
                OptionBounds(
                    name: .maxOutputLines, defaultValue: 10_000, min: 1, max: 100_000,
                    declared: declared.contains(.maxOutputLines)),
            ],
            execution: .exec(argv: argv.map(template)), environment: EnvironmentSpec(),
            workingDirectory: "/", redaction: [], location: here)
    }

    static func request(
        _ action: String, _ args: [(String, RequestValue)] = [],
        options: [(String, RequestValue)] = [], reason: String = "test"
    ) -> RunRequest {
        RunRequest(
            id: "r-1", action: action, args: args.map { ($0.0, $0.1) },
            options: options.map { ($0.0, $0.1) }, reason: reason, origin: .local,
            requester: "uid:0")
    }
}

@MainActor @Suite struct ValidatorTests {
    let registry: Registry
    let validator = Validator(minSecretLength: 6)

    init() throws {
        let url = try Pattern("https?://[a-z0-9.-]+(/[A-Za-z0-9._/-]*)?", mode: .wholeValue)
        let actions = [
            Fixture.action(
                "t.count", argv: ["/bin/echo", "{{args.count}}"],
                args: [Fixture.arg("count", .integer(min: 1, max: 100), required: true)],
                declared: [.timeoutS]),
            Fixture.action(
                "t.flag", argv: ["/bin/echo", "{{args.on}}"],
                args: [Fixture.arg("on", .boolean, defaultValue: .boolean(false))]),
            Fixture.action(
                "t.fetch", argv: ["/usr/bin/curl", "-sS", "{{args.url}}"],
                args: [Fixture.arg("url", .string(pattern: url, maxLength: 200), required: true)]),
            Fixture.action(
                "t.grep", argv: ["/bin/grep", "-F", "--", "{{args.needle}}", "/var/log/x"],
                args: [Fixture.arg("needle", .string(pattern: nil, maxLength: 100))]),
            Fixture.action(
                "t.grep-nosep", argv: ["/bin/grep", "-F", "{{args.needle}}", "/var/log/x"],
                args: [Fixture.arg("needle", .string(pattern: nil, maxLength: 100))]),
            Fixture.action(
                "t.login",
                argv: ["/usr/bin/false", "--user={{args.user}}", "--pass={{args.password}}"],
                args: [
                    Fixture.arg("user", .string(pattern: nil, maxLength: 32)),
                    Fixture.arg("password", .string(pattern: nil, maxLength: 128), secret: true),
                ]),
            Fixture.action(
                "t.region", argv: ["/bin/echo", "{{args.region}}", "--since={{args.since}}"],
                args: [
                    Fixture.arg("region", .enumeration(["se", "no", "dk"]), required: true),
                    Fixture.arg("since", .string(pattern: nil, maxLength: 32)),
                ]),
        ]
        let pack = Pack(
            name: "test", version: "1", description: "", directory: "/", digest: "",
            actions: actions)
        registry = Registry(packs: [pack])
    }

    func refusal(_ request: RunRequest) -> Refusal? {
        if case .failure(let r) = validator.validate(request, in: registry) { return r }
        return nil
    }

    func argv(_ request: RunRequest) -> [String]? {
        if case .success(let run) = validator.validate(request, in: registry) { return run.argv }
        return nil
    }

    @Test func refusesUndeclaredAction() {
        #expect(refusal(Fixture.request("t.nope"))?.code == .unknownAction)
    }

    @Test func refusesMissingReason() {
        let r = refusal(Fixture.request("t.count", [("count", .json(5))], reason: "  "))
        #expect(r?.errors.map(\.field) == ["reason"])
    }

    @Test(arguments: [
        RequestValue.json(.real(10.0)), .json(.real(1e1)), .json(.string("10")), .json(.bool(true)),
        .json(.int(9_007_199_254_740_993)), .json(.int(0)), .text("1e1"), .text("010"),
        .text("10.0"), .text(" 10"),
    ])
    func refusesIntegerThatIsNotAnIntegerInBounds(_ value: RequestValue) {
        let r = refusal(Fixture.request("t.count", [("count", value)]))
        #expect(r?.code == .invalidRequest)
        #expect(r?.errors.map(\.field) == ["args.count"])
    }

    @Test func acceptsIntegerFromJSONAndText() {
        #expect(argv(Fixture.request("t.count", [("count", .json(10))])) == ["/bin/echo", "10"])
        #expect(argv(Fixture.request("t.count", [("count", .text("10"))])) == ["/bin/echo", "10"])
    }

    @Test(arguments: [RequestValue.json(.string("false")), .json(.int(0)), .text("no")])
    func refusesBooleanThatIsNotTrueOrFalse(_ value: RequestValue) {
        #expect(refusal(Fixture.request("t.flag", [("on", value)]))?.errors.count == 1)
    }

    @Test func refusesUnknownAndMissingArgumentsNamingEach() {
        let r = refusal(Fixture.request("t.count", [("bogus", .json(1))]))
        #expect(r?.errors.map(\.field).sorted() == ["args.bogus", "args.count"])
    }

    @Test(arguments: [
        "--output=/etc/cron.d/job?x=http://a.example/", "-o/tmp/x http://a.example/",
        "http://a.example/ -K /etc/shadow",
    ])
    func patternIsAFullMatch(_ url: String) {
        #expect(refusal(Fixture.request("t.fetch", [("url", .json(.string(url)))])) != nil)
    }

    @Test func valueAfterDoubleDashMayStartWithDash() {
        let a = argv(Fixture.request("t.grep", [("needle", .text("--include=*"))]))
        #expect(a == ["/bin/grep", "-F", "--", "--include=*", "/var/log/x"])
    }

    @Test func wholeElementValueStartingWithDashIsRefused() {
        let r = refusal(Fixture.request("t.grep-nosep", [("needle", .text("-f/etc/shadow"))]))
        #expect(r?.errors.map(\.field) == ["args.needle"])
    }

    /// C0 controls, DEL and C1 controls (CSI U+009B) are refused in values and
    /// reasons; tab everywhere, line breaks in the reason, and other non-ASCII
    /// text (NBSP U+00A0, é) pass.
    @Test(arguments: [
        ("a\u{1B}[2Jb", false), ("a\u{9B}2Jb", false), ("a\u{85}b", false), ("a\u{7F}", false),
        ("tab\there", true), ("nbsp\u{A0}é", true),
    ])
    func controlCharactersAreRefused(_ value: String, _ accepted: Bool) {
        let v = refusal(Fixture.request("t.grep", [("needle", .text(value))]))
        #expect((v == nil) == accepted, "value \(value.unicodeScalars.map(\.value))")
        let r = refusal(Fixture.request("t.grep", [("needle", .text("x"))], reason: "why " + value))
        #expect((r == nil) == accepted, "reason \(value.unicodeScalars.map(\.value))")
        #expect(refusal(Fixture.request("t.grep", [("needle", .text("x"))], reason: "a\nb")) == nil)
    }

    @Test func dashInsideValueIsFine() {
        let a = argv(Fixture.request("t.grep-nosep", [("needle", .text("error - disk"))]))
        #expect(a?[2] == "error - disk")
    }

    @Test func valueNeverSplitsIntoSeveralElements() {
        let a = argv(Fixture.request("t.grep", [("needle", .text("a b  c;$(x)"))]))
        #expect(a?.count == 5)
        #expect(a?[3] == "a b  c;$(x)")
    }

    @Test func refusalNeverEchoesASecret() {
        let r = refusal(
            Fixture.request(
                "t.login",
                [("password", .json(.string("Pl4ceholder-Secret!"))), ("user", .json(3))]
            ))
        #expect(r != nil)
        #expect(!String(describing: r!).contains("Pl4ceholder"))
    }

    @Test func refusesSecretTooShortToRedact() {
        let r = refusal(Fixture.request("t.login", [("password", .text("abc"))]))
        #expect(r?.errors.map(\.field) == ["args.password"])
    }

    @Test func secretsAreCollectedAndMaskedInArgs() throws {
        guard
            case .success(let run) = validator.validate(
                Fixture.request("t.login", [("password", .text("Pl4ceholder-Secret!"))]),
                in: registry)
        else {
            Issue.record("refused")
            return
        }
        #expect(run.secrets.map(\.value) == ["Pl4ceholder-Secret!"])
        #expect(!JSONWriter.string(run.maskedArgsJSON).contains("Pl4ceholder"))
        #expect(run.argv.last == "--pass=Pl4ceholder-Secret!")
    }

    @Test func enumValueNoStaysAString() {
        #expect(
            argv(Fixture.request("t.region", [("region", .text("no"))])) == ["/bin/echo", "no"])
    }

    @Test func elementNamingAnAbsentOptionalArgumentIsLeftOut() {
        let a = argv(
            Fixture.request("t.region", [("region", .text("se")), ("since", .text("1h"))]))
        #expect(a == ["/bin/echo", "se", "--since=1h"])
    }

    @Test func clampsRequestedOptionAndNamesTheBound() throws {
        guard
            case .success(let run) = validator.validate(
                Fixture.request(
                    "t.count", [("count", .json(1))], options: [("timeout_s", .json(999))]),
                in: registry)
        else {
            Issue.record("refused")
            return
        }
        let t = run.options.first { $0.name == .timeoutS }!
        #expect(t.value == 60)
        #expect(t.requested == 999)
        #expect(t.clampedBy == "timeout_s_max")
    }

    @Test func refusesOptionTheActionDoesNotDeclare() {
        let r = refusal(
            Fixture.request(
                "t.count", [("count", .json(1))], options: [("max_output_lines", .json(5))]))
        #expect(r?.errors.map(\.field) == ["options.max_output_lines"])
    }

    @Test(arguments: ["timeout_s", "max_output_lines", "retries"])
    func repeatedOptionIsOneErrorSayingSo(_ name: String) {
        // Declared, undeclared or unknown: the second occurrence adds exactly
        // one error, "given more than once", not a copy of the first's.
        let once = refusal(
            Fixture.request(
                "t.count", [("count", .json(1))],
                options: [(name, .json(5)), ("no_such", .json(1))]))
        let twice = refusal(
            Fixture.request(
                "t.count", [("count", .json(1))],
                options: [(name, .json(5)), (name, .json(6)), ("no_such", .json(1))]))
        let errors = (twice?.errors ?? []).map(\.description)
        #expect(errors.count == (once?.errors.count ?? 0) + 1, "\(errors)")
        #expect(errors.filter { $0.contains("given more than once") }.count == 1, "\(errors)")
    }

    @Test func refusesUnknownOption() {
        let r = refusal(
            Fixture.request("t.count", [("count", .json(1))], options: [("retries", .json(3))]))
        #expect(r?.errors.map(\.field) == ["options.retries"])
    }
}
