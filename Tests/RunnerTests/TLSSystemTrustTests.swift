import COpenSSL
import Glibc
import Testing

@testable import Runner

/// The system store read lazily through a hashed certificate directory: which
/// directories qualify, that nothing is parsed up front, and that a chain
/// still verifies through the directory in a real handshake.
@Suite struct TLSSystemTrustTests {
    nonisolated static let names: [(String, Bool)] = [
        ("5ad8a5d6.0", true),
        ("002c0b4f.12", true),
        ("5ad8a5d6.r0", false),
        ("5AD8A5D6.0", false),
        ("5ad8a5d6", false),
        ("5ad8a5d6.", false),
        ("ca-certificates.crt", false),
        ("5ad8a5d.0", false),
    ]

    @Test(arguments: names)
    func recognisesOpenSSLsHashedNames(_ name: String, _ hashed: Bool) {
        #expect(SystemTrustDirectory.isHashedName(Array(name.utf8)) == hashed)
    }

    /// A fresh directory holding `files` (name, PEM contents).
    static func directory(_ files: [(String, String)]) -> String {
        let dir = JournalTestSupport.makeTempDirectory()
        for (name, text) in files { JournalTestSupport.write(dir + "/" + name, Array(text.utf8)) }
        return dir
    }

    /// The test CA's PEM text.
    static var caText: String {
        String(decoding: JournalTestSupport.read(TestCerts.path("ca.pem")) ?? [], as: UTF8.self)
    }

    /// The test CA under its OpenSSL subject-hash name.
    static var hashedCAName: String {
        let file = BIO_new_file(TestCerts.path("ca.pem"), "r")
        defer { BIO_free(file) }
        let cert = PEM_read_bio_X509(file, nil, nil, nil)
        defer { X509_free(cert) }
        let hex = String(X509_subject_name_hash(cert), radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex + ".0"
    }

    @Test func directoryWithOnlyABundleIsNotHashed() {
        let dir = Self.directory([("ca-bundle.crt", Self.caText)])
        defer { JournalTestSupport.remove(dir) }
        #expect(!SystemTrustDirectory.holdsHashedNames(dir))
        #expect(!SystemTrustDirectory.holdsHashedNames(dir + "/missing"))
    }

    @Test func hashedDirectoryIsReadLazily() throws {
        let dir = Self.directory([(Self.hashedCAName, Self.caText)])
        defer { JournalTestSupport.remove(dir) }
        #expect(SystemTrustDirectory.holdsHashedNames(dir))
        let context = try TLSContext(trust: .systemStore, systemDirectory: dir)
        let objects = X509_STORE_get0_objects(SSL_CTX_get_cert_store(context.raw))
        #expect(OPENSSL_sk_num(objects) == 0)
    }

    @Test func handshakeVerifiesThroughTheHashedDirectory() throws {
        let dir = Self.directory([(Self.hashedCAName, Self.caText)])
        defer { JournalTestSupport.remove(dir) }
        let peer = TLSStreamTests.tlsPeer("tls-echo", cert: "server")
        let context = try TLSContext(trust: .systemStore, systemDirectory: dir)
        let seen = try TLSStreamTests.run(host: "localhost", port: peer.port, tls: context)
        #expect(throws: Never.self) { try seen.opened?.get() }
        #expect(peer.finish().contains("unwrap ok"))
    }

    @Test func hashedDirectoryWithoutTheIssuerRefuses() throws {
        let other = JournalTestSupport.read(TestCerts.path("selfsigned.pem")) ?? []
        let dir = Self.directory([("00000000.0", String(decoding: other, as: UTF8.self))])
        defer { JournalTestSupport.remove(dir) }
        let peer = TLSStreamTests.tlsPeer("tls-echo", cert: "server")
        let context = try TLSContext(trust: .systemStore, systemDirectory: dir)
        let seen = try TLSStreamTests.run(host: "localhost", port: peer.port, tls: context)
        guard case .tls(_, _, let error) = TLSStreamTests.openError(seen) else {
            Issue.record("accepted without its CA: \(String(describing: seen.opened))")
            return
        }
        #expect(error.verifyResult == Int(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY))
        _ = peer.finish()
    }
}
