/// One run the link has accepted: its outbox, and its result until the
/// control plane acknowledges it.
final class CloudRun {
    /// The run's id.
    let id: String
    /// `run.output` messages sent so far; the next one is `frame + 1`.
    var frame = 0
    /// What still has to go out, in order.
    var outbox: RunOutbox
    /// The `run.finished` message, once the run ended.
    var result: JSONValue?
    /// Whether the result went into a connection (which may have died since).
    var resultSent = false

    init(id: String, lineLimit: Int) {
        self.id = id
        self.outbox = RunOutbox(lineLimit: lineLimit)
    }

    /// After a reconnect: a result sent into the old connection goes again.
    func requeueResult() {
        guard let result, resultSent else { return }
        resultSent = false
        outbox.append(message: JSONWriter.bytes(result), isResult: true)
    }
}

extension CloudLink {
    /// Most replies (refusals, replayed results, errors) held while the link
    /// is down; they need no acknowledgement, and a refused id may be sent
    /// again, so past this the oldest are dropped with a warning.
    static let maxPendingReplies = 256

    // MARK: - Requests

    /// One text message from the control plane.
    func received(_ bytes: [UInt8]) {
        switch WireDecoder.decode(bytes) {
        case .failure(let error):
            logger.warn(
                "message from the control plane refused",
                [("code", error.code), ("error", error.message)])
            reply(error.json)
        case .success(.run(let request)): handleRun(request)
        case .success(.plan(let request)):
            engine.plan(request) { [weak self] result, head in
                guard let self else { return }
                switch result {
                case .success(let plan): self.reply(WireEncoder.planResult(plan))
                case .failure(let refusal):
                    self.reply(WireEncoder.planRefused(runID: request.id, refusal, head: head))
                }
            }
        case .success(.cancel(let id)):
            if engine.cancel(runID: id) {
                logger.info("run cancelled by the control plane", [("run.id", id)])
            } else {
                reply(
                    WireError(
                        code: "unknown_run", message: "no run \(id) is in flight", ref: "cancel"
                    ).json)
            }
        case .success(.ack(let ids)): acknowledge(ids)
        case .success(.heartbeat): return
        }
    }

    /// At most once per run id: an id seen before is answered from what was
    /// recorded, never run again.
    func handleRun(_ request: RunRequest) {
        let id = request.id
        if let run = runs[id] {
            if let result = run.result {
                logger.info("run id already finished here, result sent again", [("run.id", id)])
                reply(Self.markedReplayed(result))
            } else {
                engine.refuse(
                    request, Refusal(.duplicateRun, "run \(id) is already in flight"), sink: self)
            }
            return
        }
        if lookups.contains(id) {
            engine.refuse(
                request, Refusal(.duplicateRun, "run \(id) is already being looked up"),
                sink: self)
            return
        }
        guard history.mightContain(id) else {
            engine.submit(request, sink: self)
            return
        }
        lookUp(request)
    }

    /// The filter says the journal may hold `request`'s id: scan it off the
    /// loop thread, then replay, refuse, or (a false positive) run.
    func lookUp(_ request: RunRequest) {
        let id = request.id
        lookups.insert(id)
        let files = runtime.journal.files
        do {
            try work.submit({ RunHistory.lookup(id, in: files) }) { [weak self] record in
                guard let self else { return }
                self.lookups.remove(id)
                self.settleLookup(request, record)
            }
        } catch {
            // The pool refused the job: scan here rather than guess.
            lookups.remove(id)
            settleLookup(request, RunHistory.lookup(id, in: files))
        }
    }

    func settleLookup(_ request: RunRequest, _ record: RecordedRun) {
        let id = request.id
        if record.ended != nil {
            logger.info("run id already in the journal, recorded result sent", [("run.id", id)])
            reply(WireEncoder.replayed(record, runID: id))
        } else if record.started != nil {
            engine.refuse(
                request,
                Refusal(
                    .duplicateRun,
                    "run \(id) was started before and its end is not recorded; it is not run again"
                ), sink: self)
        } else {
            engine.submit(request, sink: self)
        }
        finishShutdownIfIdle()
    }

    /// The control plane stored these results: forget them.
    func acknowledge(_ ids: [String]) {
        var forgotten = Set<String>()
        for id in ids {
            guard let run = runs[id], run.result != nil else { continue }
            runs[id] = nil
            forgotten.insert(id)
        }
        if !forgotten.isEmpty { order.removeAll { forgotten.contains($0) } }
        // A shutdown may be waiting for these.
        finishShutdownIfIdle()
    }

    /// `result` with `"replayed":true`.
    static func markedReplayed(_ result: JSONValue) -> JSONValue {
        guard case .object(var o) = result else { return result }
        o["replayed"] = true
        return .object(o)
    }

    // MARK: - Sending

    /// Sends a reply that needs no acknowledgement, or holds it for the next
    /// connection.
    func reply(_ message: JSONValue) {
        let bytes = JSONWriter.bytes(message)
        if pendingReplies.isEmpty && send(bytes: bytes) { return }
        pendingReplies.append(bytes)
        if pendingReplies.count > Self.maxPendingReplies {
            pendingReplies.removeFirst()
            logger.warn("reply dropped: too many held while the link is down")
        }
    }

    /// Sends what the outboxes hold, oldest run first, while the websocket
    /// takes it. Children are paused while anything is left over.
    func flush() {
        guard phase == .open || phase == .closing, let client else { return }
        while let first = pendingReplies.first {
            guard client.isWritable, send(bytes: first) else {
                engine.outputPaused = true
                return
            }
            pendingReplies.removeFirst()
        }
        for id in order {
            guard let run = runs[id] else { continue }
            if !drain(run, client) {
                engine.outputPaused = true
                return
            }
        }
        engine.outputPaused = false
        finishShutdownIfIdle()
    }

    /// Sends `run`'s outbox; false when the websocket filled up first.
    func drain(_ run: CloudRun, _ client: WebSocketClient) -> Bool {
        while true {
            guard client.isWritable else { return false }
            let next = run.outbox.first
            var gapFirst = false
            switch next {
            case .line?, .message(_, isResult: true)?, nil: gapFirst = run.outbox.droppedLines > 0
            case .message(_, isResult: false)?: gapFirst = false
            }
            if gapFirst {
                let (lines, bytes) = (run.outbox.droppedLines, run.outbox.droppedBytes)
                guard
                    send(
                        WireEncoder.dropped(
                            runID: run.id, lines: lines, bytes: bytes, reason: "buffer"))
                else { return false }
                _ = run.outbox.takeDropped()
                continue
            }
            switch next {
            case nil: return true
            case .message(let bytes, let isResult)?:
                guard send(bytes: bytes) else { return false }
                run.outbox.removeFront(1)
                if isResult {
                    run.resultSent = true
                    // Nothing follows the result; its lines' buffer can go.
                    run.outbox.releaseSpareCapacity()
                }
            case .line?:
                let count = run.outbox.frontLineCount(
                    maxLines: WireEncoder.maxOutputBatchLines,
                    maxBytes: WireEncoder.maxOutputBatchBytes)
                // The lines go from the outbox straight into the frame.
                let prefix = WireEncoder.outputPrefix(runID: run.id, frame: run.frame + 1)
                let sent = run.outbox.withFrontLines(count) { lines in
                    prefix.withUnsafeBytes { head in
                        WireEncoder.outputSuffix.withUnsafeBytes { tail in
                            send(parts: [head, lines, tail])
                        }
                    }
                }
                guard sent else { return false }
                run.frame += 1
                run.outbox.removeFront(count)
            }
        }
    }

    /// Keeps at most `maxUnacknowledged` finished runs, forgetting the oldest.
    func boundUnacknowledged() {
        let finished = order.filter { runs[$0]?.result != nil }
        guard finished.count > Self.maxUnacknowledged else { return }
        let excess = Set(finished.prefix(finished.count - Self.maxUnacknowledged))
        for id in excess { runs[id] = nil }
        order.removeAll { excess.contains($0) }
        logger.warn(
            "unacknowledged results forgotten (the journal keeps them)",
            [("runs", String(excess.count))])
    }
}

extension CloudLink: RunSink {
    public func runStarted(_ run: RunInfo) {
        let cloudRun = CloudRun(
            id: run.id,
            lineLimit: RunOutbox.lineLimit(maxConcurrentRuns: engine.settings.maxConcurrentRuns))
        runs[run.id] = cloudRun
        order.append(run.id)
        history.insert(run.id)
        cloudRun.outbox.append(message: JSONWriter.bytes(WireEncoder.accepted(run)))
        flush()
    }

    public func runOutput(_ run: RunInfo, _ lines: [OutputLine]) {
        guard let cloudRun = runs[run.id] else { return }
        // Lines are dropped for room only while the link is down; while it
        // is up, pausing the children bounds the outbox.
        let linkUp = phase == .open || phase == .closing
        cloudRun.outbox.append(lines: lines, dropping: !linkUp)
        if phase == .open, client?.isWritable == true {
            flush()
        }
    }

    public func runOutputDropped(_ run: RunInfo, _ gap: OutputCap.Gap) {
        guard let cloudRun = runs[run.id] else { return }
        cloudRun.outbox.append(
            message: JSONWriter.bytes(
                WireEncoder.dropped(
                    runID: run.id, lines: gap.lines, bytes: gap.bytes, reason: "cap")))
    }

    public func runRefused(_ request: RunRequest, _ refusal: Refusal, journal: JournalHead?) {
        reply(WireEncoder.refused(runID: request.id, refusal, head: journal))
        finishShutdownIfIdle()
    }

    public func runFinished(_ run: RunInfo, _ result: RunResult) {
        guard let cloudRun = runs[run.id] else { return }
        let message = WireEncoder.finished(result)
        cloudRun.result = message
        cloudRun.outbox.append(message: JSONWriter.bytes(message), isResult: true)
        boundUnacknowledged()
        flush()
        finishShutdownIfIdle()
    }
}
