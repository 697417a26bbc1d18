import Glibc
import Testing

@testable import Runner

/// A unit file like install.sh's, with `service` lines in `[Service]`.
private func unitText(_ service: [String]) -> String {
    """
    # ward: a comment
    [Unit]
    Description=ward runner
    User=not-this-one

    [Service]
    Type=simple
    \(service.joined(separator: "\n"))

    [Install]
    WantedBy=multi-user.target
    """
}

@Suite struct DoctorServiceTests {
    @Test func skipsBothChecksWhenNoUnitIsInstalled() {
        let dir = TempDir()
        let checks = ServiceChecks.check(
            unitPath: dir.path + "/ward.service", configPath: "/etc/ward/config.yaml",
            journalPath: nil)
        #expect(checks.map(\.status) == [.skip, .skip])
        #expect(checks[0].detail.hasSuffix("ward.service does not exist"))
    }

    @Test func readsUserExecStartAndCredentialFromTheServiceSection() {
        let unit = ServiceUnit(
            path: "/u",
            text: unitText([
                "User=ward", "ExecStart=-/usr/local/bin/ward --config=/etc/ward/c.yaml connect",
                "LoadCredential=ward-key:/etc/ward/runner.key",
            ]))
        #expect(unit.user == "ward")
        #expect(unit.program == "/usr/local/bin/ward")
        #expect(unit.configPath == "/etc/ward/c.yaml")
        #expect(unit.credentialPath("ward-key") == "/etc/ward/runner.key")
    }

    @Test func passesAUnitWhoseExecStartNamesAnExistingWardWithTheSameConfig() {
        let dir = TempDir()
        let config = dir.write("config.yaml", "")
        let path = dir.write(
            "ward.service",
            unitText(["User=root", "ExecStart=\(WardProcess.binary) --config \(config) connect"]))
        let checks = ServiceChecks.check(unitPath: path, configPath: config, journalPath: nil)
        #expect(checks.map(\.status) == [.pass, .pass])
        #expect(checks[1].detail == "root (uid 0) exists")
    }

    @Test func failsAUnitWhoseExecStartNamesAMissingProgram() {
        let dir = TempDir()
        let path = dir.write(
            "ward.service",
            unitText(["User=root", "ExecStart=\(dir.path)/bin/ward --config /x.yaml connect"]))
        let checks = ServiceChecks.check(unitPath: path, configPath: "/x.yaml", journalPath: nil)
        #expect(checks[0].status == .fail)
        #expect(checks[0].detail.contains("\(dir.path)/bin/ward"))
        #expect(checks[0].fix != nil)
    }

    @Test func warnsWhenTheServiceReadsAnotherConfig() {
        let dir = TempDir()
        let path = dir.write(
            "ward.service",
            unitText([
                "User=root",
                "ExecStart=\(WardProcess.binary) --config /etc/ward/config.yaml connect",
            ]))
        let checks = ServiceChecks.check(
            unitPath: path, configPath: dir.path + "/mine.yaml", journalPath: nil)
        #expect(checks[0].status == .warn)
        #expect(checks[0].fix?.contains("--config /etc/ward/config.yaml doctor") == true)
    }

    @Test func failsAUnitWhoseUserDoesNotExist() {
        let dir = TempDir()
        let path = dir.write(
            "ward.service",
            unitText(["User=ward-doctor-no-such-user", "ExecStart=\(WardProcess.binary) connect"]))
        let checks = ServiceChecks.check(unitPath: path, configPath: "/x", journalPath: nil)
        #expect(checks[1].status == .fail)
        #expect(checks[1].detail == "the unit's User=ward-doctor-no-such-user does not exist")
    }

    @Test func findsTheKeyTheUnitLoadsAsACredentialWithoutPrintingIt() {
        let dir = TempDir()
        let secret = "unit-credential-key-0123456789"
        let keyPath = dir.write("runner.key", secret + "\n", mode: 0o600)
        let unit = ServiceUnit(path: "/u", text: unitText(["LoadCredential=ward-key:\(keyPath)"]))
        let check = ControlPlaneChecks.authKey(
            ControlPlaneConfig(url: "wss://cp.example/v1/runner"), environment: [:], unit: unit)
        #expect(check.status == .pass)
        #expect(check.detail.contains(keyPath))
        #expect(!check.detail.contains(secret))
    }

    @Test func failsAnEmptyCredentialFileWithoutEchoingIt() {
        let dir = TempDir()
        let keyPath = dir.write("runner.key", "", mode: 0o600)
        let unit = ServiceUnit(path: "/u", text: unitText(["LoadCredential=ward-key:\(keyPath)"]))
        let check = ControlPlaneChecks.authKey(
            ControlPlaneConfig(url: "wss://cp.example/v1/runner"), environment: [:], unit: unit)
        #expect(check.status == .fail)
        #expect(check.detail.contains(keyPath))
    }
}

@Suite struct DoctorReportTests {
    @Test func failsOnlyWhenACheckFailed() {
        let table: [([DoctorStatus], Bool)] = [
            ([.pass, .warn, .skip], true), ([.pass, .fail], false), ([], true),
        ]
        for (statuses, ok) in table {
            let report = DoctorReport(checks: statuses.map { DoctorCheck("c", $0, "d") })
            #expect(report.ok == ok)
            #expect(report.json["summary"]?["ok"]?.boolValue == ok)
        }
    }

    @Test func writesFixAndItemsOnlyWhenPresent() {
        let report = DoctorReport(checks: [
            .pass("a", "fine"), .fail("b", "broken", fix: "mend it", items: ["x"]),
        ])
        let checks = report.json["checks"]?.arrayValue ?? []
        #expect(checks[0].objectValue?.keys == ["name", "status", "detail"])
        #expect(checks[1].objectValue?.keys == ["name", "status", "detail", "fix", "items"])
        #expect(
            report.json["summary"]?.objectValue?.keys == ["pass", "warn", "fail", "skip", "ok"])
    }
}
