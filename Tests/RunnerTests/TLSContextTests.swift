import Testing

@testable import Runner

/// Loading trust into a TLSContext, and the errors that name the file.
@Suite struct TLSContextTests {
    /// The error `trust` fails with, or nil when it loads.
    static func loadError(_ trust: TLSTrust) -> TLSError? {
        do {
            _ = try TLSContext(trust: trust)
            return nil
        } catch {
            return error
        }
    }

    @Test func loadsTheSystemStore() {
        #expect(Self.loadError(.systemStore) == nil)
    }

    @Test func loadsACABundle() {
        #expect(Self.loadError(.caBundle(path: TestCerts.path("two-certs.pem"))) == nil)
    }

    @Test func loadsAPinnedCA() {
        #expect(Self.loadError(.pinnedCA(path: TestCerts.path("ca.pem"))) == nil)
    }

    /// A trust file that cannot be used, and what the error must say.
    struct Case: Sendable, CustomStringConvertible {
        let trust: TLSTrust
        let file: String
        let reason: String
        var description: String { "\(trust)" }
    }

    nonisolated static let missing = "/nonexistent/ward-ca.pem"
    nonisolated static let cases: [Case] = [
        Case(
            trust: .caBundle(path: missing), file: missing,
            reason: "cannot load CA bundle \"\(missing)\": No such file or directory"),
        Case(
            trust: .caBundle(path: TestCerts.path("server.key")),
            file: TestCerts.path("server.key"),
            reason: "no certificate or crl found"),
        Case(
            trust: .pinnedCA(path: missing), file: missing,
            reason: "cannot load pinned CA certificate \"\(missing)\": No such file or directory"),
        Case(
            trust: .pinnedCA(path: TestCerts.path("two-certs.pem")),
            file: TestCerts.path("two-certs.pem"),
            reason: "holds 2 certificates, and a pinned CA file must hold exactly one"),
        Case(
            trust: .pinnedCA(path: TestCerts.path("server.key")),
            file: TestCerts.path("server.key"),
            reason: "holds no certificate"),
    ]

    @Test(arguments: cases)
    func unusableTrustFileIsNamedWithTheReason(_ check: Case) {
        guard let error = Self.loadError(check.trust) else {
            Issue.record("\(check.file) loaded")
            return
        }
        #expect(error.stage == .configuration)
        #expect(error.description.contains("\"\(check.file)\""))
        #expect(error.description.contains(check.reason))
    }

    @Test func loadErrorLeavesNothingInOpenSSLsQueue() {
        _ = Self.loadError(.caBundle(path: Self.missing))
        #expect(OpenSSLErrorQueue.drain().isEmpty)
    }
}
