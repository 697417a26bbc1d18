/// The control plane over the network: its name resolves, and a TLS handshake
/// with it (certificate and host name verified) completes within a short time.
/// Runs on its own loop and leaves no handle behind.
final class NetworkProbe {
    /// How long each step may take, in milliseconds. A healthy control plane
    /// answers a lookup and a handshake in well under a second; five seconds
    /// keeps a doctor run short when it does not answer at all, where the
    /// daemon's own connect timeout (30 s by default) is meant for slow links.
    static let stepTimeout: UInt64 = 5_000

    let loop: EventLoop
    let target: ControlPlaneChecks.Target
    let timeout: UInt64

    private init(loop: EventLoop, target: ControlPlaneChecks.Target, timeout: UInt64) {
        self.loop = loop
        self.target = target
        self.timeout = timeout
    }

    /// The checks `control plane address` and `control plane tls` (or
    /// `control plane connection` for `ws://`), in that order.
    static func run(_ target: ControlPlaneChecks.Target, timeout: UInt64 = stepTimeout)
        -> [DoctorCheck]
    {
        let loop: EventLoop
        do {
            loop = try EventLoop()
        } catch {
            let why = "cannot start an event loop: \(error)"
            return [
                .fail("control plane address", why, fix: "a bug in ward: report it"),
                .skip(connectName(target), "the address was not checked"),
            ]
        }
        let probe = NetworkProbe(loop: loop, target: target, timeout: timeout)
        let address = probe.resolve()
        var checks = [address]
        if address.status == .fail {
            checks.append(.skip(connectName(target), "the address did not resolve"))
        } else {
            checks.append(probe.connect())
        }
        // Every handle is closed by now; a failure here is a bug in an owner.
        try? loop.close()
        return checks
    }

    /// The second check's name: a TLS handshake, or a plain connection.
    static func connectName(_ target: ControlPlaneChecks.Target) -> String {
        target.tls == nil ? "control plane connection" : "control plane tls"
    }

    /// What is dialled: the proxy when one applies, else the control plane.
    var dialHost: String { target.proxy?.host ?? target.endpoint.host }

    /// Looks the dialled host up once, bounded by `timeout`.
    func resolve() -> DoctorCheck {
        let name = "control plane address"
        let via = target.proxy.map { " (the proxy \($0.description))" } ?? ""
        if NetworkAddress(literal: dialHost) != nil {
            return .pass(name, "\(dialHost)\(via) is an IP address: nothing to resolve")
        }
        var outcome: Result<[NetworkAddress], ResolveError>?
        let timer = Timer(loop: loop)
        let lookup = Resolver.resolve(loop: loop, host: dialHost) { result in
            outcome = result
            timer.close()
        }
        if outcome == nil {
            timer.start(after: timeout) { [loop] in
                lookup.cancel()
                timer.close()
                // A getaddrinfo already running on libuv's pool cannot be
                // cancelled and may wait out the resolver's own retries;
                // stopping the loop leaves it behind rather than wait. The
                // loop then cannot close and is left for the process's exit.
                loop.stop()
            }
        }
        loop.run()
        switch outcome {
        case .success(let addresses):
            let shown = addresses.map(\.description).joined(separator: ", ")
            return .pass(name, "\(dialHost)\(via) resolves to \(shown)")
        case .failure(let error):
            return .fail(
                name, "\(error)\(via)",
                fix: "check the host name in control_plane.url (or the proxy's) and this"
                    + " host's DNS settings (/etc/resolv.conf)")
        case nil:
            return .fail(
                name, "looking up \"\(dialHost)\"\(via) did not answer within \(seconds)",
                fix: "check this host's DNS servers (/etc/resolv.conf) and that it may reach them")
        }
    }

    /// Opens the stream (TCP, proxy tunnel, TLS handshake), bounded by `timeout`,
    /// and closes it again at once: nothing is sent to the control plane.
    func connect() -> DoctorCheck {
        let name = Self.connectName(target)
        let endpoint = target.endpoint
        let authority = HTTPConnectProxy.authority(host: endpoint.host, port: endpoint.port)
        var outcome: Result<String?, SecureStreamError>?
        var timedOut = false
        let timer = Timer(loop: loop)
        let stream = SecureStream.open(
            loop: loop, host: endpoint.host, port: endpoint.port, tls: target.tls,
            proxy: target.proxy, attemptTimeout: timeout
        ) { result in
            timer.close()
            switch result {
            case .success(let stream):
                outcome = .success(stream.tlsVersion)
                stream.close()
            case .failure(let error):
                outcome = .failure(error)
            }
        }
        if outcome == nil {
            timer.start(after: timeout) {
                timedOut = true
                timer.close()
                stream.close()
            }
        }
        loop.run()
        let via = target.proxy.map { " through the proxy \($0.description)" } ?? ""
        switch outcome {
        case .success(let version?):
            return .pass(
                name,
                "\(version) handshake with \(authority)\(via); its certificate is trusted and"
                    + " names \(endpoint.host)")
        case .success(nil):
            return .pass(name, "TCP connection to \(authority)\(via) (ws://, no TLS)")
        case .failure(let error) where timedOut && error == .cancelled:
            return .fail(
                name, "\(authority)\(via) did not complete a handshake within \(seconds)",
                fix: "check that the control plane is up and that nothing between here and"
                    + " \(authority) drops the connection")
        case .failure(let error):
            return .fail(name, error.description, fix: Self.fix(error, authority: authority))
        case nil:
            preconditionFailure("SecureStream finished without calling its completion")
        }
    }

    /// What to do about a connection that failed with `error`.
    static func fix(_ error: SecureStreamError, authority: String) -> String {
        switch error {
        case .connect:
            "check that the control plane runs and listens on \(authority), and that no"
                + " firewall or proxy setting (HTTPS_PROXY, NO_PROXY) is in the way"
        case .tls:
            "check that control_plane.ca_file or pinned_ca_file holds the CA that signed the"
                + " server's certificate, that the certificate names the URL's host, and that"
                + " this host's clock is right"
        case .proxy, .resolve:
            "check control_plane.proxy or HTTPS_PROXY: the proxy must be reachable and allow"
                + " CONNECT to \(authority)"
        case .io, .cancelled, .closed, .queueFull:
            "check that the control plane at \(authority) is up, then run the doctor again"
        }
    }

    /// `timeout` in words.
    var seconds: String {
        timeout % 1000 == 0 ? "\(timeout / 1000) s" : "\(timeout) ms"
    }
}
