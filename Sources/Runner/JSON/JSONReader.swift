import CJansson

/// Why a JSON text could not be read.
nonisolated public struct JSONReadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 1-based line of the problem, as Jansson reports it.
    public var line: Int
    /// 1-based column of the problem.
    public var column: Int
    /// Jansson's description of the problem.
    public var message: String
    /// The text is valid JSON, but holds an integer outside 64 bits.
    public var isNumberOverflow = false

    public var description: String { "line \(line), column \(column): \(message)" }
}

/// Reads JSON through Jansson, which keeps integers and reals apart, keeps key
/// order, rejects duplicate keys and invalid UTF-8.
nonisolated public enum JSONReader {
    /// Parses one JSON value (any type at the top level) from `bytes`.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONReadError) -> JSONValue {
        var error = json_error_t()
        let flags = JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL
        let root: OpaquePointer? = Array(bytes).withUnsafeBufferPointer { buffer in
            buffer.baseAddress.map { base in
                base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    OpaquePointer(json_loadb($0, buffer.count, Int(flags), &error))
                }
            } ?? OpaquePointer(json_loadb("", 0, Int(flags), &error))
        }
        guard let root else {
            let text = withUnsafeBytes(of: error.text) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            throw JSONReadError(
                line: Int(error.line), column: Int(error.column),
                message: JSONReader.withoutQuotedInput(text),
                isNumberOverflow: json_error_code(&error) == json_error_numeric_overflow)
        }
        defer { cjansson_decref(UnsafeMutablePointer(root)) }
        return convert(UnsafeMutablePointer(root))
    }

    /// Parses `text` as JSON.
    public static func parse(_ text: String) throws(JSONReadError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    private static func convert(_ j: UnsafeMutablePointer<json_t>) -> JSONValue {
        switch json_type(rawValue: UInt32(cjansson_typeof(j))) {
        case JSON_OBJECT:
            var object = JSONObject()
            var iter = json_object_iter(j)
            while let it = iter {
                let keyPtr = json_object_iter_key(it)!
                let keyLength = json_object_iter_key_len(it)
                let key = keyPtr.withMemoryRebound(to: UInt8.self, capacity: keyLength) {
                    String(
                        decoding: UnsafeBufferPointer(start: $0, count: keyLength), as: UTF8.self)
                }
                object.appendNew(key: key, value: convert(json_object_iter_value(it)))
                iter = json_object_iter_next(j, it)
            }
            return .object(object)
        case JSON_ARRAY:
            let n = json_array_size(j)
            return .array((0..<n).map { convert(json_array_get(j, $0)) })
        case JSON_STRING:
            let length = json_string_length(j)
            let text = json_string_value(j)!.withMemoryRebound(to: UInt8.self, capacity: length) {
                String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
            }
            return .string(text)
        case JSON_INTEGER: return .int(Int64(json_integer_value(j)))
        case JSON_REAL: return .real(json_real_value(j))
        case JSON_TRUE: return .bool(true)
        case JSON_FALSE: return .bool(false)
        default: return .null
        }
    }
}

nonisolated extension JSONReader {
    /// Jansson's message without the `near '…'` quote of the input: the
    /// position already says where, and the input may be a secret that failed
    /// to parse (an unquoted token).
    static func withoutQuotedInput(_ message: String) -> String {
        let bytes = Array(message.utf8)
        if let at = ByteSearch.firstIndex(of: Array(" near '".utf8), in: bytes) {
            return String(decoding: bytes[..<at], as: UTF8.self)
        }
        return message
    }
}
