import COpenSSL
import Glibc

/// A TLS failure: what ward was doing, a one-line summary, and everything
/// OpenSSL's error queue said about it. Built only through `drained`, so the
/// queue is always emptied into the error that reports it.
nonisolated public struct TLSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was being done when it failed.
    public enum Stage: String, Equatable, Sendable {
        /// Setting up a context: loading trust, applying options.
        case configuration
        /// The handshake, certificate verification included.
        case handshake
        /// Decrypting received records.
        case read
        /// Encrypting data to send.
        case write
        /// Sending close_notify.
        case shutdown
    }

    /// What was being done.
    public let stage: Stage
    /// The OpenSSL call that failed, e.g. `SSL_do_handshake`.
    public let call: String
    /// The sentence a user reads: `certificate verify failed: self-signed
    /// certificate`, `cannot load CA bundle "/x": no certificate or crl found`.
    public let summary: String
    /// OpenSSL's queued reasons, oldest first, each with its extra data.
    public let reasons: [String]
    /// The X509_V_ERR_* code when the peer's certificate was refused.
    public let verifyResult: Int?

    /// `summary` and, when they add something, OpenSSL's reasons.
    public var description: String {
        let extra = reasons.filter { !summary.contains($0) }
        return extra.isEmpty ? summary : summary + " (" + extra.joined(separator: "; ") + ")"
    }

    /// An error for `call` at `stage`, taking every entry of the thread's
    /// OpenSSL error queue. `summary` defaults to the oldest reason, the root cause.
    static func drained(
        _ stage: Stage, call: String, summary: String? = nil, verifyResult: Int? = nil
    ) -> TLSError {
        let reasons = OpenSSLErrorQueue.drain()
        return TLSError(
            stage: stage, call: call,
            summary: summary ?? reasons.first ?? "\(call) failed with no reason given",
            reasons: reasons, verifyResult: verifyResult)
    }

    /// A verification failure, worded for the user: a hostname or IP
    /// mismatch names the expected value; anything else is OpenSSL's verify
    /// string, e.g. `self-signed certificate`.
    static func verification(result: Int, expected host: String) -> TLSError {
        let summary: String
        switch Int32(result) {
        case X509_V_ERR_HOSTNAME_MISMATCH:
            summary = "hostname mismatch: expected \"\(host)\""
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
            summary = "IP address mismatch: expected \(host)"
        default:
            let text = String(cString: X509_verify_cert_error_string(result))
            summary = "certificate verify failed: \(text)"
        }
        return drained(
            .handshake, call: "SSL_do_handshake", summary: summary, verifyResult: result)
    }
}

/// OpenSSL's per-thread error queue. Every call that can fail is preceded by
/// `clear()`, so what `drain()` returns belongs to that call alone.
nonisolated enum OpenSSLErrorQueue {
    /// How many entries are read at most; a deeper queue is cleared unread.
    /// OpenSSL keeps at most 16 per thread (ERR_NUM_ERRORS), so this loses
    /// nothing.
    static let maximumEntries = 16

    /// Empties the queue before a call.
    static func clear() {
        ERR_clear_error()
    }

    /// Takes every entry, oldest first, as `reason` or `reason (data)`.
    static func drain() -> [String] {
        var reasons: [String] = []
        while reasons.count < maximumEntries {
            var data: UnsafePointer<CChar>?
            var flags: Int32 = 0
            let code = ERR_get_error_all(nil, nil, nil, &data, &flags)
            if code == 0 { break }
            var text: String
            if ERR_GET_LIB(code) == ERR_LIB_SYS {
                // A system error's reason is the errno value itself.
                text = String(cString: strerror(ERR_GET_REASON(code)))
            } else if let reason = ERR_reason_error_string(code) {
                text = String(cString: reason)
            } else {
                text = "error \(String(code, radix: 16))"
            }
            if flags & ERR_TXT_STRING != 0, let data, data.pointee != 0 {
                text += " (\(String(cString: data)))"
            }
            reasons.append(text)
        }
        ERR_clear_error()
        return reasons
    }
}
