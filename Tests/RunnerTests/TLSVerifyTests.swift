import COpenSSL
import Testing

@testable import Runner

/// Certificate and protocol checks against real TLS servers: what is
/// trusted, what is refused, and how the refusal reads.
@Suite struct TLSVerifyTests {
    /// One server/trust/host combination and what the client must say.
    struct Case: Sendable, CustomStringConvertible {
        /// The certificate the server presents (`server`, `other`, `selfsigned`).
        let cert: String
        /// What the client trusts.
        let trust: TLSTrust
        /// The host the client asks for (and verifies).
        let host: String
        /// Text the error must contain, or nil when the handshake must succeed.
        let refusal: String?
        /// The X509_V_ERR_* code expected with the refusal.
        let verifyResult: Int32?
        var description: String { "\(cert) as \(host) -> \(refusal ?? "ok")" }
    }

    nonisolated static let ca = TLSTrust.caBundle(path: TestCerts.path("ca.pem"))

    nonisolated static let cases: [Case] = [
        Case(cert: "server", trust: ca, host: "localhost", refusal: nil, verifyResult: nil),
        Case(cert: "server", trust: ca, host: "127.0.0.1", refusal: nil, verifyResult: nil),
        Case(
            cert: "server", trust: .pinnedCA(path: TestCerts.path("ca.pem")), host: "localhost",
            refusal: nil, verifyResult: nil),
        Case(
            cert: "server", trust: .systemStore, host: "localhost",
            refusal: "certificate verify failed: unable to get local issuer certificate",
            verifyResult: X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY),
        Case(
            cert: "other", trust: ca, host: "localhost",
            refusal: "hostname mismatch: expected \"localhost\"",
            verifyResult: X509_V_ERR_HOSTNAME_MISMATCH),
        Case(
            cert: "other", trust: ca, host: "127.0.0.1",
            refusal: "IP address mismatch: expected 127.0.0.1",
            verifyResult: X509_V_ERR_IP_ADDRESS_MISMATCH),
        Case(
            cert: "selfsigned", trust: ca, host: "localhost",
            refusal: "certificate verify failed: self-signed certificate",
            verifyResult: X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT),
        // Pinning a certificate that is not in the server's chain refuses
        // it, although the server's own CA would have vouched for it.
        Case(
            cert: "server", trust: .pinnedCA(path: TestCerts.path("selfsigned.pem")),
            host: "localhost",
            refusal: "certificate verify failed: unable to get local issuer certificate",
            verifyResult: X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY),
    ]

    @Test(arguments: cases)
    func handshakeTrustsOrRefuses(_ check: Case) throws {
        let peer = TLSStreamTests.tlsPeer("tls-echo", cert: check.cert)
        let context = try TLSContext(trust: check.trust)
        let seen = try TLSStreamTests.run(host: check.host, port: peer.port, tls: context)
        let events = peer.finish()
        guard let refusal = check.refusal else {
            #expect(throws: Never.self) { try seen.opened?.get() }
            #expect(events.contains("unwrap ok"))
            return
        }
        guard case .tls(let host, let port, let error) = TLSStreamTests.openError(seen) else {
            Issue.record("expected a TLS refusal, got \(String(describing: seen.opened))")
            return
        }
        #expect(host == check.host && port == peer.port)
        #expect(error.stage == .handshake)
        #expect(error.verifyResult == check.verifyResult.map(Int.init))
        #expect(error.description.contains(refusal))
        #expect(events.contains { $0.hasPrefix("handshake failed") })
    }

    @Test func refusesAServerThatOffersOnlyTLS11() throws {
        let peer = TLSStreamTests.tlsPeer("tls-echo", ["--tls11"])
        let seen = try TLSStreamTests.run(
            host: "localhost", port: peer.port, tls: TLSStreamTests.testCA())
        guard case .tls(_, _, let error) = TLSStreamTests.openError(seen) else {
            Issue.record("a TLS 1.1 server was accepted: \(String(describing: seen.opened))")
            return
        }
        #expect(error.verifyResult == nil)
        #expect(error.description.hasPrefix("TLS handshake failed: "))
        #expect(error.description.contains("protocol"))
        #expect(peer.finish().contains { $0.hasPrefix("handshake failed") })
    }

    @Test func errorMessageNamesHostAndPort() throws {
        let peer = TLSStreamTests.tlsPeer("tls-echo", cert: "selfsigned")
        let seen = try TLSStreamTests.run(
            host: "localhost", port: peer.port, tls: TLSStreamTests.testCA())
        let message = TLSStreamTests.openError(seen).map { "\($0)" } ?? ""
        #expect(
            message.hasPrefix(
                "TLS with localhost:\(peer.port) failed: certificate verify failed: "
                    + "self-signed certificate"))
        _ = peer.finish()
    }
}
