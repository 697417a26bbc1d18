import Testing

@testable import Runner

/// Resolver through uv_getaddrinfo, and the address type it returns.
@Suite struct TCPResolverTests {
    /// Resolves `host` on a fresh loop and returns the result.
    static func resolve(_ host: String) throws -> Result<[NetworkAddress], ResolveError>? {
        let loop = try EventLoop()
        var outcome: Result<[NetworkAddress], ResolveError>?
        Resolver.resolve(loop: loop, host: host) { outcome = $0 }
        NetTest.run(loop)
        LoopTests.closeClean(loop)
        return outcome
    }

    @Test func resolvesLocalhostToLoopback() throws {
        let addresses = try Self.resolve("localhost")?.get() ?? []
        #expect(!addresses.isEmpty)
        #expect(addresses.allSatisfy { $0.isLoopback })
        #expect(addresses.contains(NetworkAddress(literal: "127.0.0.1")!))
    }

    @Test(arguments: [("::1", "::1"), ("127.0.0.1", "127.0.0.1"), ("0:0::1", "::1")])
    func resolvesIPLiterals(host: String, expected: String) throws {
        let addresses = try Self.resolve(host)?.get() ?? []
        #expect(addresses.map(\.description) == [expected])
    }

    @Test func unknownHostNamesTheHostAndTheReason() throws {
        let outcome = try Self.resolve("no-such-host.invalid")
        guard case .failure(let error) = outcome else {
            Issue.record("no-such-host.invalid resolved")
            return
        }
        #expect(error.code < 0)
        #expect(error.description.hasPrefix("cannot resolve \"no-such-host.invalid\": "))
        #expect(error.description.contains("(EAI_"))
    }

    @Test func cancelledLookupNeverCompletes() throws {
        let loop = try EventLoop()
        var called = false
        let lookup = Resolver.resolve(loop: loop, host: "localhost") { _ in called = true }
        lookup.cancel()
        NetTest.run(loop)
        #expect(!called)
        LoopTests.closeClean(loop)
    }

    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1:443"), ("[::1]", "[::1]:443"), ("fe80::1", "[fe80::1]:443"),
    ])
    func formatsEndpoints(literal: String, endpoint: String) {
        #expect(NetworkAddress(literal: literal)?.endpoint(port: 443) == endpoint)
    }

    @Test(arguments: ["localhost", "1.2.3", "::g", "[::1", "", "1.2.3.4:80"])
    func refusesNonLiterals(text: String) {
        #expect(NetworkAddress(literal: text) == nil)
    }
}
