import CUV
import Glibc

/// Why the runner key could not be read. Messages name the place, never the key.
nonisolated public struct AuthKeyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// One sentence naming the file or variable and what was wrong with it.
    public var description: String
}

/// The runner's key for the control plane, and where it came from. The value is
/// never printed: `description` shows only the source.
public struct AuthKey: CustomStringConvertible {
    /// Where a key can come from, in the order they are tried.
    public enum Source: Equatable, Sendable {
        /// The file named by `control_plane.key_file`.
        case file(String)
        /// A systemd credential (`LoadCredential=ward-key:…` in the unit).
        case credential(String)
        /// `WARD_AUTH_KEY` in the environment, for development.
        case environment
    }

    /// The key's bytes as text, without surrounding whitespace.
    public let value: String
    /// Where it was read from.
    public let source: Source

    /// Name of the systemd credential ward reads.
    public static let credentialName = "ward-key"
    /// Longest key accepted, in bytes: room for any token format, small enough
    /// to keep the upgrade request's header bounded.
    public static let maxBytes = 4096
    /// Shortest key accepted: anything shorter could not be redacted safely.
    public static let minBytes = 16

    public var description: String {
        switch source {
        case .file(let path): "key from \(path)"
        case .credential(let path): "key from systemd credential \(path)"
        case .environment: "key from WARD_AUTH_KEY"
        }
    }

    /// Reads the key: the config's file when named, else the systemd credential
    /// when `$CREDENTIALS_DIRECTORY` has one, else `WARD_AUTH_KEY`.
    public static func load(keyFile: String?, environment: [String: String]) throws(AuthKeyError)
        -> AuthKey
    {
        if let keyFile {
            return AuthKey(value: try read(keyFile, checkMode: true), source: .file(keyFile))
        }
        if let dir = environment["CREDENTIALS_DIRECTORY"], !dir.isEmpty {
            let path = dir + "/" + credentialName
            if access(path, F_OK) == 0 {
                // systemd makes credentials readable by the service only; their
                // mode is its business, so it is not checked here.
                return AuthKey(value: try read(path, checkMode: false), source: .credential(path))
            }
        }
        if let value = environment["WARD_AUTH_KEY"] {
            return AuthKey(value: try validated(value, from: "WARD_AUTH_KEY"), source: .environment)
        }
        throw AuthKeyError(
            description:
                "no runner key: set control_plane.key_file, load the systemd credential"
                + " \(credentialName), or export WARD_AUTH_KEY for development")
    }

    static func read(_ path: String, checkMode: Bool) throws(AuthKeyError) -> String {
        let fd = cuv_open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0)
        guard fd >= 0 else {
            throw AuthKeyError(description: "cannot open key file \(path): \(errnoText())")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw AuthKeyError(description: "key file \(path) is not a regular file")
        }
        if checkMode, st.st_mode & 0o077 != 0 {
            let mode = String(st.st_mode & 0o777, radix: 8)
            throw AuthKeyError(
                description:
                    "key file \(path) has mode 0\(mode); it must be readable by its owner only"
                    + " (chmod 600)")
        }
        var bytes = [UInt8](repeating: 0, count: maxBytes + 2)
        var total = 0
        while total < bytes.count {
            let n = bytes.withUnsafeMutableBytes {
                Glibc.read(fd, $0.baseAddress! + total, $0.count - total)
            }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else {
                throw AuthKeyError(description: "cannot read key file \(path): \(errnoText())")
            }
            if n == 0 { break }
            total += n
        }
        return try validated(String(decoding: bytes.prefix(total), as: UTF8.self), from: path)
    }

    static func validated(_ raw: String, from place: String) throws(AuthKeyError) -> String {
        let key = raw.trimmingSpaces
        guard key.utf8.count <= maxBytes else {
            throw AuthKeyError(description: "the key in \(place) is longer than \(maxBytes) bytes")
        }
        guard key.utf8.count >= minBytes else {
            throw AuthKeyError(
                description: "the key in \(place) is shorter than \(minBytes) bytes (or empty)")
        }
        // It goes into an HTTP header: visible ASCII only, so it cannot split it.
        guard key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw AuthKeyError(
                description: "the key in \(place) holds spaces, control or non-ASCII bytes")
        }
        return key
    }

    static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
