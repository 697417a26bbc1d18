import Testing

@testable import Runner

/// The run-id Bloom filter: no false negatives across its stages, memory that
/// grows only with the ids recorded, and a bounded false-positive rate.
@Suite struct JournalRunIDFilterTests {
    /// Ids shaped like the control plane's (a prefix and a counter).
    static func ids(_ range: Range<Int>, prefix: String = "run-") -> [String] {
        range.map { "\(prefix)\($0)" }
    }

    /// Ids that fill the stages before the last one.
    static let earlyCapacity = RunIDFilter.shapes.dropLast().reduce(0) { $0 + $1.capacity! }

    @Test func emptyFilterHoldsOnlyTheFirstStage() {
        let filter = RunIDFilter()
        #expect(filter.stageCount == 1)
        #expect(filter.byteCount == RunIDFilter.shapes[0].bitCount / 8)
        #expect(filter.byteCount == 16 * 1024)
        #expect(!filter.mightContain("run-1"))
    }

    @Test func stageStartsOnlyWhenThePreviousIsFull() {
        var filter = RunIDFilter()
        let first = RunIDFilter.shapes[0].capacity!
        for id in Self.ids(0..<first) { filter.insert(id) }
        #expect(filter.stageCount == 1)
        filter.insert("run-next")
        #expect(filter.stageCount == 2)
        #expect(
            filter.byteCount == (RunIDFilter.shapes[0].bitCount + RunIDFilter.shapes[1].bitCount)
                / 8)
    }

    @Test func everyInsertedIdIsFoundAcrossAllStages() {
        var filter = RunIDFilter()
        let all = Self.ids(0..<(Self.earlyCapacity + 5_000))
        for id in all { filter.insert(id) }
        #expect(filter.stageCount == RunIDFilter.shapes.count)
        #expect(filter.count == all.count)
        #expect(all.allSatisfy { filter.mightContain($0) })
    }

    @Test func lastStageKeepsTakingIdsWithinTheBound() {
        var filter = RunIDFilter()
        for id in Self.ids(0..<(Self.earlyCapacity + 20_000)) { filter.insert(id) }
        let bound = RunIDFilter.shapes.reduce(0) { $0 + $1.bitCount / 8 }
        #expect(filter.stageCount == RunIDFilter.shapes.count)
        #expect(filter.byteCount == bound)
        #expect(bound < 1_200_000)
    }

    /// Each early stage is sized for 0.1% when full, the last for about 1% at
    /// 870,000 ids; with every stage started and far fewer ids than that, the
    /// rate stays well under 1%.
    @Test(arguments: [1_000, 8_738, 40_000, 120_000])
    func falsePositivesStayUnderOnePercent(recorded: Int) {
        var filter = RunIDFilter()
        for id in Self.ids(0..<recorded) { filter.insert(id) }
        let probes = Self.ids(0..<20_000, prefix: "never-")
        let hits = probes.filter { filter.mightContain($0) }.count
        #expect(hits * 100 < probes.count, "\(hits) false positives in \(probes.count)")
    }

    @Test func startedIDsFillsTheFilterFromTheJournal() throws {
        let dir = JournalTestSupport.makeTempDirectory()
        defer { JournalTestSupport.remove(dir) }
        let path = dir + "/events.jsonl"
        let lines = (0..<3).map { i in
            #"{"seq":\#(i + 1),"time":"t","prev":"p","event":"started","run":"r-\#(i)","x":1}"#
        }
        JournalTestSupport.write(path, Array((lines.joined(separator: "\n") + "\n").utf8))
        let filter = RunHistory.startedIDs(in: JournalSet(path: path))
        #expect(filter.count == 3)
        #expect(["r-0", "r-1", "r-2"].allSatisfy { filter.mightContain($0) })
        #expect(filter.byteCount == 16 * 1024)
    }
}
