/// Opening a `SecureStream`: lookup, TCP connect, the optional CONNECT
/// tunnel, then the TLS handshake (finished in `drive`) or, for plain TCP,
/// open at once. Each step runs from the previous one's callback.
extension SecureStream {
    /// Looks up the host to dial (the proxy's, when there is one).
    func start() {
        let dialHost = proxy?.host ?? host
        if let literal = NetworkAddress(literal: dialHost) {
            connect([literal])
            return
        }
        resolver = Resolver.resolve(loop: loop, host: dialHost) { [self] result in
            resolver = nil
            switch result {
            case .success(let addresses): connect(addresses)
            case .failure(let error): fail(.resolve(error))
            }
        }
    }

    /// Connects to the first address that accepts.
    func connect(_ addresses: [NetworkAddress]) {
        guard phase == .resolving else { return }
        phase = .connecting
        let connection = TCPConnection(loop: loop, attemptTimeout: attemptTimeout)
        tcp = connection
        connection.connect(
            host: proxy?.host ?? host, addresses: addresses, port: proxy?.port ?? port
        ) { [self] result in
            switch result {
            case .success: connected()
            case .failure(let error): fail(.connect(error))
            }
        }
    }

    /// TCP is up: ask the proxy for a tunnel, or start TLS.
    func connected() {
        guard let tcp else { return }
        tcp.onBytes = { [self] bytes in received(bytes) }
        tcp.onEnd = { [self] end in socketEnded(end) }
        guard let proxy else {
            startSecurity(leftover: [])
            return
        }
        phase = .proxying
        proxyParser = HTTPConnectProxy.ResponseParser(sentCredentials: proxy.hasCredentials)
        tcp.write(HTTPConnectProxy.request(host: host, port: port, proxy: proxy)) { [self] error in
            if let error, phase == .proxying {
                fail(.io(host: proxy.host, port: proxy.port, error))
            }
        }
    }

    /// The proxy's answer, as it arrives.
    func proxyAnswered(_ bytes: UnsafeRawBufferPointer) {
        guard var parser = proxyParser, let proxy else { return }
        do {
            let step = try parser.feed(bytes)
            proxyParser = parser
            if case .established(let leftover) = step {
                proxyParser = nil
                startSecurity(leftover: leftover)
            }
        } catch {
            fail(.proxy(ProxyError(proxy: proxy.description, target: target, kind: error)))
        }
    }

    /// Starts the TLS handshake over the connection (or tunnel), or opens
    /// right away for plain TCP. `leftover` came after the proxy's answer.
    func startSecurity(leftover: [UInt8]) {
        guard let tlsContext else {
            phase = .open
            succeedOpen()
            if phase == .open && !leftover.isEmpty {
                leftover.withUnsafeBytes { onBytes?($0) }
            }
            return
        }
        do {
            session = try TLSSession(context: tlsContext, host: host)
        } catch {
            fail(.tls(host: host, port: port, error))
            return
        }
        phase = .handshaking
        leftover.withUnsafeBytes { session?.feed($0) }
        drive()
    }

    /// Hands the open stream to the caller.
    func succeedOpen() {
        let opened = openCompletion
        openCompletion = nil
        opened?(.success(self))
    }

    /// `host:port` as the proxy is asked for it.
    var target: String { HTTPConnectProxy.authority(host: host, port: port) }
}
