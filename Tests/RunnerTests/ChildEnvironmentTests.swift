import Glibc
import Testing

@testable import Runner

/// Case 27: a child's environment is an allowlist, never ward's own.
@Suite struct ChildEnvironmentTests {
    /// ward's environment in case 27, plus one of ward's own settings.
    static let wardEnvironment = [
        "RUNNER_WS_TOKEN=rt_PLACEHOLDER_0123456789abcdef",
        "AWS_SECRET_ACCESS_KEY=PLACEHOLDERPLACEHOLDERPLACEHOLDER",
        "HTTPS_PROXY=http://proxy.example:3128",
        "LANG=C.UTF-8",
        "PATH=/usr/local/bin:/usr/bin:/bin",
        "WARD_TOKEN=wt_PLACEHOLDER",
    ]

    @Test(arguments: [
        // Nothing named: only the safe PATH.
        ([String](), [(String, String)](), ["PATH=\(ChildEnvironment.safePath)"]),
        // Named and set: copied; named but unset: absent; set pairs last.
        (
            ["LANG", "TZ"], [("APP_MODE", "maintenance")],
            ["PATH=\(ChildEnvironment.safePath)", "LANG=C.UTF-8", "APP_MODE=maintenance"]
        ),
        // PATH named: ward's replaces the safe one in place.
        (["PATH"], [], ["PATH=/usr/local/bin:/usr/bin:/bin"]),
        // A set pair overrides a passed-through value in place.
        (["LANG"], [("LANG", "C")], ["PATH=\(ChildEnvironment.safePath)", "LANG=C"]),
        // WARD_ names never pass, asked for or set.
        (["WARD_TOKEN"], [("WARD_MODE", "x")], ["PATH=\(ChildEnvironment.safePath)"]),
    ])
    func buildsFromTheAllowlistOnly(
        passthrough: [String], set: [(String, String)], expected: [String]
    ) {
        let env = ChildEnvironment.build(
            passthrough: passthrough, set: set, from: Self.wardEnvironment)
        #expect(env == expected)
    }

    @Test func currentReadsThisProcessEnvironment() {
        setenv("WARD_TEST_PROBE", "probe-value", 1)
        defer { unsetenv("WARD_TEST_PROBE") }
        #expect(ChildEnvironment.current().contains("WARD_TEST_PROBE=probe-value"))
        let env = ChildEnvironment.build(passthrough: ["WARD_TEST_PROBE"], set: [])
        #expect(!env.contains { $0.hasPrefix("WARD_") })
    }

    @Test func childSeesOnlyPathAndDeclaredVariables() throws {
        let env = ChildEnvironment.build(
            passthrough: ["LANG", "WARD_TOKEN"], set: [("APP_MODE", "maintenance")],
            from: Self.wardEnvironment)
        let run = try ChildRun(["/usr/bin/env"], environment: env)
        run.run()
        #expect(
            run.stdoutText.split(separator: "\n")
                == ["PATH=\(ChildEnvironment.safePath)", "LANG=C.UTF-8", "APP_MODE=maintenance"])
        #expect(!run.stdoutText.contains("PLACEHOLDER"))
        run.finish()
    }

    @Test func emptyEnvironmentIsPassedAsEmptyNotInherited() throws {
        setenv("WARD_TEST_PROBE", "must-not-leak", 1)
        defer { unsetenv("WARD_TEST_PROBE") }
        let run = try ChildRun(["/usr/bin/env"], environment: [])
        run.run()
        #expect(run.stdout.isEmpty)
        #expect(run.exit == .exited(0))
        run.finish()
    }
}
