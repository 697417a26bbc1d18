import Glibc
import Testing

@testable import Runner

/// The `control_plane:` section, loaded from real files in a temp folder.
@MainActor @Suite struct ConfigControlPlaneTests {
    func load(_ body: String) -> Result<RunnerConfig, Diagnostics> {
        let dir = TempDir()
        let path = dir.write("config.yaml", body)
        return RunnerConfig.load(path: path, allowWritable: true)
    }

    @Test func readsEveryKeyAndResolvesPathsAgainstTheConfigFolder() throws {
        let config = try load(
            """
            control_plane:
              url: wss://cp.example.com/v1/runner
              ca_file: certs/ca.pem
              key_file: /etc/ward/runner.key
              proxy: http://proxy.example:3128
              heartbeat_ms: 50
              backoff_base_ms: 10
              backoff_cap_ms: 200
              backoff_reset_ms: 1000
              connect_timeout_ms: 500
              drain_grace_ms: 0
            """
        ).get()
        let cp = try #require(config.controlPlane)
        #expect(cp.url == "wss://cp.example.com/v1/runner")
        #expect(cp.caFile?.hasSuffix("/certs/ca.pem") == true)
        #expect(cp.caFile?.hasPrefix("/") == true)
        #expect(cp.keyFile == "/etc/ward/runner.key")
        #expect(cp.heartbeatMilliseconds == 50)
        #expect(cp.backoffCapMilliseconds == 200)
        #expect(cp.drainGraceMilliseconds == 0)
        #expect(!cp.allowPlaintextLoopback)
    }

    @Test func sectionIsOptional() throws {
        #expect(try load("runner: {id: a}\n").get().controlPlane == nil)
    }

    @Test(arguments: [
        ("control_plane: {url: https://x}\n", "must start with wss://"),
        ("control_plane: {ca_file: a.pem}\n", "url"),
        ("control_plane: {url: wss://x, ca_file: a, pinned_ca_file: b}\n", "not both"),
        ("control_plane: {url: wss://x, heartbeat_ms: 1}\n", "outside"),
        ("control_plane: {url: wss://x, backoff_base_ms: 500, backoff_cap_ms: 100}\n", "above"),
        ("control_plane: {url: wss://x, allow_plaintext_loopback: yes}\n", "true or false"),
        ("control_plane: {url: wss://x, retry: 3}\n", "retry"),
    ])
    func refusesBadSettingsNamingTheKey(_ body: String, _ fragment: String) {
        guard case .failure(let d) = load(body) else {
            Issue.record("loaded \(body)")
            return
        }
        let text = d.all.map(\.description).joined(separator: "\n")
        #expect(text.contains(fragment), "\(text)")
        #expect(text.contains("config.yaml:1:"), "\(text)")
    }
}
