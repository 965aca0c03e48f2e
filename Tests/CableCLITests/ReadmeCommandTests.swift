import CableTestSupport
import Foundation
import Testing

/// The README's `swift run cable …` lines run as written, through the built binary: every one that
/// needs no phone (decode, qr, --version, --help, and the relay until it is listening).
@Suite(.serialized, .timeLimit(.minutes(3))) struct ReadmeCommandTests {
    /// `swift run cable …` lines of the README's shell blocks, continuation lines joined and
    /// trailing `# comments` dropped, as argument lists after `cable`.
    static func cableCommands(inMarkdown text: String) -> [[String]] {
        var commands: [[String]] = []
        var inShell = false
        var pending = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("```") {
                inShell = !inShell && line == "```sh"
                continue
            }
            guard inShell else { continue }
            pending += (pending.isEmpty ? "" : " ") + line
            if pending.hasSuffix("\\") {
                pending.removeLast()
                continue
            }
            let words = Self.shellWords(pending)
            pending = ""
            if words.count >= 3, words[0] == "swift", words[1] == "run", words[2] == "cable" {
                commands.append(Array(words.dropFirst(3)))
            }
        }
        return commands
    }

    /// Splits a shell line into words: single and double quotes group, `#` at a word start ends the line.
    static func shellWords(_ line: String) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character?
        for c in line {
            if let q = quote {
                if c == q { quote = nil } else { word.append(c) }
            } else if c == "'" || c == "\"" {
                quote = c
                inWord = true
            } else if c == " " || c == "\t" {
                if inWord { words.append(word) }
                word = ""
                inWord = false
            } else if c == "#", !inWord {
                break
            } else {
                word.append(c)
                inWord = true
            }
        }
        if inWord { words.append(word) }
        return words
    }

    static let readmeCommands: [[String]] = {
        (try? Repository.text("README.md")).map(Self.cableCommands(inMarkdown:)) ?? []
    }()

    @Test func theParserJoinsContinuationsAndDropsComments() {
        let text = """
            ```sh
            swift run cable decode 'FIDO:/12 3'   # a comment
            swift run cable register --user alice \\
                --allow-aaguid x  # more
            make test
            ```
            ```swift
            swift run cable qr
            ```
            """
        #expect(
            Self.cableCommands(inMarkdown: text) == [
                ["decode", "FIDO:/12 3"], ["register", "--user", "alice", "--allow-aaguid", "x"],
            ]
        )
    }

    @Test func theReadmeShowsTheCommandsANewcomerRunsFirst() {
        let names = Set(Self.readmeCommands.compactMap(\.first))
        for expected in ["decode", "qr", "--version", "--help", "relay", "register", "phone", "sign-in"] {
            #expect(names.contains(expected), "README has no `swift run cable \(expected)` line")
        }
    }

    /// The lines that finish on their own and need no phone; each must exit 0 and print something.
    @Test(
        arguments: ReadmeCommandTests.readmeCommands.filter {
            ["decode", "qr", "--version", "--help"].contains($0.first ?? "")
        }
    )
    func aReadmeCommandThatNeedsNoPhoneRunsAsWritten(_ arguments: [String]) async throws {
        let cable = try CableProcess(arguments)
        let status = try await cable.waitForExit()
        #expect(status == 0, "cable \(arguments.joined(separator: " ")) exited \(status): \(cable.stderr.suffix(3))")
        #expect(!cable.stdout.isEmpty)
        if arguments.first == "decode" {
            #expect(cable.stdout.contains { $0.hasPrefix("public key") })
        }
    }

    @Test func theReadmeRelayLineListensAndStopsCleanly() async throws {
        let relayLines = Self.readmeCommands.filter { $0.first == "relay" && $0.contains("0") }
        let arguments = try #require(relayLines.first, "README has no `swift run cable relay --port 0` line")
        let relay = try CableProcess(arguments)
        let line = try await relay.waitForLine(startingWith: "listening on ")
        #expect(line.hasPrefix("listening on ws://127.0.0.1:"))
        relay.interrupt()
        #expect(try await relay.waitForExit() == 0)
    }
}
