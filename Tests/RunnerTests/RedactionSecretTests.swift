import Testing

@testable import Runner

@Suite struct RedactionSecretTests {
    // Case 04: values with regex metacharacters are matched as bytes.
    nonisolated static let case04Secrets = [
        ("a", "token[123]"), ("b", "p.ss*w(rd"), ("c", #"C:\tmp\new"#), ("d", "1@234567"),
        ("e", "$HOME+"),
    ]
    nonisolated static let case04: [(String, String)] = [
        ("auth token[123] ok", "auth \(marker("arg.a")) ok"),
        ("decoy token1 ok", "decoy token1 ok"),
        ("pwd=p.ss*w(rd", "pwd=\(marker("arg.b"))"),
        ("pwd=pXssw(rd", "pwd=pXssw(rd"),
        (#"path C:\tmp\new"#, "path \(marker("arg.c"))"),
        ("pin 1@234567", "pin \(marker("arg.d"))"),
        ("var $HOME+", "var \(marker("arg.e"))"),
    ]

    @Test(arguments: case04)
    func literalWithMetacharactersIsMatchedAsBytes(_ input: String, _ expected: String) throws {
        // Built-ins off: the case is about literal matching alone (the built-in
        // password rule masks `pwd=` values by their key, decoy or not).
        let r = try makeRedactor(secrets: RedactionSecretTests.case04Secrets, builtIns: false)
        #expect(processText(input + "\n", with: r) == [expected])
    }

    @Test func builtInKeyRuleAlsoMasksTheDecoyValue() throws {
        let r = try makeRedactor(secrets: RedactionSecretTests.case04Secrets)
        #expect(r.redact("pwd=p.ss*w(rd") == "pwd=\(marker("arg.b"))")
        #expect(r.redact("pwd=pXssw(rd") == "pwd=\(marker("password-assignment"))")
    }

    // Case 05: URL-encoded, JSON-escaped and base64 forms.
    nonisolated static let case05: [(String, String)] = [
        (
            "GET https://user%40example.com:joker-%210@host.example/api",
            "GET https://\(marker("arg.user")):\(marker("arg.password"))@host.example/api"
        ),
        (
            // Not a spelling of the secret (`%2a` is `*`), so not `arg.password`;
            // still a password in a URL's user info.
            "GET https://user%40example.com:joker-%2a0@host.example/api",
            "GET https://\(marker("arg.user")):\(marker("url-credentials"))@host.example/api"
        ),
        (#"{"password":"MyPass\"word"}"#, #"{"password":"\#(marker("arg.quote"))"}"#),
        (#"{"token":"p\u00e0ss-1234"}"#, #"{"token":"\#(marker("arg.accent"))"}"#),
        ("MTIzNGFiY2QK", marker("arg.digits")),
        // Go's encoding/json escapes <, > and & by default.
        (#"go "f\u0026g\u003cl\u003e-99""#, #"go "\#(marker("arg.html"))""#),
    ]
    nonisolated static let case05Secrets = [
        ("user", "user@example.com"), ("password", "joker-!0"), ("quote", #"MyPass"word"#),
        ("accent", "pàss-1234"), ("digits", "1234abcd"), ("html", "f&g<l>-99"),
    ]

    @Test(arguments: case05)
    func encodedFormIsRedacted(_ input: String, _ expected: String) throws {
        let r = try makeRedactor(secrets: RedactionSecretTests.case05Secrets)
        #expect(processText(input + "\n", with: r) == [expected])
    }

    @Test func registrationNamesEncodingsNotValues() {
        var set = SecretSet()
        let reg = set.register("joker-!0", as: .argument("password"))
        #expect(reg.encodings.first == "raw")
        #expect(reg.encodings.contains("percent-all-upper"))
        #expect(reg.encodings.contains("base64-0") && reg.encodings.contains("base64-2"))
        let json = JSONWriter.string(set.json)
        #expect(!json.contains("joker"))
        #expect(json.contains(#""password":["raw","percent-all-upper""#))
    }

    @Test func base64CoreSurvivesAnyNeighbours() {
        let secret = Array("1234abcd".utf8)
        for prefix in ["", "x", "xy"] {
            let encoded = SecretEncoding.base64(Array(prefix.utf8) + secret + Array("\n!".utf8))
            let core = SecretEncoding.base64Core(secret, alignment: prefix.utf8.count)
            #expect(core.count >= 8)
            #expect(
                String(decoding: encoded, as: UTF8.self).contains(
                    String(decoding: core, as: UTF8.self)))
        }
    }

    @Test func encodersProduceTheExpectedSpellings() {
        let s = Array(#"a/"é@ b"#.utf8)
        let text = { (b: [UInt8]) in String(decoding: b, as: UTF8.self) }
        #expect(
            text(SecretEncoding.percent(s, onlyReserved: false, upper: true))
                == "a%2F%22%C3%A9%40%20b")
        #expect(
            text(SecretEncoding.percent(s, onlyReserved: true, upper: false))
                == #"a%2f"%c3%a9%40%20b"#)
        #expect(
            text(SecretEncoding.json(s, ascii: false, upper: false, slash: false)) == #"a/\"é@ b"#)
        #expect(
            text(SecretEncoding.json(s, ascii: true, upper: true, slash: true))
                == #"a\/\"\u00E9@ b"#)
        let astral = Array("\u{1}😀".utf8)
        #expect(
            text(SecretEncoding.json(astral, ascii: true, upper: false, slash: false))
                == #"\u0001\ud83d\ude00"#)
        #expect(text(SecretEncoding.base64(Array("1234\n".utf8))) == "MTIzNAo=")
        #expect(
            text(
                SecretEncoding.json(
                    Array("a&<b>\u{2028}é".utf8), ascii: false, upper: false, slash: false,
                    html: true))
                == #"a\u0026\u003cb\u003e\u2028é"#)
    }

    // Case 06: short and trivial values are not registered, and say why.
    @Test func shortAndTrivialValuesAreRefusedByName() throws {
        var set = SecretSet()
        set.register("{\n\"k\": \"v-PLACEHOLDER-1234\"\n}", as: .argument("k"))
        set.register("a", as: .argument("a"))
        set.register("true", as: .argument("t"))
        set.register("1234", as: .argument("n"))
        let r = Redactor(rules: RedactionRuleSet(), secrets: set)
        let input = """
            { "status": "ok", "enabled": true }
            "k": "v-PLACEHOLDER-1234"
            build 1234 done

            """
        let out = processText(input, with: r)
        #expect(
            out == [#"{ "status": "ok", "enabled": true }"#, marker("arg.k"), "build 1234 done"])
        #expect(set.registrations.map(\.reason) == [nil, .tooShort, .denyList, .tooShort])
        #expect(set.registrations[0].linesNotMasked == 2)
        let json = JSONWriter.string(set.json)
        #expect(
            json.hasPrefix(
                #"{"secrets_not_masked":[{"name":"a","reason":"too_short"},"#
                    + #"{"name":"t","reason":"deny_list"},{"name":"n","reason":"too_short"}],"#
                    + #""secret_lines_not_masked":2,"#))
        #expect(!json.contains("PLACEHOLDER") && !json.contains("1234"))
    }

    @Test(arguments: [
        ("a", 6, true), ("1234", 6, true), ("12345", 4, false), ("123", 2, true),
        ("abcdef", 6, false), ("{\nlong-enough\n}", 6, false), ("ab\ncd\nef", 6, true),
    ])
    func tooShortSecretIsDetectedForValidation(_ value: String, _ minimum: Int, _ short: Bool) {
        #expect(Redactor.secretIsTooShort(value, minimum: minimum) == short)
    }

    @Test func minimumLengthNeverDropsBelowFour() throws {
        #expect(SecretSet(minimumLength: 1).minimumLength == 4)
        let r = try makeRedactor(secrets: [("pin", "4711"), ("x", "abc")], minimum: 1)
        #expect(r.redact("pin 4711 abc") == "pin \(marker("arg.pin")) abc")
    }

    @Test func punctuationOnlyValueIsDenied() {
        var set = SecretSet()
        #expect(set.register("-------", as: .argument("p")).reason == .denyList)
        #expect(set.register("NULL", as: .argument("q")).reason == .denyList)
    }

    // Case 01: a multi-line secret is registered line by line.
    @Test func multiLineSecretMasksEveryLine() throws {
        let key = """
            -----BEGIN TEST KEY-----
            QUFBQUJCQkJDQ0NDRERERA==
            RUVFRUZGRkZHR0dHSEhISA==
            -----END TEST KEY-----
            """
        let r = try makeRedactor(secrets: [("keyfile", key)])
        let m = marker("arg.keyfile")
        #expect(processText(key + "\n", with: r) == [m, m, m, m])
        #expect(r.secrets.registrations[0].linesNotMasked == 0)
    }

    @Test func multiLineSecretCountsShortLinesNotMasked() throws {
        var set = SecretSet()
        let reg = set.register("ab\r\nlong-enough-line\n\nxy", as: .argument("blob"))
        #expect(reg.reason == nil)
        #expect(reg.linesNotMasked == 2)
        #expect(reg.encodings.contains("whole-json"))
        let r = Redactor(rules: RedactionRuleSet(builtIns: false), secrets: set)
        #expect(
            r.redact(#"{"v":"ab\r\nlong-enough-line\n\nxy"}"#) == #"{"v":"\#(marker("arg.blob"))"}"#
        )
    }

    // Case 07: everything that leaves ward goes through the same redactor.
    @Test func argvEchoAndErrorTextAreRedacted() throws {
        let r = try makeRedactor(secrets: [("password", "Pl4ceholder-Secret!")])
        let m = marker("arg.password")
        #expect(
            r.redact("/usr/bin/false --user=svc-deploy --pass=Pl4ceholder-Secret!")
                == "/usr/bin/false --user=svc-deploy --pass=\(m)")
        let event = #"{"argv":["/usr/bin/false","--pass=Pl4ceholder-Secret!"],"error":"exit 1"}"#
        #expect(r.redact(event) == #"{"argv":["/usr/bin/false","--pass=\#(m)"],"error":"exit 1"}"#)
        #expect(
            r.redact("GET https://u:Pl4ceholder-Secret%21@h/ failed")
                == "GET https://u:\(m)@h/ failed")
    }

    // Case 27: ward's own auth key is masked if anything prints it.
    @Test func authKeyIsMaskedInOutput() throws {
        let r = try makeRedactor(authKey: "rt_PLACEHOLDER_0123456789abcdef")
        #expect(
            processText("APP_MODE=rt_PLACEHOLDER_0123456789abcdef\nLANG=C.UTF-8\n", with: r)
                == ["APP_MODE=\(marker("auth-key"))", "LANG=C.UTF-8"])
        #expect(r.secrets.registrations[0].owner.name == "auth-key")
    }

    @Test func sameValueForTwoOwnersKeepsTheFirstMarker() throws {
        let r = try makeRedactor(secrets: [("one", "shared-value-1"), ("two", "shared-value-1")])
        #expect(r.redact("x shared-value-1") == "x \(marker("arg.one"))")
    }

    /// The spellings Python's `quote()` (keeps `/`) and JavaScript's
    /// `encodeURI` (keeps `;,/?:@&=+$!*'()#`) give are redacted too.
    @Test(arguments: [
        "wJalrXUtnFEMI/K7MDENG%2BbPxRfiCYEXAMPLEKEY%3D",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY=",
    ])
    func pathAndURIPercentSpellingsAreRedacted(_ spelled: String) throws {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY="
        let r = try makeRedactor(secrets: [("key", secret)])
        #expect(r.redact("url ?k=\(spelled) end") == "url ?k=[REDACTED:arg.key] end")
        let quoted = "p\"a\\ss €é/x"
        let js = "p%22a%5Css%20%E2%82%AC%C3%A9/x"
        let q = try makeRedactor(secrets: [("q", quoted)])
        #expect(q.redact("go \(js) now") == "go [REDACTED:arg.q] now")
    }
}
