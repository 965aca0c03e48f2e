import CableTestSupport
import Foundation
import Testing

/// `cable --version` prints the latest released version of CHANGELOG.md.
@Suite(.timeLimit(.minutes(1))) struct VersionTests {
    /// The first `## [X.Y.Z]` heading of a Keep-a-Changelog file (skipping `[Unreleased]`).
    static func latestRelease(inChangelog text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix("## [") {
            let inside = line.dropFirst(4).prefix { $0 != "]" }
            if inside.lowercased() != "unreleased" { return String(inside) }
        }
        return nil
    }

    @Test func theChangelogParserFindsTheFirstReleaseAfterUnreleased() {
        #expect(
            Self.latestRelease(inChangelog: "# C\n## [Unreleased]\n### Added\n## [2.3.4] - 2026-01-01\n## [2.3.3]\n")
                == "2.3.4"
        )
        #expect(Self.latestRelease(inChangelog: "# C\n## [Unreleased]\n") == nil)
    }

    @Test func versionFlagPrintsTheLatestReleaseOfTheChangelog() async throws {
        let changelog = try Repository.text("CHANGELOG.md")
        let released = try #require(Self.latestRelease(inChangelog: changelog))
        #expect(released.split(separator: ".").count == 3 && released.allSatisfy { $0.isNumber || $0 == "." })
        let cable = try CableProcess(["--version"])
        #expect(try await cable.waitForExit() == 0)
        #expect(cable.stdout == [released])
    }
}
