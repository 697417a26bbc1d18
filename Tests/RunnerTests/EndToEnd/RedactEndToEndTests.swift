import Glibc
import Testing

@testable import Runner

/// `ward redact`: standard input through the configured rules, byte for byte
/// except the redacted stretches.
@Suite struct RedactEndToEndTests {
    @Test func keepsEveryByteButTheSecrets() {
        let s = Scratch()
        let input = s.dir.write(
            "in.log",
            "plain line\r\npassword=hunter22 and more\nkey AKIAIOSFODNN7EXAMPLE\nno newline")
        let out = WardProcess.run(["redact", "--no-config"], input: input)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(
            out.stdout
                == "plain line\r\npassword=[REDACTED:password-assignment] and more\n"
                + "key [REDACTED:aws-access-key-id]\nno newline")
        #expect(out.stderr.contains("4 line(s), 2 redaction(s)"))
    }

    @Test func appliesTheConfigsAndTheActionsRules() {
        let s = Scratch(
            extraConfig: """
                redaction:
                  rules:
                    - id: order-id
                      pattern: 'ORD-[0-9]{6}'
                """)
        let input = s.dir.write("in.log", "ORD-123456 TKT-12345678\n")
        let config = s.ward(["redact"], input: input)
        #expect(config.status == 0, "\(config.stderr)")
        #expect(config.stdout == "[REDACTED:order-id] TKT-12345678\n")
        let action = s.ward(["redact", "--action", "e2e.echo"], input: input)
        #expect(action.status == 0, "\(action.stderr)")
        #expect(action.stdout == "[REDACTED:order-id] [REDACTED:e2e-ticket]\n")
    }

    @Test func unknownActionIsAUsageError() {
        let s = Scratch()
        let input = s.dir.write("in.log", "x\n")
        let out = s.ward(["redact", "--action", "e2e.nope"], input: input)
        #expect(out.status == 2)
        #expect(out.stderr.contains("no action \"e2e.nope\""))
        #expect(out.stdout.isEmpty)
    }

    @Test func helpNamesTheCommand() {
        let out = WardProcess.run(["redact", "--help"])
        #expect(out.status == 0)
        #expect(out.stdout.contains("Usage: ward redact"))
    }

    /// `ward redact < big | head -1`: the reader leaves; ward stops quietly
    /// with status 1 instead of printing a write error.
    @Test func closedOutputPipeEndsQuietly() throws {
        let s = Scratch()
        let input = s.dir.write(
            "in.log", String(repeating: "line password=hunter22\n", count: 50_000))
        let out = TestSpawn.pipePair()
        let err = TestSpawn.pipePair()
        close(out.read)
        let file = open(input, O_RDONLY | O_CLOEXEC)
        defer { close(file) }
        let pid = try #require(
            TestSpawn.spawn(
                [WardProcess.binary, "redact", "--no-config"],
                environment: ["PATH=/usr/bin:/bin"], stdin: .fd(file), stdout: .fd(out.write),
                stderr: .fd(err.write)))
        close(out.write)
        close(err.write)
        var stderr: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(err.read, &chunk, chunk.count)
            if n > 0 {
                stderr += chunk[0..<n]
            } else if n == 0 || errno != EINTR {
                break
            }
        }
        close(err.read)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        #expect((status & 0x7F) == 0, "ward died of signal \(status & 0x7F)")
        #expect((status >> 8) & 0xFF == 1)
        #expect(stderr.isEmpty, "\(String(decoding: stderr, as: UTF8.self))")
    }
}
