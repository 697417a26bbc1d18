/// The reconnect delay policy's settings.
nonisolated public struct BackoffPolicy: Sendable, Equatable {
    /// The first window. One second lets a blip heal without waiting long.
    public static let defaultBaseMilliseconds: UInt64 = 1_000
    /// The largest window. A minute bounds how long a runner stays away after
    /// an outage ends, while 50 runners retrying at worst once a minute each
    /// cost a server nothing.
    public static let defaultCapMilliseconds: UInt64 = 60_000
    /// Uptime after which a connection counts as healthy and the attempt
    /// counter resets. 30 s is longer than any accept-then-close loop (a
    /// server that upgrades and at once sends 1013) takes per round.
    public static let defaultStableMilliseconds: UInt64 = 30_000
    /// The floor after a close with 1013 (try again later). Five seconds keeps
    /// a runner from landing back on an overloaded server in the same breath,
    /// without waiting longer than a restart takes.
    public static let defaultTryAgainLaterMilliseconds: UInt64 = 5_000
    /// The longest `Retry-After` honoured: an hour. A larger value is more
    /// likely a server bug than a wish to lose every runner for a day.
    public static let maxRetryAfterMilliseconds: UInt64 = 3_600_000

    /// Window of the first retry.
    public var baseMilliseconds: UInt64
    /// Largest window.
    public var capMilliseconds: UInt64
    /// Uptime that resets the attempt counter.
    public var stableMilliseconds: UInt64
    /// Floor after a close with 1013.
    public var tryAgainLaterMilliseconds: UInt64

    /// A policy; every argument defaults to the constant of the same name.
    public init(
        baseMilliseconds: UInt64 = defaultBaseMilliseconds,
        capMilliseconds: UInt64 = defaultCapMilliseconds,
        stableMilliseconds: UInt64 = defaultStableMilliseconds,
        tryAgainLaterMilliseconds: UInt64 = defaultTryAgainLaterMilliseconds
    ) {
        precondition(
            baseMilliseconds > 0 && capMilliseconds >= baseMilliseconds, "bad backoff policy")
        self.baseMilliseconds = baseMilliseconds
        self.capMilliseconds = capMilliseconds
        self.stableMilliseconds = stableMilliseconds
        self.tryAgainLaterMilliseconds = tryAgainLaterMilliseconds
    }
}

/// What the end of a connection says about when to try again.
nonisolated public enum BackoffHint: Equatable, Sendable {
    /// Nothing special: plain backoff.
    case none
    /// The server closed with 1013: wait at least the policy's floor.
    case tryAgainLater
    /// The server sent `Retry-After` with this many seconds.
    case retryAfter(seconds: Int)
    /// The server refused the credentials: retrying soon cannot help, so the
    /// next wait is the cap.
    case credentialsRejected
}

/// Reconnect delays: exponential with full jitter. Before attempt n (from 0)
/// the delay is uniform in [0, min(cap, base * 2^n)], so runners that lost the
/// same server at the same moment spread over the window instead of
/// returning together. A hint from the last connection adds a floor:
/// the delay is then floor + the jittered draw, honouring the floor while
/// still spreading runners after it.
///
/// The attempt counter resets only when a connection stayed up for the
/// policy's stable time; a handshake that succeeds and is closed at once
/// keeps growing the delay. Pure: time and randomness come from the caller.
nonisolated public struct Backoff<Random: RandomNumberGenerator> {
    /// The settings.
    public let policy: BackoffPolicy
    /// Attempts since the last stable connection.
    public private(set) var attempt = 0
    private var floorMilliseconds: UInt64 = 0
    private var random: Random

    /// A backoff drawing its jitter from `random`.
    public init(policy: BackoffPolicy = BackoffPolicy(), random: Random) {
        self.policy = policy
        self.random = random
    }

    /// The upper end of the jitter window for `attempt`.
    public func window(forAttempt attempt: Int) -> UInt64 {
        // Past 2^40 ms (35 years) every real cap is reached; stopping the
        // shift there keeps it from overflowing.
        let shift = UInt64(min(attempt, 40))
        return min(policy.capMilliseconds, policy.baseMilliseconds << shift)
    }

    /// The delay before the next attempt, in milliseconds; counts the attempt
    /// and uses up any floor.
    public mutating func nextDelay() -> UInt64 {
        let bound = window(forAttempt: attempt)
        // Modulo bias is below 2^-20 for any bound under 2^44: negligible.
        let jitter = random.next() % (bound + 1)
        attempt += 1
        let floor = floorMilliseconds
        floorMilliseconds = 0
        return floor + jitter
    }

    /// A connection ended after `uptimeMilliseconds` open (nil when it never
    /// opened), with `hint` taken from how it ended.
    public mutating func connectionEnded(uptimeMilliseconds: UInt64?, hint: BackoffHint = .none) {
        if let uptime = uptimeMilliseconds, uptime >= policy.stableMilliseconds {
            attempt = 0
        }
        switch hint {
        case .none: break
        case .tryAgainLater: raiseFloor(policy.tryAgainLaterMilliseconds)
        case .retryAfter(let seconds):
            let ms = UInt64(max(0, seconds)).multipliedReportingOverflow(by: 1000)
            raiseFloor(ms.overflow ? BackoffPolicy.maxRetryAfterMilliseconds : ms.partialValue)
        case .credentialsRejected: raiseFloor(policy.capMilliseconds)
        }
    }

    /// Keeps the larger of the current floor and `milliseconds`, up to the
    /// longest `Retry-After` honoured.
    private mutating func raiseFloor(_ milliseconds: UInt64) {
        floorMilliseconds = max(
            floorMilliseconds, min(milliseconds, BackoffPolicy.maxRetryAfterMilliseconds))
    }
}

extension Backoff where Random == SystemRandomNumberGenerator {
    /// A backoff with jitter from the kernel's random source (getrandom), so
    /// every process draws its own sequence.
    public init(policy: BackoffPolicy = BackoffPolicy()) {
        self.init(policy: policy, random: SystemRandomNumberGenerator())
    }
}
