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

    @Test(arguments: [
        ("wss://cp.example.com", true, "cp.example.com", 443, "/v1/runner"),
        ("wss://cp.example.com:8443/ward/v1?x=1", true, "cp.example.com", 8443, "/ward/v1?x=1"),
        ("wss://[2001:db8::1]:9443/r", true, "2001:db8::1", 9443, "/r"),
        ("ws://127.0.0.1:8080/v1/runner", false, "127.0.0.1", 8080, "/v1/runner"),
        ("ws://[::1]/x", false, "::1", 80, "/x"),
        ("ws://localhost:81", false, "localhost", 81, "/v1/runner"),
    ])
    func urlIsParsedIntoTheEndpoint(
        _ url: String, _ secure: Bool, _ host: String, _ port: Int, _ path: String
    ) throws {
        let endpoint = try ControlPlaneEndpoint.parse(url, allowPlaintextLoopback: true).get()
        #expect(endpoint.secure == secure)
        #expect(endpoint.host == host)
        #expect(Int(endpoint.port) == port)
        #expect(endpoint.path == path)
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
        ("control_plane: {url: ws://127.0.0.1:8080}\n", "allow_plaintext_loopback: true"),
        (
            "control_plane: {url: ws://cp.example.com, allow_plaintext_loopback: true}\n",
            "only to a loopback address"
        ),
        ("control_plane: {url: \"wss://user@cp.example.com\"}\n", "credentials"),
        ("control_plane: {url: \"wss://cp.example.com:99999/\"}\n", "invalid port"),
        ("control_plane: {url: \"wss://[::1/\"}\n", "unclosed ["),
        ("control_plane: {url: \"wss:///v1\"}\n", "names no host"),
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
