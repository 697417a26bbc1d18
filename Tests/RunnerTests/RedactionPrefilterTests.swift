import Testing

@testable import Runner

/// The literal prefilter only ever skips a regex that could not have matched:
/// every alternative of every built-in rule is admitted, output is byte for byte
/// what the unfiltered redactor writes, and rules without triggers still run.
@Suite struct RedactionPrefilterTests {
    /// One text per alternative of each built-in rule (the keyword or prefix
    /// spelled in the cases the pattern allows), each a real match.
    nonisolated static let witnesses: [(rule: String, text: String)] = {
        let key40 = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        let id16 = "IOSFODNN7EXAMPLE"
        let gh36 = "0123456789abcdefghijABCDEFGHIJ012345"
        var w: [(String, String)] = []
        for prefix in ["AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA"] {
            w.append(("aws-access-key-id", "id \(prefix)\(id16) end"))
        }
        for key in ["aws_secret_access_key", "AWS_SECRET_ACCESS_KEY", "AwsSecretAccessKey"] {
            w.append(("aws-secret-key", "\(key)=\(key40)"))
        }
        for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
            w.append(("github-token", "t \(prefix)\(gh36)"))
        }
        w.append(("github-token", "t github_pat_\(String(repeating: "A1_", count: 10))"))
        for letter in ["b", "a", "p", "r", "s"] {
            w.append(("slack-token", "hook xox\(letter)-1234567890-abcdef"))
        }
        w.append(("jwt", "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcDEF_-123 ok"))
        for word in ["bearer", "Bearer", "BEARER", "bEaReR"] {
            w.append(("bearer-token", "\(word) abcdefghijklmnopqrstuvwxyz0123"))
        }
        for header in ["Authorization", "authorization", "PROXY-AUTHORIZATION"] {
            w.append(("authorization-header", "\(header): Basic dXNlcjpwYXNzd29yZA=="))
        }
        let keywords = [
            "password", "PASSWORD", "Passwd", "passphrase", "pwd", "secret", "SECRET", "api_key",
            "API-KEY", "apikey", "private_key", "Private-Key", "privatekey", "token", "TOKEN",
            "db_password", "GITHUB_TOKEN", "secret_key", "token.access_key",
        ]
        for keyword in keywords {
            w.append(("password-assignment", "\(keyword)=s3cr3tvalue!"))
        }
        // What may follow a keyword: quotes, each kind of space, `:`, and the
        // separators before each suffix, in either case.
        for assignment in [
            #"{"token": "abc123def"}"#, "password: hunter22", "passwd\t= x1y2z3w4",
            "secret\u{0B}=v4lue",
            "api-key\u{0C}:v4lue", "Passphrase\r=v4lue", "pwd='v4lue'", "TOKEN'='v4lue'",
            "token_key=v4lue", "token.KEY=v4lue", "token-access_key=v4lue", "api_key.AccessKey=v",
            "private-key_token=v4lue", "pwd_Token=v4lue", "pwd-key=v4lue", "x.password=v4lue",
            "'token' => 'v4lue'", "secret := v4lue", "[passwd] => v4lue",
            "\u{1B}[31mpassword=v4lue", "\u{1B}[0;36mtoken\u{1B}[0m=v4lue", "\u{1B}[mpwd=v4lue",
            "dbPassword=v4lue", #"{"accessToken":"v4lue"}"#, "clientSecret: v4lue",
            "secretKey=v4lue", "awsSecretAccessKey=v4lue", "userApiKey=v4lue",
        ] {
            w.append(("password-assignment", assignment))
        }
        w.append(("bearer-token", "bearer\tabcdefghijklmnopqrstuvwxyz0123"))
        w.append(("bearer-token", "\u{1B}[1mBearer abcdefghijklmnopqrstuvwxyz0123"))
        w.append(("aws-secret-key", "aws_secretaccesskey=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))
        for variable in ["MYSQL_PWD", "PGPASSWORD", "SSHPASS", "REDISCLI_AUTH"] {
            w.append(("password-assignment", "\(variable)=s3cr3t-v4lue"))
        }
        w.append(("url-credentials", "postgres://app:dbpass12345@db:5432/app"))
        w.append(("url-credentials", "redis://:s3cr3t@cache"))
        w.append(("private-key", "-----BEGIN RSA PRIVATE KEY-----"))
        w.append(("private-key", "-----BEGIN PRIVATE KEY-----"))
        w.append(("private-key", "-----BEGIN OPENSSH PRIVATE KEY-----"))
        return w
    }()

    @Test(arguments: witnesses)
    func everyAlternativeOfABuiltInRuleIsStillRedacted(_ rule: String, _ text: String) throws {
        let unfiltered = try makeRedactor(prefiltered: false).redact(text)
        let filtered = try makeRedactor().redact(text)
        // The witness is a real match of its rule, and the prefilter lets it through.
        #expect(unfiltered.contains("[REDACTED:\(rule)]"), "\(text)")
        #expect(filtered == unfiltered)
    }

    /// The scan looks at every second byte pair: a literal at any offset, and at
    /// the very end of a line of either parity, is still found.
    @Test(arguments: 0...8)
    func literalsAreFoundAtEveryOffset(_ offset: Int) throws {
        let filtered = try makeRedactor()
        let unfiltered = try makeRedactor(prefiltered: false)
        for (_, text) in RedactionPrefilterTests.witnesses {
            for line in [
                String(repeating: " ", count: offset) + text,
                text + String(repeating: " ", count: offset),
            ] {
                #expect(filtered.redact(line) == unfiltered.redact(line), "\(line)")
            }
        }
        let secret = "Zq9-offset-secret"
        let withSecret = try makeRedactor(secrets: [("s", secret)])
        for line in [String(repeating: ".", count: offset) + secret, "a" + secret] {
            #expect(withSecret.redact(line).hasSuffix("[REDACTED:arg.s]"), "\(line)")
        }
    }

    @Test func everyBuiltInRuleHasWitnesses() {
        let covered = Set(RedactionPrefilterTests.witnesses.map(\.rule))
        #expect(covered == Set(RedactionRuleSet.builtInIDs))
    }

    /// PCRE2's caseless UTF matching folds U+017F (long s) onto `s` and U+212A
    /// (Kelvin sign) onto `k`: the ASCII triggers cannot see them, so a line with
    /// any non-ASCII byte runs every rule.
    @Test(arguments: ["\u{17F}ecret=hunter22", "to\u{212A}en=abcdef1234", "é password=x1y2z3"])
    func nonASCIILineRunsEveryRule(_ text: String) throws {
        let unfiltered = try makeRedactor(prefiltered: false).redact(text)
        #expect(unfiltered.contains("[REDACTED:password-assignment]"))
        #expect(try makeRedactor().redact(text) == unfiltered)
    }

    @Test func ruleWithoutTriggersRunsOnEveryLine() throws {
        let r = try makeRedactor(extra: [("order-id", #"ord-\d{6}"#)])
        #expect(r.redact("shipped ord-123456 today") == "shipped [REDACTED:order-id] today")
    }

    @Test func lineWithoutAnyTriggerAdmitsNoBuiltInRule() {
        let rules = RedactionRuleSet()
        let line = Array("GET /items?page=2 200 12ms ua=curl id=9623d7cf".utf8)
        #expect(line.withUnsafeBytes { rules.prefilter!.admitted($0) } == 0)
        let keyword = Array("GET /items?PassWord=2".utf8)
        let index = BuiltInRules.regexRules.firstIndex { $0.id == "password-assignment" }!
        #expect(keyword.withUnsafeBytes { rules.prefilter!.admitted($0) } == 1 << UInt64(index))
    }

    /// Random lines built from trigger fragments (in random case, cut short,
    /// glued to neighbours), secrets and filler, through the whole stream
    /// processor: prefiltered output equals unfiltered output exactly.
    @Test func prefilteredStreamEqualsUnfilteredStream() throws {
        let fragments =
            RedactionPrefilterTests.witnesses.map(\.text) + [
                "pass", "pwd", "api", "key", "token", "secret", "ghp", "xox", "eyJ", "-----BEGIN ",
                "_key", ".access", "-token", "_", "\t", "s", "0", "tokens", "KEY", "Access",
                "\u{1B}[31m", "\u{1B}[m", ";1m", "db", "Token", "Password", "Key", "m",
                "-----END RSA PRIVATE KEY-----", "=", ": ", "\"", "'", " ", "_", "-", "é",
                "\u{17F}",
            ]
        let filler = Array("abcdefghij KLMNOP 0123456789 .,;:-_=+/\"'".utf8)
        var rng = SplitMix64(seed: 0x5EED_F11E)
        var input: [UInt8] = []
        for _ in 0..<4000 {
            for _ in 0..<Int.random(in: 0...6, using: &rng) {
                var piece = Array(fragments.randomElement(using: &rng)!.utf8)
                if Bool.random(using: &rng) {
                    piece = piece.map { b in
                        Bool.random(using: &rng) && (0x61...0x7A).contains(b) ? b - 32 : b
                    }
                }
                if Int.random(in: 0..<4, using: &rng) == 0, piece.count > 1 {
                    piece.removeLast(Int.random(in: 1..<piece.count, using: &rng))
                }
                input += piece
                for _ in 0..<Int.random(in: 0...8, using: &rng) {
                    input.append(filler.randomElement(using: &rng)!)
                }
            }
            input.append(0x0A)
        }
        let filtered = process([input], with: try makeRedactor())
        let unfiltered = process([input], with: try makeRedactor(prefiltered: false))
        // A witness with a CR splits its line in two.
        #expect(filtered.count >= 4000)
        #expect(filtered.filter { $0.redactions > 0 }.count > 400)
        #expect(filtered == unfiltered)
    }

    /// A run's secret spellings are prefilter triggers too: lines holding a raw,
    /// base64, URL-encoded or JSON-escaped spelling are redacted exactly as by
    /// the unfiltered redactor, and more secrets than the prefilter has bits for
    /// are still searched on every line.
    @Test(arguments: [1, 70])
    func secretSpellingsAreRedactedAsWithoutThePrefilter(_ count: Int) throws {
        let secrets = (0..<count).map { ("s\($0)", "Sup3r-secret/\($0)+\"x\"") }
        var rng = SplitMix64(seed: 0xA11CE)
        var text = ""
        for i in 0..<2000 {
            let value = secrets[i % count].1
            let spellings =
                [value]
                + SecretEncoding.derivedForms(of: Array(value.utf8)).map {
                    String(decoding: $0.bytes, as: UTF8.self)
                }
            text += "line \(i) \(spellings.randomElement(using: &rng)!) tail\n"
            text += "line \(i) nothing to see\n"
        }
        let filtered = processText(text, with: try makeRedactor(secrets: secrets))
        let unfiltered = processText(
            text, with: try makeRedactor(secrets: secrets, prefiltered: false))
        #expect(filtered == unfiltered)
        #expect(!filtered.contains { $0.contains("Sup3r-secret") })
    }

    /// Runs that register the same literals share one prefilter; a run with
    /// other literals gets its own, and earlier redactors keep theirs. With
    /// the built-in rules off the literals are still found.
    @Test(arguments: [true, false])
    func runsShareAPrefilterOnlyForTheSameLiterals(_ builtIns: Bool) {
        let rules = RedactionRuleSet(builtIns: builtIns)
        func redactor(_ secret: String) -> Redactor {
            var set = SecretSet()
            set.register(secret, as: .argument("s"))
            set.register("runner-key-0123456789", as: .authKey)
            return Redactor(rules: rules, secrets: set)
        }
        let first = redactor("Alpha-secret-1")
        let again = redactor("Alpha-secret-1")
        let other = redactor("Bravo-secret-2")
        #expect(
            first.redact("x Alpha-secret-1 runner-key-0123456789")
                == "x [REDACTED:arg.s] [REDACTED:auth-key]")
        #expect(again.redact("x Alpha-secret-1") == "x [REDACTED:arg.s]")
        #expect(other.redact("x Bravo-secret-2 y") == "x [REDACTED:arg.s] y")
        #expect(other.redact("x Alpha-secret-1 y") == "x Alpha-secret-1 y")
        #expect(first.redact("x Alpha-secret-1 y") == "x [REDACTED:arg.s] y")
        #expect(
            rules.prefilter(adding: [Array("abc".utf8)])
                === rules.prefilter(adding: [Array("abc".utf8)]))
    }

    /// Every scan this machine runs (the pair filter, SSSE3, AVX2) and a plain
    /// reading of the triggers agree on which rules each line admits: random lines of trigger fragments, the
    /// bytes that may or may not surround them, at every offset and length.
    @Test func everyScanAdmitsWhatTheTriggersSay() {
        let lists = RedactionRuleSet().triggers
        let prefilter = LiteralPrefilter(rules: lists)
        let fragments =
            lists.flatMap { $0.map(\.bytes) }
            + [
                "=", ":", "'", "\"", " ", "\t", "\u{0B}", "_", ".", "-", "k", "A", "t", "x", "0",
                "é", "m", "[", ";", "3", "b", "P", "T",
            ].map { Array($0.utf8) }
        var rng = SplitMix64(seed: 0x7EDD1)
        var admitting = 0
        for round in 0..<5000 {
            var line: [UInt8] = Array(repeating: 0x20, count: round % 19)
            for _ in 0..<Int.random(in: 0...5, using: &rng) {
                var piece = fragments.randomElement(using: &rng)!
                if Bool.random(using: &rng) {
                    piece = piece.map { (0x61...0x7A).contains($0 | 0x20) ? $0 ^ 0x20 : $0 }
                }
                line += piece
            }
            let expected = RedactionPrefilterTests.reference(line, lists)
            for scan in LiteralPrefilter.availableScans {
                let admitted = line.withUnsafeBytes { prefilter.admitted($0, scan: scan) }
                #expect(admitted == expected, "scan \(scan): \(line)")
            }
            if expected != 0 && expected != prefilter.allRules { admitting += 1 }
        }
        #expect(admitting > 1200)
    }

    /// Which of `lists`' rules a line admits, read straight off the triggers.
    static func reference(_ line: [UInt8], _ lists: [[RuleTrigger]]) -> UInt64 {
        let all = (0..<lists.count).reduce(UInt64(0)) { $0 | 1 << UInt64($1) }
        if line.contains(where: { $0 >= 0x80 }) { return all }
        func fold(_ b: UInt8) -> UInt8 { (0x41...0x5A).contains(b) ? b | 0x20 : b }
        func alnum(_ b: UInt8) -> Bool {
            (0x30...0x39).contains(b) || (0x61...0x7A).contains(b | 0x20)
        }
        // Nothing or no letter or digit before; a colour escape's `m`; a camel hump.
        func wordStart(_ p: Int) -> Bool {
            guard p > 0 else { return true }
            let b = line[p - 1]
            if !alnum(b) { return true }
            if b | 0x20 == UInt8(ascii: "m"), p >= 2,
                [UInt8(ascii: "["), UInt8(ascii: ";")].contains(line[p - 2])
                    || (0x30...0x39).contains(line[p - 2])
            {
                return true
            }
            return (0x61...0x7A).contains(b) && (0x41...0x5A).contains(line[p])
        }
        var found: UInt64 = 0
        for (rule, list) in lists.enumerated() {
            for t in list where line.count >= t.bytes.count {
                for p in 0...(line.count - t.bytes.count) {
                    let here = line[p..<(p + t.bytes.count)]
                    let same =
                        t.caseless ? here.map(fold) == t.bytes.map(fold) : Array(here) == t.bytes
                    guard same, !t.wordStart || wordStart(p) else { continue }
                    if let follow = t.follow {
                        let q = p + t.bytes.count
                        guard q < line.count, follow.contains(line[q]) else { continue }
                    }
                    found |= 1 << UInt64(rule)
                }
            }
        }
        return found
    }
}
