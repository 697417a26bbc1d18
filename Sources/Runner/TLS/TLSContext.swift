import COpenSSL

/// Which certificate authorities a TLS client trusts.
nonisolated public enum TLSTrust: Equatable, Sendable {
    /// The operating system's store (OpenSSL's default paths).
    case systemStore
    /// Only the CAs in a PEM bundle file, instead of the system store.
    case caBundle(path: String)
    /// Exactly one CA certificate (a PEM file holding one certificate) as the
    /// only trust anchor. It may be an intermediate: a chain that reaches it
    /// is accepted without going on to a root.
    case pinnedCA(path: String)
}

/// The client-side TLS settings every connection shares: one `SSL_CTX` with
/// TLS 1.2 as the minimum, peer verification on, renegotiation refused, and
/// the trust chosen by `TLSTrust`. Sessions made from it keep it alive.
public final class TLSContext {
    /// The lowest protocol version offered or accepted. TLS 1.0 and 1.1 are
    /// deprecated (RFC 8996) and refused by every control plane ward talks to.
    public static let minimumVersion = TLS1_2_VERSION

    /// The C context; freed in deinit (OpenSSL counts the sessions' uses).
    nonisolated(unsafe) let raw: OpaquePointer
    /// Where trust comes from.
    public let trust: TLSTrust

    /// A context trusting `trust`. Throws when the trust file cannot be
    /// loaded; the error names the file and OpenSSL's reason.
    public convenience init(trust: TLSTrust = .systemStore) throws(TLSError) {
        try self.init(trust: trust, systemDirectory: SystemTrustDirectory.lazyLookup())
    }

    /// A context trusting `trust`, where `.systemStore` reads the hashed
    /// `systemDirectory` lazily when one is given (SystemTrustDirectory).
    init(trust: TLSTrust, systemDirectory: String?) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        guard let ctx = SSL_CTX_new(TLS_client_method()) else {
            throw TLSError.drained(.configuration, call: "SSL_CTX_new")
        }
        raw = ctx
        self.trust = trust

        if copenssl_ctx_set_min_proto_version(ctx, TLSContext.minimumVersion) != 1 {
            throw TLSError.drained(.configuration, call: "SSL_CTX_set_min_proto_version")
        }
        copenssl_ctx_refuse_renegotiation(ctx)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)

        switch trust {
        case .systemStore:
            try Self.trustSystemStore(ctx, directory: systemDirectory)
        case .caBundle(let path):
            if SSL_CTX_load_verify_locations(ctx, path, nil) != 1 {
                throw Self.fileError("cannot load CA bundle", path, "SSL_CTX_load_verify_locations")
            }
        case .pinnedCA(let path):
            try Self.pin(ctx, path: path)
        }
    }

    deinit {
        SSL_CTX_free(raw)
    }

    /// Trusts the system store: only the hashed `directory` when there is one,
    /// so OpenSSL reads the CA a chain needs when it needs it; else OpenSSL's
    /// default paths, which parse the whole bundle file into the store up front
    /// (about 140 certificates on Debian, 0.8 MiB held for the process's life).
    static func trustSystemStore(_ ctx: OpaquePointer, directory: String?) throws(TLSError) {
        if let directory {
            if SSL_CTX_load_verify_dir(ctx, directory) == 1 { return }
            // Not fatal: the default paths below are what trust was before.
            OpenSSLErrorQueue.clear()
        }
        if SSL_CTX_set_default_verify_paths(ctx) != 1 {
            throw TLSError.drained(
                .configuration, call: "SSL_CTX_set_default_verify_paths",
                summary: "cannot load the system CA store")
        }
    }

    /// Makes the one certificate in `path` the context's only trust anchor.
    private static func pin(_ ctx: OpaquePointer, path: String) throws(TLSError) {
        let what = "cannot load pinned CA certificate"
        guard let file = BIO_new_file(path, "r") else {
            throw fileError(what, path, "BIO_new_file")
        }
        defer { BIO_free(file) }
        var certificates: [OpaquePointer] = []
        defer { certificates.forEach { X509_free($0) } }
        while let certificate = PEM_read_bio_X509(file, nil, nil, nil) {
            certificates.append(certificate)
        }
        // The loop ends on "no start line" at the end of the file; anything
        // else left in the queue means a damaged certificate.
        let lastError = ERR_peek_last_error()
        let cleanEnd =
            ERR_GET_LIB(lastError) == ERR_LIB_PEM
            && ERR_GET_REASON(lastError) == PEM_R_NO_START_LINE
        if !certificates.isEmpty && !cleanEnd {
            throw fileError(what, path, "PEM_read_bio_X509")
        }
        OpenSSLErrorQueue.clear()
        guard certificates.count == 1 else {
            let count =
                certificates.isEmpty ? "no certificate" : "\(certificates.count) certificates"
            throw TLSError(
                stage: .configuration, call: "PEM_read_bio_X509",
                summary: "\(what) \"\(path)\": the file holds \(count), "
                    + "and a pinned CA file must hold exactly one",
                reasons: [], verifyResult: nil)
        }

        guard let store = X509_STORE_new() else {
            throw TLSError.drained(.configuration, call: "X509_STORE_new")
        }
        if X509_STORE_add_cert(store, certificates[0]) != 1 {
            X509_STORE_free(store)
            throw fileError(what, path, "X509_STORE_add_cert")
        }
        // The context takes the store; the system store is never loaded.
        SSL_CTX_set_cert_store(ctx, store)
        let flags = UInt(X509_V_FLAG_PARTIAL_CHAIN)
        if X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), flags) != 1 {
            throw TLSError.drained(.configuration, call: "X509_VERIFY_PARAM_set_flags")
        }
    }

    /// An error for a trust file that could not be used, naming the file.
    private static func fileError(_ what: String, _ path: String, _ call: String) -> TLSError {
        let reasons = OpenSSLErrorQueue.drain()
        let reason = reasons.first ?? "\(call) failed"
        return TLSError(
            stage: .configuration, call: call, summary: "\(what) \"\(path)\": \(reason)",
            reasons: reasons, verifyResult: nil)
    }
}
