import Testing

@testable import Runner

@Suite struct SHA256Tests {
    /// FIPS 180-2 test vectors.
    nonisolated static let vectors: [(input: String, hex: String)] = [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
    ]

    @Test(arguments: vectors)
    func oneShotMatchesPublishedVector(_ vector: (input: String, hex: String)) {
        #expect(SHA256.hex(Array(vector.input.utf8)) == vector.hex)
    }

    @Test func millionAsHashedInPiecesMatchesPublishedVector() {
        let hash = SHA256()
        let piece = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { hash.update(piece) }
        #expect(
            hash.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        )
    }

    @Test func incrementalEqualsOneShotAtEverySplit() {
        let message = Array("disque plein é ✓, long enough to span two SHA-256 blocks ......".utf8)
        let whole = SHA256.digest(message)
        for split in 0...message.count {
            let hash = SHA256()
            hash.update(message[..<split])
            hash.update(message[split...])
            #expect(hash.finalize() == whole, "split at \(split)")
        }
    }

    @Test func digestIsThirtyTwoBytesAndHexIsLowercase() {
        let digest = SHA256.digest(Array("x".utf8))
        #expect(digest.count == SHA256.digestLength)
        let hex = Hex.encode(digest)
        #expect(hex.count == 64 && hex == hex.lowercased())
    }
}
