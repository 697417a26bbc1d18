import CUV

/// Serialises `JSONValue` to compact UTF-8 bytes in one canonical form: members
/// in their stored order, no spaces, integers without a fraction, strings with
/// only the escapes JSON requires. The journal hashes exactly these bytes.
nonisolated public enum JSONWriter {
    /// The compact serialisation of `value`.
    public static func bytes(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        // Sized up front: a large message (a tool call's 16 MiB of output)
        // would otherwise pass through every doubling, holding the old and
        // the new buffer at once at each.
        out.reserveCapacity(max(256, estimatedSize(value)))
        write(value, into: &out)
        return out
    }

    /// About the compact serialisation's size: exact for ASCII text needing
    /// no escapes, a little short otherwise (the buffer then grows once).
    static func estimatedSize(_ value: JSONValue) -> Int {
        switch value {
        case .null, .bool, .int, .real: 24
        case .string(let s): s.utf8.count + s.utf8.count / 32 + 2
        case .array(let items): items.reduce(2) { $0 + estimatedSize($1) + 1 }
        case .object(let object):
            object.members.reduce(2) { $0 + $1.key.utf8.count + 4 + estimatedSize($1.value) }
        }
    }

    /// The compact serialisation of `value` as a String.
    public static func string(_ value: JSONValue) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    /// A human-friendly rendering with two-space indentation, for terminals.
    public static func pretty(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        writePretty(value, indent: 0, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the compact serialisation of `value` to `out`.
    public static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .real(let d): writeReal(d, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (i, member) in object.members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(member.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Appends `s` as a JSON string literal. Control characters become `\uXXXX`
    /// (or their short escapes); everything else is written as raw UTF-8.
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = s
        text.withUTF8 { bytes in
            guard var cursor = bytes.baseAddress else { return }
            var left = bytes.count
            while left > 0 {
                let plain = cuv_json_plain_prefix(cursor, left)
                if plain > 0 {
                    out.append(contentsOf: UnsafeBufferPointer(start: cursor, count: plain))
                    cursor += plain
                    left -= plain
                }
                guard left > 0 else { break }
                escape(cursor.pointee, into: &out)
                cursor += 1
                left -= 1
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends the escape of one byte that cannot stand in a JSON string.
    private static func escape(_ byte: UInt8, into out: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
        case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
        case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
        case 0x00..<0x20, 0x7F:
            out.append(contentsOf: Array("\\u00".utf8))
            out.append(hexDigit(byte >> 4))
            out.append(hexDigit(byte & 0x0F))
        default: out.append(byte)
        }
    }

    private static func hexDigit(_ v: UInt8) -> UInt8 {
        v < 10 ? UInt8(ascii: "0") + v : UInt8(ascii: "a") + v - 10
    }

    private static func writeReal(_ d: Double, into out: inout [UInt8]) {
        // JSON has no NaN or infinity; ward never produces them, so null is the
        // honest rendering if one ever arrives.
        guard d.isFinite else {
            out.append(contentsOf: "null".utf8)
            return
        }
        out.append(contentsOf: d.description.utf8)
    }

    private static func writePretty(_ value: JSONValue, indent: Int, into out: inout [UInt8]) {
        func pad(_ n: Int, _ out: inout [UInt8]) {
            out.append(contentsOf: [UInt8](repeating: 0x20, count: n))
        }
        switch value {
        case .array(let items) where !items.isEmpty:
            out.append(contentsOf: "[\n".utf8)
            for (i, item) in items.enumerated() {
                pad(indent + 2, &out)
                writePretty(item, indent: indent + 2, into: &out)
                out.append(contentsOf: (i + 1 < items.count ? ",\n" : "\n").utf8)
            }
            pad(indent, &out)
            out.append(UInt8(ascii: "]"))
        case .object(let object) where object.count > 0:
            out.append(contentsOf: "{\n".utf8)
            for (i, member) in object.members.enumerated() {
                pad(indent + 2, &out)
                writeString(member.key, into: &out)
                out.append(contentsOf: ": ".utf8)
                writePretty(member.value, indent: indent + 2, into: &out)
                out.append(contentsOf: (i + 1 < object.count ? ",\n" : "\n").utf8)
            }
            pad(indent, &out)
            out.append(UInt8(ascii: "}"))
        default:
            write(value, into: &out)
        }
    }
}
