/// The version `cable --version` prints: the latest released version in CHANGELOG.md
/// (`CableCLITests` checks that the two agree).
enum CableVersion {
    static let current = "0.1.0"
}
