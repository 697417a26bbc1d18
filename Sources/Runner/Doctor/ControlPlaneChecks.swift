/// The `control_plane` section's local parts: the runner key and the TLS trust.
enum ControlPlaneChecks {
    /// What the network checks need from the section, when it is usable.
    struct Target {
        /// Where to dial.
        var endpoint: ControlPlaneEndpoint
        /// The TLS settings; nil for `ws://` to loopback.
        var tls: TLSContext?
        /// The proxy in effect for the endpoint, if any.
        var proxy: ProxyTarget?
    }

    /// Whether a runner key can be found, naming where from and never its value.
    /// Outside the service `$CREDENTIALS_DIRECTORY` is unset, so when nothing
    /// else holds a key, the file the unit loads as the credential is read.
    static func authKey(
        _ cp: ControlPlaneConfig, environment: [String: String], unit: ServiceUnit?
    ) -> DoctorCheck {
        let name = "auth key"
        let fix =
            "write the key to the file named by control_plane.key_file (mode 0600), load it"
            + " as the systemd credential \(AuthKey.credentialName) (install.sh:"
            + " /etc/ward/runner.key), or export WARD_AUTH_KEY for development"
        let error: AuthKeyError
        do {
            let key = try AuthKey.load(keyFile: cp.keyFile, environment: environment)
            return .pass(name, key.description)
        } catch let e {
            error = e
        }
        if cp.keyFile == nil, environment["WARD_AUTH_KEY"] == nil,
            let path = unit?.credentialPath(AuthKey.credentialName)
        {
            do {
                _ = try AuthKey.read(path, checkMode: true)
                return .pass(
                    name,
                    "key in \(path), which the service loads as the systemd credential"
                        + " \(AuthKey.credentialName)")
            } catch let e {
                return .fail(
                    name, "\(e) (the service's credential \(AuthKey.credentialName))", fix: fix)
            }
        }
        return .fail(name, error.description, fix: fix)
    }

    /// The endpoint, the TLS context and the proxy, each check saying whether it
    /// could be made; the target is nil when any of them could not.
    static func target(_ cp: ControlPlaneConfig, environment: [String: String])
        -> ([DoctorCheck], Target?)
    {
        let endpoint: ControlPlaneEndpoint
        switch cp.endpoint {
        case .success(let e): endpoint = e
        case .failure(let problem):
            let check = DoctorCheck.fail(
                "control plane address", "control_plane.url \"\(cp.url)\" \(problem.message)",
                fix: "write control_plane.url as wss://host[:port][/path] (docs/config.md)")
            return ([check], nil)
        }
        var checks: [DoctorCheck] = []
        var tls: TLSContext?
        if endpoint.secure {
            let trust: TLSTrust =
                cp.pinnedCAFile.map { .pinnedCA(path: $0) } ?? cp.caFile.map { .caBundle(path: $0) }
                ?? .systemStore
            do {
                tls = try TLSContext(trust: trust)
                checks.append(.pass("tls trust", "\(describe(trust)) loads"))
            } catch {
                checks.append(
                    .fail(
                        "tls trust", "\(error)",
                        fix: "point control_plane.ca_file or pinned_ca_file at a readable PEM"
                            + " file (pinned: exactly one certificate), or install the"
                            + " system CA store (ca-certificates)"))
                return (checks, nil)
            }
        } else {
            checks.append(
                .skip("tls trust", "\(endpoint.description) is plain ws:// to loopback: no TLS"))
        }
        let proxy: ProxySettings
        do {
            proxy = try ProxySettings.resolve(configProxy: cp.proxy, environment: environment)
        } catch {
            checks.append(
                .fail(
                    "proxy", "\(error)",
                    fix: "fix control_plane.proxy or HTTPS_PROXY (http://host:port)"))
            return (checks, nil)
        }
        let target = Target(
            endpoint: endpoint, tls: tls,
            proxy: proxy.proxy(forHost: endpoint.host, port: endpoint.port))
        return (checks, target)
    }

    /// The trust source in words.
    static func describe(_ trust: TLSTrust) -> String {
        switch trust {
        case .systemStore: "the system CA store"
        case .caBundle(let path): "CA bundle \(path)"
        case .pinnedCA(let path): "pinned CA \(path)"
        }
    }
}
