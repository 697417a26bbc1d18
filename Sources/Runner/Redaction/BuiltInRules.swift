/// The redaction rules ward applies to every run unless the config turns them
/// off. Each pattern is written for low false positives: a keyword rule needs
/// the keyword to stand alone (`pass_count=3`, `tokenizer=x`, `max_tokens=9`
/// stay), and token rules need the vendor's exact prefix and length. Rules that
/// name a `value` group replace only that group, so the key stays readable.
nonisolated enum BuiltInRules {
    /// Id of the stateful PEM private-key rule.
    static let privateKeyID = "private-key"

    /// Start of a PEM private key block (RSA, EC, OPENSSH, ENCRYPTED, PGP ...).
    static let privateKeyBegin = #"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"#
    /// End of a PEM private key block.
    static let privateKeyEnd = #"-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"#

    /// Literals every match of the BEGIN marker contains (see `regexRules`).
    static let privateKeyTriggers: [RuleTrigger] = [.exact("-----BEGIN ")]

    /// The regex rules in priority order: where two rules match the same span,
    /// the earlier one names the marker, so vendor rules come before the
    /// generic key=value rule. Each rule's triggers are literals that every one
    /// of its matches contains (`caseless` where the rule is `(?i)`): a line
    /// without any of them skips the rule's regex (`LiteralPrefilter`). Whoever
    /// edits a pattern edits its triggers; `RedactionPrefilterTests` checks them.
    /// Where a caseless keyword may start: after no ASCII letter or digit, or
    /// right after a colour escape (`ESC[m`, `ESC[1m`, `ESC[0;36m`: forced
    /// colour output puts one before keys and tokens).
    static let wordStart = "(?:" + wordStartAlternatives.joined(separator: "|") + ")"
    /// The same, or at a camelCase hump (`dbPassword`, `accessToken`).
    static let keyStart =
        "(?:" + (wordStartAlternatives + [#"(?-i:(?<=[a-z])(?=[A-Z]))"#]).joined(separator: "|")
        + ")"
    /// The lookbehinds `wordStart` is any one of.
    private static let wordStartAlternatives = [
        #"(?<![a-z0-9])"#, #"(?<=\[m)"#, #"(?<=[\[;]\dm)"#, #"(?<=[\[;]\d\dm)"#,
    ]

    /// What PCRE2's `\s` matches without PCRE2_UCP.
    static let whitespace = " \t\n\u{0B}\u{0C}\r"

    /// The `password-assignment` keywords, each counted only where the rule can
    /// match it: at the start of a word (`cpcre2_word_start`), and followed by
    /// what may follow the keyword (a quote, `]`, a space, `:`, `=` or a colour
    /// escape's ESC), or by the
    /// first letter of a suffix, with or without a separator before it (`_key`,
    /// `.access_key`, `-token`, `Key`). So `max_tokens=9`, `tokenizer=x` and
    /// `token_count=3` do not run the regex.
    static let keywordTriggers: [RuleTrigger] = {
        let keywords =
            ["password", "passwd", "passphrase", "secret", "apikey", "api_key", "api-key"]
            + ["privatekey", "private_key", "private-key", "token"]
        let literals = keywords.map(RuleTrigger.caseless) + [.exact("pwd")]
        // Client variables that hold a password under no keyword of their own
        // (`MYSQL_PWD`, `DB_PWD`: `PWD` after `_`; PostgreSQL, sshpass, redis-cli).
        let follow = "\"']\u{1B}" + BuiltInRules.whitespace + ":=_.-kat"
        let variables: [RuleTrigger] =
            [RuleTrigger.exact("_PWD").bounded(wordStart: false, follow: follow)]
            + ["pgpassword", "sshpass", "rediscli_auth"].map {
                RuleTrigger.caseless($0).bounded(follow: follow)
            }
        return variables
            + literals.flatMap { literal in
                [literal.bounded(follow: "\"']\u{1B}" + BuiltInRules.whitespace + ":=kat")]
                    + ["_", ".", "-"].map { separator in
                        var joined = literal
                        joined.bytes += Array(separator.utf8)
                        return joined.bounded(follow: "kat")
                    }
            }
    }()

    static let regexRules: [(id: String, source: String, triggers: [RuleTrigger])] = [
        (
            "aws-access-key-id",
            #"(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Z0-9])"#,
            ["AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA"].map(RuleTrigger.exact)
        ),
        (
            "aws-secret-key",
            #"(?i)(?<![a-z0-9])aws_?secret_?access_?key["']?\s*[:=]\s*["']?"#
                + #"(?<value>[a-z0-9/+=]{40})(?![a-z0-9/+=])"#,
            [RuleTrigger.caseless("secret").bounded(wordStart: false, follow: "_a")]
        ),
        (
            "github-token",
            #"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})"#
                + #"(?![A-Za-z0-9_])"#,
            ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"].map(RuleTrigger.exact)
        ),
        ("slack-token", #"(?<![A-Za-z0-9])xox[baprs]-[A-Za-z0-9-]{10,250}"#, [.exact("xox")]),
        (
            "jwt", #"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]++\.[A-Za-z0-9_-]++\.[A-Za-z0-9_-]*+"#,
            [.exact("eyJ")]
        ),
        // Twenty characters at least: prose says "bearer of the key", tokens are long.
        (
            "bearer-token", #"(?i)"# + wordStart + #"bearer\s++(?<value>[a-z0-9._~+/=-]{20,})"#,
            [RuleTrigger.caseless("bearer").bounded(follow: BuiltInRules.whitespace)]
        ),
        (
            "authorization-header",
            #"(?i)(?<![a-z0-9-])(?:proxy-)?authorization["']?\s*[:=]\s*["']?"#
                + #"(?:[a-z][a-z0-9._-]*+\s++)?(?<value>[^\s"']++)"#,
            [.caseless("authorization")]
        ),
        // The password in a URL's user info (`postgres://app:pw@db`,
        // `redis://:pw@cache`): only the password is replaced. The user may be
        // an unencoded e-mail address, and either may hold `?` or `#` (the
        // second pass reads an invalid byte as `?`); the password may hold `@`
        // or `:` (it runs to the last `@` before the host). A `/`, a space or
        // a quote ends it, as they end the authority. `name:tag@sha256:…`
        // image references are not credentials.
        (
            "url-credentials",
            #"(?i)(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,30}://[^\s/:"'<>]{0,256}:"#
                + #"(?<value>[^\s/"'<>]{1,1024})@(?!sha(?:256|384|512):)"#,
            [.exact("://")]
        ),
        (
            "password-assignment",
            // `pwd` only in lower case: `PWD=/home/x` is the shell's directory;
            // upper case after `_` (`MYSQL_PWD`), never as `OLDPWD` nor with a
            // path for value (`ORIG_PWD=/src`). A key may sit in a subscript
            // (`environ["PGPASSWORD"] =`), a value in escaped quotes (`\"…\"`,
            // JSON inside JSON), which then end it.
            #"(?i)"# + keyStart + #"(?:password|passwd|passphrase|secret|api[_-]?key"#
                + #"|pgpassword|sshpass|rediscli_auth"#
                + #"|(?-i:pwd|(?<=_)PWD(?![=:]\s*["']?[/~]))"#
                + #"|private[_-]?key|token)(?:[_.-]?(?:key|access[_-]?key|token))?"#
                + #"(?![a-z0-9_.-])(?:\x1b\[[0-9;]*m)?["']?\]?\s*[:=][=>]?\s*(?:\\?["'])?"#
                + #"(?<value>(?<=\\")(?:[^"\\\r\n]++|\\[^"\r\n])+"#
                + #"|(?<=\\')(?:[^'\\\r\n]++|\\[^'\r\n])+"#
                + #"|(?<=")(?:[^"\\\r\n]++|\\.)+|(?<=')[^'\r\n]++|(?<!["'])[^\s"'&;]++)"#,
            BuiltInRules.keywordTriggers
        ),
    ]
}
