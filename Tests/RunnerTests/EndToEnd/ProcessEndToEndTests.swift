import Glibc
import Testing

@testable import Runner

/// Timeouts, descendants and the child's inherited state, through the binary.
@Suite(.serialized) struct ProcessEndToEndTests {
    /// Pids printed by the sleeper script's first line: `started PID [child PID]`.
    func pids(_ doc: JSONValue) -> [Int32] {
        guard let first = doc.lineTexts.first else { return [] }
        return first.split(separator: " ").compactMap { Int32($0) }
    }

    @Test(arguments: ["plain", "grandchild", "setsid", "ignore-term"])
    func timeoutKillsTheWholeTree(_ mode: String) {
        let s = Scratch()
        let (status, doc, out) = s.runJSON("e2e.sleep", ["--arg", "mode=\(mode)"])
        #expect(status == 5, "\(out.stderr)")
        #expect(doc["outcome"] == "timed_out")
        let found = pids(doc)
        #expect(!found.isEmpty)
        for pid in found { #expect(!processExists(pid), "pid \(pid) survived (\(mode))") }
        if mode == "ignore-term" { #expect(doc["signal"] == "KILL") }
        #expect(s.events.last?["outcome"] == "timed_out")
    }

    @Test func grandchildHoldingThePipesDoesNotHangTheRun() {
        let s = Scratch()
        let (status, doc, _) = s.runJSON(
            "e2e.sleep", ["--arg", "mode=holder", "--opt", "timeout_s=3"])
        #expect(status == 0)
        #expect(doc["outcome"] == "exited")
        for pid in pids(doc) { #expect(!processExists(pid)) }
    }

    /// `detached`: `sleep 300` with its stdio on /dev/null, in the run's
    /// group; `jobgroup`: the same under `set -m`, in a group of its own but
    /// the run's session.
    @Test(arguments: ["detached", "jobgroup"])
    func backgroundJobThatClosedItsOutputDoesNotOutliveTheRun(_ mode: String) {
        // The script exits at once: the run ends as exited, and the sleep is
        // killed with it rather than left running on the host.
        let s = Scratch()
        let (status, doc, out) = s.runJSON("e2e.sleep", ["--arg", "mode=\(mode)"])
        #expect(status == 0, "\(out.stderr)")
        #expect(doc["outcome"] == "exited")
        let found = pids(doc)
        #expect(found.count == 2, "\(doc.lineTexts)")
        for pid in found {
            var polls = 0
            while processExists(pid) && polls < 200 {
                usleep(10_000)
                polls += 1
            }
            #expect(!processExists(pid), "pid \(pid) outlived its run")
        }
    }

    @Test func childSeesOnlyStdioDefaultSignalsNullStdinAndADeclaredEnvironment() {
        let s = Scratch()
        let (status, doc, _) = s.runJSON("e2e.fds")
        #expect(status == 0)
        let texts = doc.lineTexts
        // ls of /proc/self/fd: 0, 1, 2 and ls's own directory descriptor.
        let fds = texts.prefix { Int($0) != nil }
        #expect(fds.count == 4)
        #expect(texts.contains("SigIgn:\t0000000000000000"))
        #expect(texts.contains("SigBlk:\t0000000000000000"))
        #expect(!texts.contains { $0.hasPrefix("WARD_") })
        #expect(texts.contains { $0.hasPrefix("PATH=") })
    }

    @Test func wardVariablesAndTheAuthKeyNeverReachTheChild() {
        let s = Scratch()
        let key = "rt_PLACEHOLDER_0123456789abcdef"
        let out = s.ward(
            ["action", "run", "e2e.printf", "--arg", "what=env", "--reason", "t", "--json"],
            environment: [
                "PATH=/usr/bin:/bin", "WARD_AUTH_KEY=\(key)",
                "AWS_SECRET_ACCESS_KEY=PLACEHOLDERPLACEHOLDERPLACEHOLDER",
                "HTTPS_PROXY=http://proxy.example:3128",
            ])
        #expect(out.status == 0)
        #expect(!out.stdout.contains(key))
        #expect(!out.stdout.contains("AWS_SECRET"))
        #expect(!out.stdout.contains("HTTPS_PROXY"))
        #expect(out.stdout.contains("APP_MODE=env"))
    }

    @Test func childOfAKilledWardIsKilledByTheNextWard() throws {
        let s = Scratch()
        let out = s.dir.path + "/stream.txt"
        let w = "\(WardProcess.binary) --config \(s.config)"
        let script = """
            \(w) action run e2e.sleep --arg mode=grandchild --opt timeout_s=3 --stream \
              --reason t > \(out) 2>&1 &
            ward=$!
            for i in 1 2 3 4 5 6 7 8 9 10; do grep -q started \(out) && break; sleep 0.2; done
            kill -KILL $ward
            wait $ward
            """
        _ = WardProcess.exec(["/bin/sh", "-c", script])
        let line = s.dir.read("stream.txt")?.split(separator: "\n").first { $0.contains("started") }
        let pids = (line ?? "").split(separator: " ").compactMap { Int32($0) }
        #expect(pids.count == 2)
        #expect(pids.allSatisfy(processExists))
        // Any later ward start on the same journal stops what the dead one left.
        _ = s.ward(["action", "run", "e2e.echo", "--arg", "message=x", "--reason", "t"])
        var gone = false
        for _ in 0..<50 where !gone {
            gone = !pids.contains(where: processExists)
            if !gone { usleep(100_000) }
        }
        #expect(gone, "processes \(pids) survived their ward")
        #expect(s.events.contains { $0["event"] == "abandoned" })
    }
}
