/// A Bloom filter of run ids: "certainly never started here", in memory that
/// grows with the ids recorded instead of being paid up front.
///
/// It is a short chain of stages, each a plain Bloom filter eight times the
/// size of the one before: 16 KiB, 128 KiB, then 1 MiB. New ids go into the
/// newest stage; a lookup asks every stage. The first two stages hold 15 bits
/// an id with 10 probes (false positives near 0.1% when full), and the next
/// stage starts when one is full, so a runner with a few thousand recorded runs
/// holds 16 KiB where a fixed filter would hold 1 MiB. The last stage is the
/// old fixed filter (2^23 bits, 7 probes: near 1% up to about 870,000 ids,
/// more than the default retained journal holds; past that the rate grows
/// smoothly), and never hands on. The whole filter is bounded at 1.14 MiB. A
/// false positive costs one exact scan of the journal, never a refusal, so the
/// filter only has to be cheap, not perfect.
nonisolated public struct RunIDFilter: Sendable {
    /// One stage's size and shape.
    struct Shape: Sendable {
        /// Bits in the stage; a power of two, so a probe is a mask.
        var bitCount: Int
        /// Probes per id.
        var probes: Int
        /// Ids the stage takes before the next one starts; nil for the last.
        var capacity: Int?
    }

    /// The stages, smallest first. 15 bits an id with 10 probes is the
    /// optimum for a 0.1% false-positive rate; the last stage keeps the
    /// filter's original size and shape, so a long journal sees the old rate.
    static let shapes = [
        Shape(bitCount: 1 << 17, probes: 10, capacity: (1 << 17) / 15),
        Shape(bitCount: 1 << 20, probes: 10, capacity: (1 << 20) / 15),
        Shape(bitCount: 1 << 23, probes: 7, capacity: nil),
    ]

    /// One plain Bloom filter of the chain.
    struct Stage: Sendable {
        let shape: Shape
        var words: [UInt64]
        var count = 0

        init(_ shape: Shape) {
            self.shape = shape
            words = [UInt64](repeating: 0, count: shape.bitCount / 64)
        }

        /// True while the stage takes new ids.
        var hasRoom: Bool { shape.capacity.map { count < $0 } ?? true }

        mutating func insert(_ hashes: (UInt64, UInt64)) {
            let mask = UInt64(shape.bitCount - 1)
            for i in 0..<shape.probes {
                let bit = Int((hashes.0 &+ UInt64(i) &* hashes.1) & mask)
                words[bit >> 6] |= 1 << UInt64(bit & 63)
            }
            count += 1
        }

        func mightContain(_ hashes: (UInt64, UInt64)) -> Bool {
            let mask = UInt64(shape.bitCount - 1)
            for i in 0..<shape.probes {
                let bit = Int((hashes.0 &+ UInt64(i) &* hashes.1) & mask)
                if words[bit >> 6] & (1 << UInt64(bit & 63)) == 0 { return false }
            }
            return true
        }
    }

    /// The stages started so far, oldest (smallest) first; never empty.
    private var stages = [Stage(RunIDFilter.shapes[0])]
    /// Ids inserted (duplicates counted again).
    public private(set) var count = 0

    /// An empty filter.
    public init() {}

    /// Bytes held by the stages' bits: what the filter costs in memory.
    public var byteCount: Int { stages.reduce(0) { $0 + $1.words.count * 8 } }

    /// Stages started so far.
    var stageCount: Int { stages.count }

    /// Adds `id`.
    public mutating func insert(_ id: String) {
        if !stages[stages.count - 1].hasRoom {
            stages.append(Stage(Self.shapes[stages.count]))
        }
        stages[stages.count - 1].insert(Self.hashes(id))
        count += 1
    }

    /// False when `id` was certainly never inserted.
    public func mightContain(_ id: String) -> Bool {
        let hashes = Self.hashes(id)
        return stages.contains { $0.mightContain(hashes) }
    }

    /// Two independent 64-bit FNV-1a hashes (different offset bases) for
    /// double hashing; the second is forced odd so probes never repeat.
    private static func hashes(_ id: String) -> (UInt64, UInt64) {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x8422_2325_cbf2_9ce4
        for byte in id.utf8 {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return (a, b | 1)
    }
}
