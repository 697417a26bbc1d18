import Testing

@testable import Runner

/// Case 18's delay policy: exponential with full jitter, reset only after a
/// stable connection, floors from 1013, Retry-After and refused credentials.
@Suite struct WebSocketBackoffTests {
    @Test(arguments: [
        (0, UInt64(1_000)), (1, 2_000), (2, 4_000), (3, 8_000), (4, 16_000), (5, 32_000),
        (6, 60_000),
        (7, 60_000), (64, 60_000), (10_000, 60_000),
    ])
    func windowDoublesUpToTheCap(attempt: Int, window: UInt64) {
        let backoff = Backoff(random: SplitMix64(seed: 1))
        #expect(backoff.window(forAttempt: attempt) == window)
    }

    // Expected values computed independently (a Python SplitMix64 and
    // `next() % (window + 1)`).
    @Test(arguments: [
        (UInt64(42), [152, 1888, 1208, 7947, 12562, 1908, 22400, 51996, 31900, 13198] as [UInt64]),
        (UInt64(7), [310, 1650, 2921, 4497, 8786, 7437, 4039, 56343, 20690, 58142] as [UInt64]),
    ])
    func seededDelaysMatchTheTable(seed: UInt64, delays: [UInt64]) {
        var backoff = Backoff(random: SplitMix64(seed: seed))
        #expect((0..<10).map { _ in backoff.nextDelay() } == delays)
    }

    @Test func delaysStayInsideTheirWindow() {
        var backoff = Backoff()
        for attempt in 0..<200 {
            #expect(backoff.nextDelay() <= backoff.window(forAttempt: attempt))
        }
    }

    @Test func refusedConnectionsTryAboutSevenToTwelveTimesInTwoMinutes() {
        // Case 18 S1: TCP refused for 120 s. Not 40 attempts (a flat 3 s).
        for seed in UInt64(1)...50 {
            var backoff = Backoff(random: SplitMix64(seed: seed))
            var elapsed: UInt64 = 0
            var attempts = 0
            while true {
                let delay = backoff.nextDelay()
                backoff.connectionEnded(uptimeMilliseconds: nil)
                if elapsed + delay > 120_000 { break }
                elapsed += delay
                attempts += 1
            }
            #expect((7...12).contains(attempts), "seed \(seed): \(attempts) attempts")
        }
    }

    @Test func shortLivedConnectionsDoNotResetTheCounter() {
        // Case 18 S2: upgrade succeeds, then 1013 at once; the counter grows.
        var backoff = Backoff(random: SplitMix64(seed: 3))
        for expected in 1...5 {
            _ = backoff.nextDelay()
            backoff.connectionEnded(uptimeMilliseconds: 10, hint: .tryAgainLater)
            #expect(backoff.attempt == expected)
        }
        backoff.connectionEnded(uptimeMilliseconds: BackoffPolicy.defaultStableMilliseconds - 1)
        #expect(backoff.attempt == 5)
        backoff.connectionEnded(uptimeMilliseconds: BackoffPolicy.defaultStableMilliseconds)
        #expect(backoff.attempt == 0)
    }

    @Test(arguments: [
        (BackoffHint.tryAgainLater, BackoffPolicy.defaultTryAgainLaterMilliseconds),
        (BackoffHint.retryAfter(seconds: 20), UInt64(20_000)),
        (.credentialsRejected, BackoffPolicy.defaultCapMilliseconds),
        (.retryAfter(seconds: 1_000_000), BackoffPolicy.maxRetryAfterMilliseconds),
        (.retryAfter(seconds: Int.max), BackoffPolicy.maxRetryAfterMilliseconds),
    ])
    func hintSetsAFloorForTheNextDelayOnly(hint: BackoffHint, floor: UInt64) {
        for seed in UInt64(1)...20 {
            var backoff = Backoff(random: SplitMix64(seed: seed))
            backoff.connectionEnded(uptimeMilliseconds: nil, hint: hint)
            let delay = backoff.nextDelay()
            #expect(
                delay >= floor && delay <= floor + backoff.window(forAttempt: 0), "seed \(seed)")
            #expect(backoff.nextDelay() <= backoff.window(forAttempt: 1), "seed \(seed)")
        }
    }

    @Test func runnersThatLostTheSameServerSpreadOverTheWindow() {
        // Case 18 S5: 50 runners each with their own random source.
        let delays = (UInt64(1)...50).map { seed -> UInt64 in
            var backoff = Backoff(random: SplitMix64(seed: seed))
            backoff.connectionEnded(uptimeMilliseconds: 45_000)
            return backoff.nextDelay()
        }
        #expect(Set(delays).count >= 45)
        #expect(delays.max()! - delays.min()! >= 500)
        let within100ms = delays.filter { $0 < delays.min()! + 100 }.count
        #expect(within100ms < 25)
    }

    @Test(arguments: [
        (
            WebSocketEnd.handshakeFailed(.authenticationFailed(status: 401, reason: "")),
            BackoffHint.credentialsRejected
        ),
        (
            .handshakeFailed(.unexpectedStatus(status: 503, reason: "", retryAfterSeconds: 20)),
            .retryAfter(seconds: 20)
        ),
        (
            .handshakeFailed(.unexpectedStatus(status: 502, reason: "", retryAfterSeconds: nil)),
            BackoffHint.none
        ),
        (.serverClosed(code: 1013, reason: ""), .tryAgainLater),
        (.serverClosed(code: 1012, reason: ""), BackoffHint.none),
        (.clientClosed(code: 1000, serverCode: 1013, answered: true), .tryAgainLater),
        (.transportLost("reset"), BackoffHint.none),
        (.noPong, BackoffHint.none),
    ])
    func endsMapToHints(end: WebSocketEnd, hint: BackoffHint) {
        #expect(end.backoffHint == hint)
    }
}
