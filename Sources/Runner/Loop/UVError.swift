import CUV

/// A failed libuv call: the negative code libuv returned, translated once into
/// its errno name and message, plus the call that failed so a log line can say
/// where it happened.
nonisolated public struct UVError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The negative libuv code, e.g. `UV_ENOENT` (-2).
    public let code: Int32
    /// The libuv call (or step) that failed, e.g. `uv_spawn`.
    public let call: String

    /// Wraps `code` returned by `call`. `code` must be negative: zero and
    /// positive results are not errors.
    public init(_ code: Int32, call: String) {
        precondition(code < 0, "UVError made from non-error code \(code) of \(call)")
        self.code = code
        self.call = call
    }

    /// Wraps a positive `errno` value from a plain system call.
    public init(errno value: Int32, call: String) {
        self.init(-value, call: call)
    }

    /// The errno name, e.g. `ENOENT`.
    public var name: String { String(cString: uv_err_name(code)) }

    /// The message in words, e.g. `no such file or directory`.
    public var message: String { String(cString: uv_strerror(code)) }

    /// The positive errno value this code stands for.
    public var errnoValue: Int32 { -code }

    /// `call: message (NAME)`, for logs and error output.
    public var description: String { "\(call): \(message) (\(name))" }

    /// Returns when `result` is not negative, throws `UVError` naming `call`
    /// otherwise. The single place where libuv results become errors.
    @discardableResult
    public static func check(_ result: Int32, _ call: String) throws(UVError) -> Int32 {
        if result < 0 { throw UVError(result, call: call) }
        return result
    }
}
