import Testing

@testable import Runner

private func decode(_ text: String) -> JSONRPCLine { JSONRPCCodec.decode(Array(text.utf8)) }

private func rejected(_ id: JSONRPCID?, _ code: Int64) -> (JSONRPCLine) -> Bool {
    { line in
        guard case .single(.rejected(let r)) = line else { return false }
        return r.id == id && r.error.code == code
    }
}

@Suite struct MCPMessageTests {
    @Test func requestHasItsIdMethodAndParams() {
        #expect(
            decode(#"{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"cursor":"a"}}"#)
                == .single(
                    .message(
                        .request(
                            id: .number(7), method: "tools/list",
                            params: JSONObject([("cursor", "a")])))))
    }

    @Test func messageWithoutIdIsANotification() {
        #expect(
            decode(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
                == .single(
                    .message(.notification(method: "notifications/initialized", params: nil))))
    }

    @Test func messageWithResultOrErrorIsAResponse() {
        #expect(
            decode(#"{"jsonrpc":"2.0","id":"s1","result":{}}"#)
                == .single(.message(.response(id: .string("s1")))))
        #expect(
            decode(#"{"jsonrpc":"2.0","id":3,"error":{"code":1,"message":"x"}}"#)
                == .single(.message(.response(id: .number(3)))))
    }

    nonisolated static let echoedIDs: [(text: String, id: JSONRPCID, wire: String)] = [
        ("0", .number(0), "0"), ("-1", .number(-1), "-1"),
        ("9007199254740993", .number(9_007_199_254_740_993), "9007199254740993"),
        (#""abc""#, .string("abc"), #""abc""#), (#""""#, .string(""), #""""#),
    ]

    @Test(arguments: echoedIDs.indices)
    func idIsEchoedExactly(_ index: Int) {
        let (text, id, wire) = MCPMessageTests.echoedIDs[index]
        #expect(
            decode(#"{"jsonrpc":"2.0","id":\#(text),"method":"ping"}"#)
                == .single(.message(.request(id: id, method: "ping", params: nil))))
        let reply = String(
            decoding: JSONRPCCodec.frame(JSONRPCCodec.result(id, [:])), as: UTF8.self)
        #expect(reply == #"{"jsonrpc":"2.0","id":\#(wire),"result":{}}"# + "\n")
    }

    nonisolated static let invalidRequests: [(text: String, id: JSONRPCID?)] = [
        (#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#, nil),
        (#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#, nil),
        (#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#, nil),
        (#"{"jsonrpc":"1.0","id":2,"method":"ping"}"#, .number(2)),
        (#"{"id":3,"method":"ping"}"#, .number(3)),
        (#"{"jsonrpc":"2.0","id":4,"method":5}"#, .number(4)),
        (#"{"jsonrpc":"2.0","id":5}"#, .number(5)),
        (#"42"#, nil),
        (#""ping""#, nil),
    ]

    @Test(arguments: invalidRequests.indices)
    func malformedRequestIsAnInvalidRequestWithWhatIdCouldBeRead(_ index: Int) {
        let (text, id) = MCPMessageTests.invalidRequests[index]
        #expect(rejected(id, JSONRPCError.invalidRequest)(decode(text)))
    }

    @Test func requestWithParamsNotAnObjectIsInvalidParams() {
        #expect(
            rejected(.number(1), JSONRPCError.invalidParams)(
                decode(#"{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}"#)))
    }

    @Test func nullParamsAreReadAsNoParams() {
        #expect(
            decode(#"{"jsonrpc":"2.0","id":1,"method":"ping","params":null}"#)
                == .single(.message(.request(id: .number(1), method: "ping", params: nil))))
    }

    @Test func brokenNotificationIsDroppedWithoutAReply() {
        for text in [
            #"{"jsonrpc":"2.0","method":"notifications/x","params":[1]}"#,
            #"{"method":"notifications/x"}"#,
            #"{"jsonrpc":"2.0","method":7}"#,
        ] {
            guard case .single(.dropped) = decode(text) else {
                Issue.record("not dropped: \(text)")
                continue
            }
        }
    }

    @Test func arrayIsABatchOfClassifiedItems() {
        guard
            case .batch(let items) = decode(
                #"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"n"},3]"#)
        else {
            Issue.record("not a batch")
            return
        }
        #expect(items.count == 3)
        #expect(items[0] == .message(.request(id: .number(1), method: "ping", params: nil)))
        #expect(items[1] == .message(.notification(method: "n", params: nil)))
        guard case .rejected(let r) = items[2] else {
            Issue.record("3 is not rejected")
            return
        }
        #expect(r.id == nil && r.error.code == JSONRPCError.invalidRequest)
    }

    @Test func emptyArrayIsOneInvalidRequest() {
        guard case .invalid(let e) = decode("[]") else {
            Issue.record("[] accepted")
            return
        }
        #expect(e.code == JSONRPCError.invalidRequest)
    }

    @Test(arguments: [#"{"jsonrpc":"2.0","id":3,"method":"#, "nonsense", #"{"a":1,"a":2}"#])
    func badJSONIsAParseError(_ text: String) {
        guard case .invalid(let e) = decode(text) else {
            Issue.record("parsed: \(text)")
            return
        }
        #expect(e.code == JSONRPCError.parseError)
    }

    @Test(arguments: [
        #"{"jsonrpc":"2.0","id":99999999999999999999999,"method":"ping"}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"n":-99999999999999999999}}"#,
    ])
    func validJSONWithAnIntegerPast64BitsIsAnInvalidRequest(_ text: String) {
        guard case .invalid(let e) = decode(text) else {
            Issue.record("parsed: \(text)")
            return
        }
        #expect(e.code == JSONRPCError.invalidRequest, "\(e.message)")
        #expect(e.message.contains("64 bits"))
    }

    @Test func invalidUTF8IsAParseError() {
        let bytes =
            Array(#"{"jsonrpc":"2.0","id":1,"method":"ping","x":""#.utf8) + [0xFF, 0x22, 0x7D]
        guard case .invalid(let e) = JSONRPCCodec.decode(bytes) else {
            Issue.record("invalid UTF-8 accepted")
            return
        }
        #expect(e.code == JSONRPCError.parseError)
    }

    @Test func framedMessageIsOneLineEvenWhenStringsHoldLineBreaks() {
        let bytes = JSONRPCCodec.frame(
            JSONRPCCodec.result(.number(1), ["text": "a\nb\r\nc\u{2028}"]))
        #expect(bytes.filter { $0 == 0x0A }.count == 1)
        #expect(bytes.last == 0x0A)
        #expect(bytes.filter { $0 == 0x0D }.isEmpty)
    }

    @Test func errorWithoutIdIsWrittenWithNullId() {
        let text = JSONWriter.string(
            JSONRPCCodec.error(nil, JSONRPCError(JSONRPCError.parseError, "parse error")))
        #expect(
            text == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}"#)
    }
}
