import CUV
import Glibc

/// One IP address (no port), as the resolver returns it and a TCP connect
/// takes it. IPv6 link-local addresses keep their interface (scope id).
nonisolated public struct NetworkAddress: Hashable, Sendable, CustomStringConvertible {
    /// Which IP version the address is.
    public enum Family: Hashable, Sendable {
        /// A 4-byte IPv4 address.
        case ipv4
        /// A 16-byte IPv6 address.
        case ipv6
    }

    /// The IP version.
    public let family: Family
    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]
    /// The IPv6 interface index for a scoped (link-local) address, else 0.
    public let scopeID: UInt32

    /// Parses an IP literal: `127.0.0.1`, `::1`, or `[::1]` as written in URLs.
    /// Nil for anything else, host names included.
    public init?(literal: String) {
        var text = literal
        if text.hasPrefix("[") && text.hasSuffix("]") {
            text = String(text.dropFirst().dropLast())
        }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            family = .ipv4
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            scopeID = 0
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            family = .ipv6
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
            scopeID = 0
            return
        }
        return nil
    }

    /// Copies the address out of a `sockaddr_in` or `sockaddr_in6`; nil for
    /// any other family.
    init?(sockaddr address: UnsafePointer<sockaddr>) {
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            let v4 = UnsafeRawPointer(address).load(as: sockaddr_in.self)
            family = .ipv4
            bytes = withUnsafeBytes(of: v4.sin_addr) { Array($0) }
            scopeID = 0
        case AF_INET6:
            let v6 = UnsafeRawPointer(address).load(as: sockaddr_in6.self)
            family = .ipv6
            bytes = withUnsafeBytes(of: v6.sin6_addr) { Array($0) }
            scopeID = v6.sin6_scope_id
        default:
            return nil
        }
    }

    /// Whether this is a loopback address (127.0.0.0/8 or ::1).
    public var isLoopback: Bool {
        switch family {
        case .ipv4: bytes[0] == 127
        case .ipv6: bytes == [UInt8](repeating: 0, count: 15) + [1]
        }
    }

    /// The address in its usual text form: `127.0.0.1`, `::1`.
    public var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let af = family == .ipv4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { inet_ntop(af, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(
            decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `address:port`, with IPv6 addresses in brackets: `[::1]:443`.
    public func endpoint(port: UInt16) -> String {
        family == .ipv4 ? "\(self):\(port)" : "[\(self)]:\(port)"
    }

    /// Calls `body` with a socket address for this address and `port`.
    func withSockaddr<Result>(
        port: UInt16, _ body: (UnsafePointer<sockaddr>) -> Result
    ) -> Result {
        switch family {
        case .ipv4:
            var v4 = sockaddr_in()
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &v4.sin_addr) { $0.copyBytes(from: bytes) }
            return withUnsafePointer(to: &v4) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1, body)
            }
        case .ipv6:
            var v6 = sockaddr_in6()
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            v6.sin6_scope_id = scopeID
            withUnsafeMutableBytes(of: &v6.sin6_addr) { $0.copyBytes(from: bytes) }
            return withUnsafePointer(to: &v6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1, body)
            }
        }
    }
}

/// A host name that did not resolve: the name asked for and getaddrinfo's
/// reason, as libuv words it.
nonisolated public struct ResolveError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The host name that was looked up.
    public let host: String
    /// The libuv code (`UV_EAI_NONAME`, ...), or 0 when the lookup succeeded
    /// but gave no IPv4 or IPv6 address.
    public let code: Int32

    /// The reason in words, e.g. `unknown node or service`.
    public var reason: String {
        code == 0 ? "no IPv4 or IPv6 address" : String(cString: uv_strerror(code))
    }

    /// `cannot resolve "host": reason (EAI_NAME)`.
    public var description: String {
        let name = code == 0 ? "" : " (\(String(cString: uv_err_name(code))))"
        return "cannot resolve \"\(host)\": \(reason)\(name)"
    }
}

/// One host-name lookup through `uv_getaddrinfo`: the blocking getaddrinfo
/// runs on libuv's thread pool and the result arrives on the loop thread.
/// The lookup keeps itself alive until its request finishes.
public final class Resolver {
    /// The host being looked up.
    public let host: String
    /// The C request; freed in its callback.
    let request: UnsafeMutablePointer<uv_getaddrinfo_t>
    /// The caller's completion; dropped by `cancel()`.
    var completion: ((Result<[NetworkAddress], ResolveError>) -> Void)?

    /// Starts looking up `host`. `completion` runs once on the loop thread
    /// with every IPv6 and IPv4 address in getaddrinfo's order (duplicates
    /// dropped), unless `cancel()` is called first. IP literals resolve too.
    @discardableResult
    public static func resolve(
        loop: EventLoop, host: String,
        completion: @escaping (Result<[NetworkAddress], ResolveError>) -> Void
    ) -> Resolver {
        let lookup = Resolver(host: host, completion: completion)
        lookup.start(loop: loop)
        return lookup
    }

    private init(
        host: String, completion: @escaping (Result<[NetworkAddress], ResolveError>) -> Void
    ) {
        self.host = host
        self.completion = completion
        request = .allocate(capacity: 1)
    }

    /// Submits the request; a refused submission completes right away.
    private func start(loop: EventLoop) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        // One entry per address instead of one per socket type.
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        request.pointee.data = Unmanaged.passRetained(self).toOpaque()
        let rc = uv_getaddrinfo(loop.raw, request, Trampolines.addressesResolved, host, nil, &hints)
        if rc < 0 {
            Unmanaged<Resolver>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            finish(.failure(ResolveError(host: host, code: rc)))
        }
    }

    /// Drops the completion and asks libuv to cancel the lookup; a lookup
    /// already running on a pool thread still finishes, unseen.
    public func cancel() {
        guard completion != nil else { return }
        completion = nil
        uv_cancel(UnsafeMutableRawPointer(request).assumingMemoryBound(to: uv_req_t.self))
    }

    /// Called by the trampoline: copies the addresses, frees the C list and
    /// the request, then completes.
    func resolved(status: Int32, list: UnsafeMutablePointer<addrinfo>?) {
        var addresses: [NetworkAddress] = []
        var entry = list
        while let current = entry {
            if let raw = current.pointee.ai_addr, let address = NetworkAddress(sockaddr: raw),
                !addresses.contains(address)
            {
                addresses.append(address)
            }
            entry = current.pointee.ai_next
        }
        uv_freeaddrinfo(list)
        let retained = request.pointee.data
        request.deallocate()

        if status < 0 {
            finish(.failure(ResolveError(host: host, code: status)))
        } else if addresses.isEmpty {
            finish(.failure(ResolveError(host: host, code: 0)))
        } else {
            finish(.success(addresses))
        }
        Unmanaged<Resolver>.fromOpaque(retained!).release()
    }

    /// Calls the completion at most once.
    private func finish(_ result: Result<[NetworkAddress], ResolveError>) {
        let done = completion
        completion = nil
        done?(result)
    }
}
