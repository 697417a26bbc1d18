/// How one doctor check ended.
nonisolated public enum DoctorStatus: String, CaseIterable, Sendable {
    /// The thing checked is as ward needs it.
    case pass
    /// ward works, but something deserves attention (a missing program of one action).
    case warn
    /// ward cannot do its job as configured; the exit status is 1.
    case fail
    /// The check does not apply here (no control plane, no service install, `--offline`).
    case skip
}

/// One line of `ward doctor`: what was checked, how it ended, and what to do about it.
nonisolated public struct DoctorCheck: Equatable, Sendable {
    /// A short stable name (`config`, `journal directory`, `executable /usr/bin/nodetool`).
    public var name: String
    /// How it ended.
    public var status: DoctorStatus
    /// One line saying what was found; never a secret value.
    public var detail: String
    /// For a warning or a failure, what to do about it.
    public var fix: String?
    /// Supporting lines, such as every diagnostic of a pack that does not load.
    public var items: [String]

    /// A check result; `fix` belongs to warnings and failures.
    public init(
        _ name: String, _ status: DoctorStatus, _ detail: String, fix: String? = nil,
        items: [String] = []
    ) {
        self.name = name
        self.status = status
        self.detail = detail
        self.fix = fix
        self.items = items
    }

    /// A passing check.
    public static func pass(_ name: String, _ detail: String, items: [String] = []) -> DoctorCheck {
        DoctorCheck(name, .pass, detail, items: items)
    }

    /// A check that does not apply, with the reason in `detail`.
    public static func skip(_ name: String, _ detail: String) -> DoctorCheck {
        DoctorCheck(name, .skip, detail)
    }

    /// A warning and what to do about it.
    public static func warn(
        _ name: String, _ detail: String, fix: String, items: [String] = []
    ) -> DoctorCheck {
        DoctorCheck(name, .warn, detail, fix: fix, items: items)
    }

    /// A failure and what to do about it.
    public static func fail(
        _ name: String, _ detail: String, fix: String, items: [String] = []
    ) -> DoctorCheck {
        DoctorCheck(name, .fail, detail, fix: fix, items: items)
    }
}
