extension OutputLine {
    /// The line as faces send it: `{"stream","seq","text","eol"}`, plus the
    /// redaction count when a rule fired and `invalid_utf8` when bytes were replaced.
    public var json: JSONValue {
        var o = JSONObject()
        o["stream"] = .string(stream.rawValue)
        o["seq"] = .int(Int64(seq))
        o["text"] = .string(text)
        o["eol"] = .string(eol.rawValue)
        if redactions > 0 { o["redactions"] = .int(Int64(redactions)) }
        if invalidUTF8 { o["invalid_utf8"] = .bool(true) }
        return .object(o)
    }
}
