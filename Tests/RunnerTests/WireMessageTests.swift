import Testing

@testable import Runner

@MainActor @Suite struct WireMessageTests {
    func decode(_ text: String) -> Result<IncomingMessage, WireError> {
        WireDecoder.decode(Array(text.utf8))
    }

    @Test func decodesARunWithTypedArgsAndRequester() throws {
        let r = try decode(
            #"{"type":"run","run":"r-1","action":"a.b","args":{"n":10,"f":1.5,"s":"x"},"options":{"timeout_s":5},"reason":"why","requester":{"id":"alice","approval":"apr-9"},"extra":true}"#
        ).get()
        guard case .run(let req) = r else {
            Issue.record("not a run")
            return
        }
        #expect(req.id == "r-1")
        #expect(req.origin == .cloud)
        #expect(req.requester == "alice")
        #expect(req.approval == "apr-9")
        #expect(req.args.map(\.name) == ["n", "f", "s"])
        #expect(req.args[0].value == .json(.int(10)))
        #expect(req.args[1].value == .json(.real(1.5)))
        #expect(req.options[0].value == .json(.int(5)))
    }

    @Test(arguments: [
        ("{not json", "malformed_json"),
        (#"[1,2]"#, "invalid_message"),
        (#"{"type":7}"#, "invalid_message"),
        (#"{"type":"launch"}"#, "unknown_type"),
        (#"{"type":"run","action":"a","reason":"r"}"#, "invalid_message"),
        (#"{"type":"run","run":"bad id!","action":"a","reason":"r"}"#, "invalid_message"),
        (#"{"type":"run","run":"r","action":"a"}"#, "invalid_message"),
        (#"{"type":"run","run":"r","action":"a","reason":"r","args":[1]}"#, "invalid_message"),
        (#"{"type":"ack","runs":"r-1"}"#, "invalid_message"),
        (#"{"type":"cancel"}"#, "invalid_message"),
    ])
    func refusesBadMessagesWithACode(_ text: String, _ code: String) {
        guard case .failure(let e) = decode(text) else {
            Issue.record("decoded \(text)")
            return
        }
        #expect(e.code == code)
        #expect(e.json["type"] == "error")
    }

    @Test(arguments: [
        #"{"type":"run","run":"rq-1","action":"a","reason":5}"#,
        #"{"type":"run","run":"rq-1","action":"a","reason":"r","requester":"alice"}"#,
        #"{"type":"run","run":"rq-1","action":"a","reason":"r","requester":{"id":""#
            + String(repeating: "A", count: 300) + #""}}"#,
    ])
    func anErrorAboutARunNamesTheRun(_ text: String) {
        // With several requests in flight the control plane must know which
        // one was refused.
        guard case .failure(let e) = decode(text) else {
            Issue.record("decoded \(text)")
            return
        }
        #expect(e.code == "invalid_message")
        #expect(e.json["run"] == "rq-1")
    }

    @Test func decodesCancelAckAndHeartbeat() throws {
        #expect(try decode(#"{"type":"cancel","run":"r-1"}"#).get() == .cancel(run: "r-1"))
        #expect(try decode(#"{"type":"ack","runs":["a","b"]}"#).get() == .ack(runs: ["a", "b"]))
        #expect(try decode(#"{"type":"heartbeat"}"#).get() == .heartbeat)
    }

    @Test func runIdOverTheLimitIsRefused() {
        let id = String(repeating: "a", count: 129)
        let text = #"{"type":"cancel","run":""# + id + #""}"#
        guard case .failure(let e) = decode(text) else {
            Issue.record("accepted a long id")
            return
        }
        #expect(e.code == "invalid_message")
    }
}
