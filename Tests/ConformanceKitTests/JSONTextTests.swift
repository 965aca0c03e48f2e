import CableProtocol
import CableTestSupport
import CableTunnelTestSupport
import Foundation
import Testing

/// The package's one JSON string quoter (`JSONText.quoted`, behind `cable --json` and the kit's
/// `--json` report) read back by another author's parser: CPython's `json.loads`, which rejects raw
/// control characters in strings (strict mode) and so also proves the checker.
@Suite struct JSONTextTests {
    static let hostile: [String] = [
        "",
        "\"",
        "\\",
        "\\u0000 is text, not an escape",
        String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar($0)! })),
        "\u{7F}\u{85}\u{A0}",
        "line\u{2028}paragraph\u{2029}end",
        "😀 𝄞 \u{10FFFF}",
        "\u{FEFF}bom \u{FFFE}",
        "a\"b\\c\nd\re\tf\u{8}\u{C}",
        "</script><!-- \"'",
        "é" + String(repeating: "\\\"", count: 50),
    ]

    /// Python's reading of a JSON document: each string of the top-level array as UTF-8 hex, or
    /// `error: …` when `json.loads` refuses the document.
    static func pythonReads(_ document: String) async throws -> [String] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("json-\(UUID().uuidString).json")
        try Data(document.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = """
            import json, sys
            try:
                values = json.loads(open(sys.argv[1], encoding="utf-8").read())
            except ValueError as e:
                print("error: %s" % e)
                sys.exit(0)
            for v in values:
                print(v.encode("utf-8").hex())
            """
        // Awaited, not waited for: a blocked cooperative thread would stall the other tests.
        let data = try await ChildProcess.run(try PythonTool.requireInterpreter(), ["-c", script, file.path]).stdout
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast().map(String.init)
    }

    @Test func pythonReadsBackEveryHostileString() async throws {
        let literals = Self.hostile.map(JSONText.quoted)
        for literal in literals {
            // Nothing a line-oriented reader or a JavaScript string literal would break on.
            #expect(!literal.unicodeScalars.contains { $0.value < 0x20 || $0 == "\u{2028}" || $0 == "\u{2029}" })
        }
        let read = try await Self.pythonReads("[" + literals.joined(separator: ", ") + "]")
        #expect(read == Self.hostile.map { Array($0.utf8).map { String(format: "%02x", $0) }.joined() })
    }

    /// The checker is proven: a quoter that left a control character raw, or forgot to escape a
    /// quote, is caught by Python's parser.
    @Test func pythonRefusesWhatABrokenQuoterWrites() async throws {
        for broken in [
            "[\"raw \u{01} control\"]", "[\"raw\nnewline\"]", "[\"unescaped \" quote\"]", "[\"lone \\ slash\"]",
        ] {
            let read = try await Self.pythonReads(broken)
            #expect(read.count == 1 && read[0].hasPrefix("error: "), "\(broken.debugDescription): \(read)")
        }
    }
}
