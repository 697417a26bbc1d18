/// The few settings of ward's systemd unit the doctor checks, read from the file
/// `contrib/install.sh` installs.
///
/// Known shortcoming: drop-ins (`/etc/systemd/system/ward.service.d/*.conf`) and
/// systemd's quoting and line continuations are not read, so a drop-in that
/// changes `User=` or `ExecStart=` is not seen and an `ExecStart=` argument with
/// quoted spaces is split at them; the doctor then checks the unit as shipped.
struct ServiceUnit: Equatable {
    /// Where the unit file was read.
    var path: String
    /// `User=` of the `[Service]` section, if set.
    var user: String?
    /// The words of the last `ExecStart=`, without systemd's prefix characters.
    var execStart: [String] = []
    /// `LoadCredential=NAME:PATH` entries, in order.
    var credentials: [(name: String, path: String)] = []

    /// Largest unit file read: install.sh's unit is about 5 KiB.
    static let maxBytes = 1 << 20

    static func == (a: ServiceUnit, b: ServiceUnit) -> Bool {
        a.path == b.path && a.user == b.user && a.execStart == b.execStart
            && a.credentials.map(\.name) == b.credentials.map(\.name)
            && a.credentials.map(\.path) == b.credentials.map(\.path)
    }

    /// Parses the text of a unit file read from `path`.
    init(path: String, text: String) {
        self.path = path
        var section = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = String(raw).trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                section = line
                continue
            }
            guard section == "[Service]", let eq = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<eq]).trimmingSpaces
            let value = String(line[line.index(after: eq)...]).trimmingSpaces
            switch key {
            case "User": user = value.isEmpty ? nil : value
            case "ExecStart": execStart = ServiceUnit.commandWords(value)
            case "LoadCredential":
                if let colon = value.firstIndex(of: ":") {
                    credentials.append(
                        (String(value[..<colon]), String(value[value.index(after: colon)...])))
                }
            default: continue
            }
        }
    }

    /// The command of an `ExecStart=` value split at spaces, after the prefix
    /// characters systemd allows before the path (`-`, `@`, `:`, `+`, `!`).
    static func commandWords(_ value: String) -> [String] {
        let command = value.drop { "-@:+!".contains($0) }
        return command.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    /// The unit at `path`: nil when there is no such file, else the parsed unit
    /// or why it could not be read.
    static func read(_ path: String) -> Result<ServiceUnit, ConfigProblem>? {
        guard FileSystem.kind(path) != .missing else { return nil }
        let real = FileSystem.realPath(path) ?? path
        switch FileSystem.read(real, limit: maxBytes) {
        case .success(let bytes):
            return .success(ServiceUnit(path: path, text: String(decoding: bytes, as: UTF8.self)))
        case .failure(let error):
            return .failure(ConfigProblem("\(path): \(error.message)"))
        }
    }

    /// The program `ExecStart=` runs.
    var program: String? { execStart.first }

    /// The `--config` value `ExecStart=` passes, if any.
    var configPath: String? {
        for (i, word) in execStart.enumerated() {
            if word == "--config", i + 1 < execStart.count { return execStart[i + 1] }
            if word.hasPrefix("--config=") { return String(word.dropFirst("--config=".count)) }
        }
        return nil
    }

    /// The file the unit loads as the systemd credential `name`, if any.
    func credentialPath(_ name: String) -> String? {
        credentials.last { $0.name == name }?.path
    }
}
