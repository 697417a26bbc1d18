import COpenSSL
import Glibc

/// Where the system store can be read lazily: OpenSSL's default certificate
/// directory, when it holds the hashed names (`5ad8a5d6.0`) that
/// `update-ca-certificates` (or `c_rehash`) writes beside the bundle file.
///
/// Through such a directory OpenSSL loads an issuer by its subject hash during
/// verification, so a runner that talks to one control plane holds the one or
/// two CAs its chain needs instead of every CA of the bundle. Debian, Ubuntu
/// and Alpine keep the directory and the bundle in step from the same source.
nonisolated enum SystemTrustDirectory {
    /// The directory to trust instead of OpenSSL's default paths, or nil to keep
    /// the defaults: when `SSL_CERT_FILE` or `SSL_CERT_DIR` is set (the operator
    /// chose the store, and OpenSSL's defaults honour both), or when the default
    /// directory holds no hashed name (Fedora and RHEL ship only the bundle).
    static func lazyLookup() -> String? {
        if getenv(X509_get_default_cert_file_env()) != nil
            || getenv(X509_get_default_cert_dir_env()) != nil
        {
            return nil
        }
        let directory = String(cString: X509_get_default_cert_dir())
        return holdsHashedNames(directory) ? directory : nil
    }

    /// Whether `directory` holds at least one certificate under OpenSSL's
    /// hashed name: eight lowercase hex digits, a dot, a decimal counter.
    static func holdsHashedNames(_ directory: String) -> Bool {
        guard let dir = opendir(directory) else { return false }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            if isHashedName(name) { return true }
        }
        return false
    }

    /// `XXXXXXXX.N` with lowercase hex X and decimal N (CRLs, `.rN`, do not count).
    static func isHashedName(_ name: [UInt8]) -> Bool {
        guard name.count >= 10, name[8] == UInt8(ascii: ".") else { return false }
        let hex = name[0..<8].allSatisfy {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
        }
        let counter = name[9...].allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        return hex && counter
    }
}
