import Testing

@testable import Runner

@Suite struct RedactionRuleTests {
    nonisolated static let awsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    nonisolated static let githubToken = "ghp_0123456789abcdefghijABCDEFGHIJ012345"

    nonisolated static let positives: [(String, String)] = [
        ("key AKIAIOSFODNN7EXAMPLE end", "key \(marker("aws-access-key-id")) end"),
        ("ASIAABCDEFGHIJKLMNOP", marker("aws-access-key-id")),
        (
            "aws_secret_access_key = \(awsSecret)",
            "aws_secret_access_key = \(marker("aws-secret-key"))"
        ),
        ("AWS_SECRET_ACCESS_KEY=\(awsSecret)", "AWS_SECRET_ACCESS_KEY=\(marker("aws-secret-key"))"),
        (
            "curl -H 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123'",
            "curl -H 'Authorization: Bearer \(marker("bearer-token"))'"
        ),
        ("bearer ABCDEFGHIJKLMNOPQRSTUVWXYZ", "bearer \(marker("bearer-token"))"),
        (
            "Authorization: Basic dXNlcjpwYXNzd29yZA==",
            "Authorization: Basic \(marker("authorization-header"))"
        ),
        (
            "> authorization: token abc123",
            "> authorization: token \(marker("authorization-header"))"
        ),
        ("password=hunter22", "password=\(marker("password-assignment"))"),
        ("db_password: s3cr3t!", "db_password: \(marker("password-assignment"))"),
        (#"{"api_key": "k-123456"}"#, #"{"api_key": "\#(marker("password-assignment"))"}"#),
        ("passwd:'quoted value'", "passwd:'\(marker("password-assignment"))'"),
        ("GITHUB_TOKEN=abc&x=1", "GITHUB_TOKEN=\(marker("password-assignment"))&x=1"),
        (#"secret = "a b c""#, #"secret = "\#(marker("password-assignment"))""#),
        ("pwd=x1y2z3", "pwd=\(marker("password-assignment"))"),
        // `=>` (PHP, Ruby, print_r) and `:=` (Go) assign too: the value goes,
        // not the `>` or `=`.
        ("'password' => 'hunter2',", "'password' => '\(marker("password-assignment"))',"),
        (#":password => "hunter2""#, #":password => "\#(marker("password-assignment"))""#),
        (#"password := "hunter2""#, #"password := "\#(marker("password-assignment"))""#),
        ("[password] => hunter2", "[password] => \(marker("password-assignment"))"),
        // Forced colour output: an escape before the key, or around it (logrus).
        (
            "\u{1B}[31mpassword=hunter2\u{1B}[0m",
            "\u{1B}[31mpassword=\(marker("password-assignment"))"
        ),
        (
            "\u{1B}[36mpassword\u{1B}[0m=hunter2",
            "\u{1B}[36mpassword\u{1B}[0m=\(marker("password-assignment"))"
        ),
        ("\u{1B}[1mBearer ABCDEFGHIJKLMNOPQRSTUVWXYZ", "\u{1B}[1mBearer \(marker("bearer-token"))"),
        // camelCase keys.
        (
            #"{"dbPassword":"hunter2","accessToken":"8xLOxBtZp8q"}"#,
            #"{"dbPassword":"\#(marker("password-assignment"))","accessToken":"\#(marker("password-assignment"))"}"#
        ),
        ("clientSecret=cs123456", "clientSecret=\(marker("password-assignment"))"),
        ("secretKey=abc", "secretKey=\(marker("password-assignment"))"),
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcDEF_-123 ok",
            "jwt \(marker("jwt")) ok"
        ),
        ("token \(githubToken)", "token \(marker("github-token"))"),
        ("hook xoxb-1234567890-abcdef", "hook \(marker("slack-token"))"),
        // Client variables with a password under no keyword of their own.
        ("MYSQL_PWD=secretC1234", "MYSQL_PWD=\(marker("password-assignment"))"),
        ("export PGPASSWORD=secretN1234", "export PGPASSWORD=\(marker("password-assignment"))"),
        ("SSHPASS='s3cret pass'", "SSHPASS='\(marker("password-assignment"))'"),
        ("REDISCLI_AUTH=r3d1s", "REDISCLI_AUTH=\(marker("password-assignment"))"),
        // A URL's user info: only the password goes.
        (
            "DATABASE_URL=postgres://app:dbpass12345@db.internal:5432/app",
            "DATABASE_URL=postgres://app:\(marker("url-credentials"))@db.internal:5432/app"
        ),
        ("redis://:secretS1234@cache:6379", "redis://:\(marker("url-credentials"))@cache:6379"),
        // An unencoded e-mail user, `@` inside the password, a long password.
        (
            "smtp://alice@example.com:S3cretPass@smtp.gmail.com:587",
            "smtp://alice@example.com:\(marker("url-credentials"))@smtp.gmail.com:587"
        ),
        ("postgres://app:p@ss@word@db/app", "postgres://app:\(marker("url-credentials"))@db/app"),
        (
            "https://oauth2:\(String(repeating: "A", count: 300))@gitlab.com/x",
            "https://oauth2:\(marker("url-credentials"))@gitlab.com/x"
        ),
        ("postgres://app:S3cret#Pa?ss@db", "postgres://app:\(marker("url-credentials"))@db"),
        // Escaped quotes (JSON inside JSON, shell traces) end the value.
        (
            #"{"cmd":"PGPASSWORD=\"S3cretPass\" psql -h db"}"#,
            #"{"cmd":"PGPASSWORD=\"\#(marker("password-assignment"))\" psql -h db"}"#
        ),
        (#"password=\'S3cretPass\' x"#, #"password=\'\#(marker("password-assignment"))\' x"#),
        // Subscripts and lower-case client variables.
        (
            #"os.environ["PGPASSWORD"] = "S3cretPass""#,
            #"os.environ["PGPASSWORD"] = "\#(marker("password-assignment"))""#
        ),
        (
            "env['MYSQL_PWD']='S3cretPass'",
            "env['MYSQL_PWD']='\(marker("password-assignment"))'"
        ),
        ("sshpass=S3cretPass", "sshpass=\(marker("password-assignment"))"),
        (
            "GET https://deploy:t0k3n@git.example.com/repo.git",
            "GET https://deploy:\(marker("url-credentials"))@git.example.com/repo.git"
        ),
    ]

    @Test(arguments: positives)
    func builtInRuleRedactsOnlyTheSecret(_ input: String, _ expected: String) throws {
        let r = try makeRedactor()
        #expect(r.redact(input) == expected)
    }

    nonisolated static let negatives = [
        "pass_count=3", "tokenizer=x", "max_tokens=100", "token_count=5", "password_hash=abc",
        "maxTokens=100", "passwordHash=abc", "numTokens: 3", "TOKENIZER=x",
        "secretary=alice", "PWD=/home/user", "OLDPWD=/tmp", "the bearer of bad news",
        "Bearer short",
        "https://example.com:8443/path", "ssh://git@github.com/org/repo.git", "mailto:a@b.c",
        "ssh://git@github.com:22/org/repo.git", "http://[::1]:8080/",
        "skopeo copy docker://alpine:3.19@sha256:51b6a3b1 dir:/tmp/a",
        "uses: docker://node:20-alpine@sha256:0123456789abcdef", "ORIG_PWD=/home/user/src",
        "SAVED_PWD=/srv/app", "sshpass -p",
        "AKIAshort", "XAKIAIOSFODNN7EXAMPLE", "ghp_short", "eyJhbGciOiJIUzI1NiJ9",
        "sha 0123456789abcdef0123456789abcdef", "-----BEGIN CERTIFICATE-----",
    ]

    @Test(arguments: negatives)
    func lookAlikeStaysUnchanged(_ input: String) throws {
        let r = try makeRedactor()
        #expect(r.redact(input) == input)
    }

    @Test func privateKeyBlockIsRedactedLineByLine() throws {
        let text = """
            before
            -----BEGIN RSA PRIVATE KEY-----
            MIIEpAIBAAKCAQEA
            abc
            -----END RSA PRIVATE KEY-----
            after

            """
        let pk = marker("private-key")
        #expect(processText(text, with: try makeRedactor()) == ["before", pk, pk, pk, pk, "after"])
    }

    @Test func privateKeyWithoutEndRedactsToTheEnd() throws {
        let text = "x\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\nmore\nlast"
        let pk = marker("private-key")
        #expect(processText(text, with: try makeRedactor()) == ["x", pk, pk, pk, pk])
    }

    @Test func privateKeyBeginKeepsTheTextBeforeIt() throws {
        let r = try makeRedactor()
        let pk = marker("private-key")
        #expect(
            processText(
                "key: -----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n", with: r
            )
                == ["key: \(pk)", pk, pk])
    }

    @Test func stringWithPrivateKeyRedactsThroughEndOrToTheEnd() throws {
        let r = try makeRedactor()
        let pk = marker("private-key")
        let closed = "k: -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\ndone"
        #expect(r.redact(closed) == "k: \(pk)\ndone")
        #expect(r.redact("x -----BEGIN PRIVATE KEY----- MIIE rest") == "x \(pk)")
    }

    @Test func overlappingMatchesBecomeOneMarkerOfTheEarliestRule() throws {
        let r = try makeRedactor(
            secrets: [("s", "aaaabb")], builtIns: false, extra: [("r1", "bbbb")])
        var state = PrivateKeyState()
        let out = Array("xaaaabbbbx".utf8).withUnsafeBytes {
            r.redact(line: $0, privateKey: &state)
        }
        #expect(String(decoding: out.bytes, as: UTF8.self) == "x\(marker("arg.s"))x")
        #expect(out.redactions == 1)
        #expect(out.rules == ["arg.s", "r1"])
    }

    @Test func adjacentMatchesMerge() throws {
        let r = try makeRedactor(
            secrets: [("s", "aaaaaa")], builtIns: false, extra: [("r1", "bbbb")])
        #expect(r.redact("<aaaaaabbbb>") == "<\(marker("arg.s"))>")
        #expect(r.redact("<bbbbaaaaaa>") == "<\(marker("r1"))>")
    }

    @Test func countsEveryMarkerAndNamesTheRules() throws {
        let r = try makeRedactor()
        var state = PrivateKeyState()
        let line = Array("password=a1b2c3 and AKIAIOSFODNN7EXAMPLE".utf8)
        let out = line.withUnsafeBytes { r.redact(line: $0, privateKey: &state) }
        #expect(out.redactions == 2)
        #expect(out.rules == ["password-assignment", "aws-access-key-id"])
    }

    @Test func configRuleWithValueGroupReplacesTheValue() throws {
        let r = try makeRedactor(
            extra: [("corp-id", "CORP-[0-9]{6}"), ("session", "session=(?<value>[a-f0-9]{8})")])
        #expect(r.redact("id CORP-123456 x") == "id \(marker("corp-id")) x")
        #expect(r.redact("session=deadbeef;") == "session=\(marker("session"));")
    }

    @Test func catastrophicRuleFailsClosedOnTheWholeLine() throws {
        let r = try makeRedactor(builtIns: false, extra: [("bad", "(a+)+$")])
        let line = repeated("a", 50_000) + Array("!".utf8)
        let out = process([line + [0x0A], Array("next\n".utf8)], with: r)
        #expect(out.map(\.text) == ["[REDACTED:bad:match-limit]", "next"])
        #expect(out[0].rules == ["bad"])
        #expect(r.redact(String(decoding: line, as: UTF8.self)) == "[REDACTED:bad:match-limit]")
    }

    @Test func ruleSetListsBuiltInIds() {
        #expect(RedactionRuleSet().ids == RedactionRuleSet.builtInIDs)
        #expect(RedactionRuleSet(builtIns: false).ids.isEmpty)
    }
}
