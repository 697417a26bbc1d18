import Glibc

/// The service install: the unit `contrib/install.sh` writes and the user it runs as.
enum ServiceChecks {
    /// Where install.sh puts the unit (docs/install.md, "Where every file goes").
    static let defaultUnitPath = "/usr/local/lib/systemd/system/ward.service"

    /// The unit's checks: its `ExecStart=` and its `User=`. Both skip when the
    /// unit file does not exist. `configPath` is the config the doctor checked,
    /// `journalPath` its journal (nil when the config did not load).
    static func check(unitPath: String, configPath: String, journalPath: String?)
        -> [DoctorCheck]
    {
        guard let read = ServiceUnit.read(unitPath) else {
            let why = "not installed as a service: \(unitPath) does not exist"
            return [.skip("service unit", why), .skip("service user", why)]
        }
        switch read {
        case .failure(let problem):
            let check = DoctorCheck.fail(
                "service unit", "cannot read the unit: \(problem.message)",
                fix: "reinstall the unit with install.sh --upgrade")
            return [check, .skip("service user", "the unit could not be read")]
        case .success(let unit):
            return [
                execStart(unit, configPath: configPath),
                user(unit, journalPath: journalPath),
            ]
        }
    }

    /// Whether `ExecStart=` runs a ward that exists, with the config the doctor checked.
    static func execStart(_ unit: ServiceUnit, configPath: String) -> DoctorCheck {
        let name = "service unit"
        let reinstall = "reinstall with install.sh --upgrade, or fix ExecStart= in a drop-in"
        guard let program = unit.program else {
            return .fail(name, "\(unit.path) has no ExecStart= in [Service]", fix: reinstall)
        }
        var st = stat()
        guard stat(program, &st) == 0, st.st_mode & S_IFMT == S_IFREG,
            access(program, X_OK) == 0
        else {
            return .fail(
                name, "ExecStart= names \(program), which is missing or not executable",
                fix: reinstall)
        }
        let command = unit.execStart.joined(separator: " ")
        if let serviceConfig = unit.configPath,
            (FileSystem.realPath(serviceConfig) ?? serviceConfig)
                != (FileSystem.realPath(configPath) ?? configPath)
        {
            return .warn(
                name, "the service reads \(serviceConfig), but this doctor checked \(configPath)",
                fix: "run `ward --config \(serviceConfig) doctor` to check what the service uses")
        }
        return .pass(name, "\(unit.path) runs \(command)")
    }

    /// Whether the unit's `User=` exists, and owns the journal's folder when it exists.
    static func user(_ unit: ServiceUnit, journalPath: String?) -> DoctorCheck {
        let name = "service user"
        guard let user = unit.user else {
            return .warn(
                name, "\(unit.path) names no User=: the service would run as root",
                fix: "reinstall the unit with install.sh --upgrade (it runs ward as ward:ward)")
        }
        guard let entry = getpwnam(user) else {
            return .fail(
                name, "the unit's User=\(user) does not exist",
                fix: "create it (install.sh runs useradd --system \(user)), or reinstall ward")
        }
        let uid = entry.pointee.pw_uid
        if let journalPath {
            let dir = JournalSet(path: journalPath).directory
            var st = stat()
            if stat(dir, &st) == 0, st.st_uid != uid, uid != 0 {
                return .warn(
                    name,
                    "\(user) (uid \(uid)) exists, but the journal folder \(dir) belongs to"
                        + " uid \(st.st_uid): the service may not be able to write it",
                    fix: "chown \(user):\(user) \(dir) (install.sh makes it 0700 for \(user))")
            }
        }
        return .pass(name, "\(user) (uid \(uid)) exists")
    }
}
