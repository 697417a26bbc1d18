/// ward's own version, advertised in `state`, the hello and `ward version`.
nonisolated public enum WardVersion {
    /// Semantic version of this build.
    public static let current = "0.1.0"
}
