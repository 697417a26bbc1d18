import Testing

@testable import Runner

/// Option injection through a value at the front of an argv element, and the
/// bounds on what a refusal lists.
@MainActor @Suite struct ValidatorBoundsTests {
    let registry: Registry
    let validator = Validator(minSecretLength: 6)

    init() {
        let text = ArgType.string(pattern: nil, maxLength: 64)
        var joined = Fixture.action(
            "t.joined", argv: ["/usr/bin/printf", "x"],
            args: [Fixture.arg("a", text), Fixture.arg("b", text)])
        joined.execution = .exec(argv: [
            Fixture.template("/usr/bin/printf"),
            Template(parts: [.arg("a"), .arg("b")], source: "{{args.a}}{{args.b}}"),
        ])
        var script = Fixture.action(
            "t.script", argv: ["/bin/true"], args: [Fixture.arg("name", text, required: true)])
        script.execution = .script(
            interpreter: ["/bin/bash", "--"], scriptPath: "/opt/s.sh",
            args: [Fixture.template("{{args.name}}")])
        let defaulted = Fixture.action(
            "t.defaulted", argv: ["/bin/echo", "{{args.flag}}"],
            args: [Fixture.arg("flag", text, defaultValue: .string("-n"))])
        let actions = [
            script, defaulted,
            Fixture.action(
                "t.sort", argv: ["/usr/bin/sort", "{{args.name}}.txt"],
                args: [Fixture.arg("name", text, required: true)]),
            Fixture.action(
                "t.prefixed", argv: ["/usr/bin/grep", "--regexp={{args.needle}}"],
                args: [Fixture.arg("needle", text, required: true)]),
            Fixture.action(
                "t.kill", argv: ["/bin/kill", "{{args.pid}}"],
                args: [Fixture.arg("pid", .integer(min: nil, max: nil), required: true)]),
            Fixture.action(
                "t.offset", argv: ["/usr/bin/seq", "{{args.from}}"],
                args: [
                    Fixture.arg(
                        "from", .integer(min: nil, max: nil), required: true,
                        allowLeadingDash: true)
                ]),
            Fixture.action(
                "t.mode", argv: ["/bin/ls", "{{args.mode}}"],
                args: [Fixture.arg("mode", .enumeration(["-l", "-a"]), required: true)]),
            joined,
        ]
        let pack = Pack(
            name: "test", version: "1", description: "", directory: "/", digest: "",
            actions: actions)
        registry = Registry(packs: [pack])
    }

    func outcome(_ request: RunRequest) -> Result<ValidatedRun, Refusal> {
        validator.validate(request, in: registry)
    }

    func refusedFields(_ request: RunRequest) -> [String]? {
        if case .failure(let r) = outcome(request) { return r.errors.map(\.field) }
        return nil
    }

    func argv(_ request: RunRequest) -> [String]? {
        if case .success(let run) = outcome(request) { return run.argv }
        return nil
    }

    @Test func valueAtTheFrontOfAnElementMayNotStartWithADash() {
        // `sort -o/tmp/pwned.txt` writes a file where the pack meant to read one.
        #expect(
            refusedFields(Fixture.request("t.sort", [("name", .text("-o/tmp/pwned"))]))
                == ["args.name"])
        #expect(
            argv(Fixture.request("t.sort", [("name", .text("notes"))])) == [
                "/usr/bin/sort", "notes.txt",
            ])
    }

    @Test func anEmptyValueHandsTheFrontToTheNextOne() {
        #expect(
            refusedFields(Fixture.request("t.joined", [("a", .text("")), ("b", .text("-rf"))]))
                == ["args.b"])
        #expect(
            argv(Fixture.request("t.joined", [("a", .text("x")), ("b", .text("-rf"))]))
                == ["/usr/bin/printf", "x-rf"])
    }

    @Test func aLiteralFrontKeepsTheValueOutOfOptionPosition() {
        #expect(
            argv(Fixture.request("t.prefixed", [("needle", .text("-v"))]))
                == ["/usr/bin/grep", "--regexp=-v"])
    }

    @Test func negativeIntegersAreRefusedUnlessTheArgumentAllowsADash() {
        // `kill -1` signals every process the user may signal.
        #expect(refusedFields(Fixture.request("t.kill", [("pid", .json(-1))])) == ["args.pid"])
        #expect(refusedFields(Fixture.request("t.kill", [("pid", .text("-9"))])) == ["args.pid"])
        #expect(argv(Fixture.request("t.kill", [("pid", .json(42))])) == ["/bin/kill", "42"])
        #expect(argv(Fixture.request("t.offset", [("from", .json(-5))])) == ["/usr/bin/seq", "-5"])
    }

    @Test func anInterpretersDoubleDashDoesNotCoverTheScriptsArguments() {
        // `bash -- script -rf`: the `--` ends bash's options; the script reads
        // `-rf` as its own.
        #expect(
            refusedFields(Fixture.request("t.script", [("name", .text("-rf"))])) == ["args.name"])
    }

    @Test func aDefaultIsThePacksAndMayStartWithADash() {
        #expect(argv(Fixture.request("t.defaulted")) == ["/bin/echo", "-n"])
        #expect(
            refusedFields(Fixture.request("t.defaulted", [("flag", .text("-e"))])) == ["args.flag"])
    }

    @Test func enumerationValuesAreThePacksAndMayStartWithADash() {
        #expect(argv(Fixture.request("t.mode", [("mode", .text("-l"))])) == ["/bin/ls", "-l"])
    }

    @Test func bidiControlsAreRefusedInStrings() {
        for c in ["\u{202E}", "\u{2066}", "\u{200F}", "\u{061C}"] {
            #expect(
                refusedFields(Fixture.request("t.sort", [("name", .text("a\(c)fdp"))]))
                    == ["args.name"], "U+\(String(c.unicodeScalars.first!.value, radix: 16))")
        }
        #expect(
            refusedFields(
                Fixture.request(
                    "t.sort", [("name", .text("a"))], reason: "approved \u{202E}txt.exe"))
                == ["reason"])
        // Right-to-left text itself is fine.
        #expect(argv(Fixture.request("t.sort", [("name", .text("שלום"))])) != nil)
    }

    @Test func aRefusalListsAtMostItsBoundOfErrorsAndCountsTheRest() {
        let many = (0..<20_000).map { ("u\($0)", RequestValue.text("v")) }
        guard case .failure(let r) = outcome(Fixture.request("t.sort", many)) else {
            Issue.record("20,000 undeclared arguments were accepted")
            return
        }
        #expect(r.errors.count == Validator.maxListedErrors + 1)
        // The required argument is missing too: 20,001 problems in all.
        let rest = 20_001 - Validator.maxListedErrors
        #expect(r.errors.last == FieldError("…", "\(rest) more problems not listed"))
    }

    @Test func aLongUndeclaredNameIsCutInItsError() {
        let name = String(repeating: "n", count: 5000)
        guard case .failure(let r) = outcome(Fixture.request("t.sort", [(name, .text("v"))])) else {
            Issue.record("an undeclared argument was accepted")
            return
        }
        #expect(r.errors.first?.field == "args." + String(repeating: "n", count: 64) + "…")
    }
}
