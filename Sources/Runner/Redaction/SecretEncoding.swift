/// The transformed spellings of a literal secret that tools print instead of the
/// raw bytes (case 05): inside a URL, inside a JSON string, or base64-encoded
/// together with neighbouring bytes. Each form has a name for the run event; the
/// bytes themselves are never reported.
nonisolated enum SecretEncoding {
    /// One spelling of a secret.
    struct Form: Equatable {
        /// Encoding name, e.g. `percent-all-upper` or `base64-1`.
        var name: String
        /// The bytes to look for.
        var bytes: [UInt8]
        /// A base64 core: its match is widened over the surrounding base64 run,
        /// whose edge characters carry bits of the secret.
        var base64: Bool
    }

    /// Every derived (non-raw) form of `value`, in a fixed order, duplicates and
    /// forms equal to the raw value removed.
    static func derivedForms(of value: [UInt8]) -> [Form] {
        var forms: [Form] = []
        func add(_ name: String, _ bytes: [UInt8], base64: Bool = false) {
            guard !bytes.isEmpty, bytes != value, !forms.contains(where: { $0.bytes == bytes })
            else { return }
            forms.append(Form(name: name, bytes: bytes, base64: base64))
        }

        add("percent-all-upper", percent(value, onlyReserved: false, upper: true))
        add("percent-all-lower", percent(value, onlyReserved: false, upper: false))
        add("percent-reserved-upper", percent(value, onlyReserved: true, upper: true))
        add("percent-reserved-lower", percent(value, onlyReserved: true, upper: false))
        add("percent-form", formEncoded(value))
        // Python's `quote()` keeps `/` by default; JavaScript's `encodeURI` keeps
        // every character a URL may hold.
        add(
            "percent-path", percent(value, keeping: { isUnreserved($0) || $0 == UInt8(ascii: "/") })
        )
        add("percent-uri", percent(value, keeping: { isUnreserved($0) || isURIKept($0) }))
        for slash in [false, true] {
            let suffix = slash ? "-slash" : ""
            add("json" + suffix, json(value, ascii: false, upper: false, slash: slash))
            add("json-ascii" + suffix, json(value, ascii: true, upper: false, slash: slash))
            add("json-ascii-upper" + suffix, json(value, ascii: true, upper: true, slash: slash))
        }
        add("json-html", json(value, ascii: false, upper: false, slash: false, html: true))
        for alignment in 0..<3 {
            let core = base64Core(value, alignment: alignment)
            add("base64-\(alignment)", core, base64: true)
            add("base64url-\(alignment)", core.map(urlSafe), base64: true)
        }
        return forms
    }

    // MARK: percent-encoding (RFC 3986)

    /// RFC 3986 section 2.3: bytes a URL never needs to encode.
    static func isUnreserved(_ b: UInt8) -> Bool {
        isAlphanumeric(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
            || b == UInt8(ascii: "_") || b == UInt8(ascii: "~")
    }

    /// RFC 3986 section 2.2: gen-delims and sub-delims, plus `%` itself, which
    /// every encoder must escape.
    static func isReserved(_ b: UInt8) -> Bool {
        Array(":/?#[]@!$&'()*+,;=%".utf8).contains(b)
    }

    /// `value` percent-encoded: every byte but the unreserved ones, or (for
    /// encoders that only escape what would break the URL) reserved bytes, space,
    /// controls and non-ASCII only.
    static func percent(_ value: [UInt8], onlyReserved: Bool, upper: Bool) -> [UInt8] {
        percent(value, upper: upper) { b in
            onlyReserved ? !(isReserved(b) || b <= 0x20 || b >= 0x7F) : isUnreserved(b)
        }
    }

    /// Bytes JavaScript's `encodeURI` leaves alone besides the unreserved ones.
    static func isURIKept(_ b: UInt8) -> Bool {
        Array(";,/?:@&=+$!*'()#".utf8).contains(b)
    }

    /// `value` with every byte `keeping` rejects percent-encoded (upper-case hex
    /// unless `upper` is false: Python and JavaScript write upper case).
    static func percent(_ value: [UInt8], upper: Bool = true, keeping: (UInt8) -> Bool)
        -> [UInt8]
    {
        var out: [UInt8] = []
        for b in value {
            if keeping(b) {
                out.append(b)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigit(b >> 4, upper: upper))
                out.append(hexDigit(b & 0x0F, upper: upper))
            }
        }
        return out
    }

    /// HTML form encoding (`application/x-www-form-urlencoded`): space as `+`.
    static func formEncoded(_ value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for b in value {
            if b == UInt8(ascii: " ") {
                out.append(UInt8(ascii: "+"))
            } else {
                out.append(contentsOf: percent([b], onlyReserved: false, upper: true))
            }
        }
        return out
    }

    // MARK: JSON string escaping (RFC 8259 section 7)

    /// `value` as it appears between the quotes of a JSON string: `"` and `\`
    /// escaped, controls as short escapes or `\u00XX`; with `ascii`, non-ASCII as
    /// `\uXXXX` (surrogate pairs above U+FFFF); with `slash`, `/` as `\/`; with
    /// `html`, `<`, `>`, `&`, U+2028 and U+2029 as `\u003c`... (what Go's
    /// `encoding/json` writes by default).
    static func json(
        _ value: [UInt8], ascii: Bool, upper: Bool, slash: Bool, html: Bool = false
    ) -> [UInt8] {
        var out: [UInt8] = []
        func escape(_ unit: UInt16) {
            out.append(contentsOf: Array("\\u".utf8))
            for shift in stride(from: 12, through: 0, by: -4) {
                out.append(hexDigit(UInt8((unit >> UInt16(shift)) & 0x0F), upper: upper))
            }
        }
        for scalar in String(decoding: value, as: UTF8.self).unicodeScalars {
            switch scalar.value {
            case 0x22: out.append(contentsOf: Array("\\\"".utf8))
            case 0x5C: out.append(contentsOf: Array("\\\\".utf8))
            case 0x2F where slash: out.append(contentsOf: Array("\\/".utf8))
            case 0x08: out.append(contentsOf: Array("\\b".utf8))
            case 0x0C: out.append(contentsOf: Array("\\f".utf8))
            case 0x0A: out.append(contentsOf: Array("\\n".utf8))
            case 0x0D: out.append(contentsOf: Array("\\r".utf8))
            case 0x09: out.append(contentsOf: Array("\\t".utf8))
            case 0..<0x20: escape(UInt16(scalar.value))
            case let v where html && [0x3C, 0x3E, 0x26, 0x2028, 0x2029].contains(v):
                escape(UInt16(v))
            case 0x80... where ascii:
                for unit in String(scalar).utf16 { escape(unit) }
            default: out.append(contentsOf: Array(String(scalar).utf8))
            }
        }
        return out
    }

    // MARK: base64 (RFC 4648)

    /// The base64 characters that depend only on `value` when it sits at byte
    /// offset `alignment` (mod 3) of a longer encoded input: characters whose six
    /// bits are partly taken from a neighbouring byte are trimmed, so the core is
    /// found whatever precedes or follows the secret (`1234abcd` inside the
    /// encoding of `1234abcd\n`).
    static func base64Core(_ value: [UInt8], alignment: Int) -> [UInt8] {
        let encoded = base64([UInt8](repeating: 0, count: alignment) + value)
        let firstBit = 8 * alignment
        let endBit = 8 * (alignment + value.count)
        let first = (firstBit + 5) / 6
        let end = endBit / 6
        guard end > first else { return [] }
        return Array(encoded[first..<end])
    }

    /// Standard padded base64.
    static func base64(_ bytes: [UInt8]) -> [UInt8] {
        Array(Base64.encode(bytes).utf8)
    }

    /// True for bytes that can belong to a base64 or base64url run, padding included.
    static func isBase64Character(_ b: UInt8) -> Bool {
        isAlphanumeric(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: "/")
            || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: "=")
    }

    private static func urlSafe(_ b: UInt8) -> UInt8 {
        switch b {
        case UInt8(ascii: "+"): UInt8(ascii: "-")
        case UInt8(ascii: "/"): UInt8(ascii: "_")
        default: b
        }
    }

    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
    }

    private static func hexDigit(_ v: UInt8, upper: Bool) -> UInt8 {
        let digits = upper ? "0123456789ABCDEF" : "0123456789abcdef"
        return Array(digits.utf8)[Int(v)]
    }
}
