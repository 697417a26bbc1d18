import CUV
import Glibc

/// Why a child could not be started. Messages name the executable and say
/// the cause in words; they never quote argv or environment values, which
/// may hold secrets.
nonisolated public enum SpawnError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The spec is malformed (relative path, NUL byte, empty argv...).
    case invalidSpec(executable: String, reason: String)
    /// No file at the path (ENOENT).
    case notFound(executable: String)
    /// The file exists but its `#!` interpreter does not (ENOENT from exec).
    case interpreterNotFound(executable: String)
    /// Not allowed to execute it (EACCES, EPERM).
    case permissionDenied(executable: String, UVError)
    /// The kernel does not recognise the file as a program (ENOEXEC).
    case notExecutable(executable: String)
    /// The working directory is missing, not a directory, or not enterable.
    case badWorkingDirectory(path: String, UVError)
    /// Anything else: out of descriptors, argument list too long...
    case failed(executable: String, UVError)

    /// The message a user sees.
    public var description: String {
        switch self {
        case .invalidSpec(let executable, let reason):
            "cannot run \(executable): \(reason)"
        case .notFound(let executable):
            "executable not found: \(executable)"
        case .interpreterNotFound(let executable):
            "interpreter named in the #! line not found: \(executable)"
        case .permissionDenied(let executable, let error):
            "executable not permitted (\(error.message)): \(executable)"
        case .notExecutable(let executable):
            "not an executable program (exec format error): \(executable)"
        case .badWorkingDirectory(let path, let error):
            "working directory unusable (\(error.message)): \(path)"
        case .failed(let executable, let error):
            "cannot start \(executable): \(error.message) (\(error.call))"
        }
    }

    /// The error for a failed `uv_spawn` of `executable` with result `code`.
    static func spawnFailed(executable: String, code: Int32) -> SpawnError {
        let error = UVError(code, call: "uv_spawn")
        switch -code {
        case ENOENT:
            // execve says ENOENT both for a missing file and for a script
            // whose interpreter is missing; tell the two apart for the user.
            return access(executable, F_OK) == 0
                ? .interpreterNotFound(executable: executable) : .notFound(executable: executable)
        case EACCES, EPERM:
            return .permissionDenied(executable: executable, error)
        case ENOEXEC:
            return .notExecutable(executable: executable)
        default:
            return .failed(executable: executable, error)
        }
    }
}
