import Glibc
import Testing

@testable import Runner

/// Reading the runner key from a file, a systemd credential or the environment.
@MainActor @Suite struct CloudAuthKeyTests {
    let key = "rk_0123456789abcdef0123456789abcdef"

    @Test func readsAPrivateFileAndTrimsTheNewline() throws {
        let dir = TempDir()
        let path = dir.write("runner.key", key + "\n", mode: 0o600)
        let loaded = try AuthKey.load(
            keyFile: path, environment: ["WARD_AUTH_KEY": "ignored-key-0000"])
        #expect(loaded.value == key)
        #expect(loaded.source == .file(path))
        #expect(!loaded.description.contains(key))
    }

    @Test(arguments: [0o644, 0o640, 0o604] as [mode_t])
    func refusesAFileOthersCanRead(_ mode: mode_t) {
        let dir = TempDir()
        let path = dir.write("runner.key", key, mode: mode)
        #expect(throws: AuthKeyError.self) { try AuthKey.load(keyFile: path, environment: [:]) }
        do {
            _ = try AuthKey.load(keyFile: path, environment: [:])
        } catch {
            #expect(error.description.contains("chmod 600"))
            #expect(!error.description.contains(key))
        }
    }

    @Test func prefersTheSystemdCredentialOverTheEnvironment() throws {
        let dir = TempDir()
        dir.write("creds/ward-key", key, mode: 0o400)
        let loaded = try AuthKey.load(
            keyFile: nil,
            environment: ["CREDENTIALS_DIRECTORY": dir.path + "/creds", "WARD_AUTH_KEY": "x"])
        #expect(loaded.value == key)
        #expect(loaded.source == .credential(dir.path + "/creds/ward-key"))
    }

    @Test func acceptsTheEnvironmentForDevelopment() throws {
        let loaded = try AuthKey.load(keyFile: nil, environment: ["WARD_AUTH_KEY": key])
        #expect(loaded.source == .environment)
    }

    @Test(arguments: ["short", "has space inside the key value", "tab\tinside-the-key-value-x", ""])
    func refusesKeysThatCannotBeSentOrRedacted(_ bad: String) {
        #expect(throws: AuthKeyError.self) {
            try AuthKey.load(keyFile: nil, environment: ["WARD_AUTH_KEY": bad])
        }
    }

    @Test func saysWhereToPutAKeyWhenThereIsNone() {
        do {
            _ = try AuthKey.load(keyFile: nil, environment: [:])
            Issue.record("loaded a key from nowhere")
        } catch {
            #expect(error.description.contains("control_plane.key_file"))
        }
    }

    @Test func refusesASymlinkedKeyFile() {
        let dir = TempDir()
        let real = dir.write("real.key", key, mode: 0o600)
        symlink(real, dir.path + "/link.key")
        #expect(throws: AuthKeyError.self) {
            try AuthKey.load(keyFile: dir.path + "/link.key", environment: [:])
        }
    }
}
