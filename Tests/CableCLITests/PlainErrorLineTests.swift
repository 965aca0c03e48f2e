import CableTestSupport
import Foundation
import Testing

/// Malformed input through the `cable` binary: each failure is exactly one known `error:` line, built
/// from the typed errors' fields at their source (no filter scrubs code names out afterwards), with no
/// internal identifiers, and with `--json` the same text in the failure object.
@Suite(.serialized, .timeLimit(.minutes(3))) struct PlainErrorLineTests {
    /// Runs `cable arguments` (adding `--json`), expects failure, checks the line against `expected`
    /// exactly and the failure object's step against `step`.
    static func expectLine(_ arguments: [String], _ expected: String, step: String) async throws {
        let (error, last) = try await FailureOutputTests.failing(arguments + ["--json"])
        #expect(error == "error: " + expected)
        let object = try FailureOutputTests.failureObject(last, errorLine: error)
        #expect(object["step"] as? String == step)
    }

    /// The digits decode to bytes that are not canonical CBOR: the rule is said in words, where the
    /// old reasons printed the decoder's code names (`incompleteData`, `nonMinimalEncoding`).
    @Test(arguments: [
        ("FIDO:/123", "the data ends in the middle of an item at offset 1"),  // 0x7B: a 27-byte text, then nothing
        ("FIDO:/00000000000000000", "more bytes after the end of the item at offset 1"),  // seven zero bytes
        ("FIDO:/00280", "a number or length not in its shortest form at offset 0"),  // 18 01: 1 in two bytes
        ("FIDO:/0000000000418", "map keys not in canonical order at offset 3"),  // a2 01 00 00 00
    ])
    func badCBORInTheQRCodeIsNamedInWords(url: String, rule: String) async throws {
        try await Self.expectLine(["decode", url], "invalid FIDO:/ URL: CBOR rejected: \(rule)", step: "decode")
    }

    @Test(arguments: [
        ("HTTP://example.com", "URL does not start with FIDO:/"),
        ("FIDO:/12a", "character at offset 2 is not an ASCII digit"),
        ("FIDO:/1234", "a trailing group of 4 digits encodes no chunk"),
        ("FIDO:/99999999999999999", "group at offset 0 does not fit in 7 bytes"),
        ("FIDO:/000", "QR payload is not a CBOR map"),
    ])
    func aBadQRURLIsOnePlainLine(url: String, reason: String) async throws {
        try await Self.expectLine(["decode", url], "invalid FIDO:/ URL: \(reason)", step: "decode")
    }

    /// The phone scanning a QR code whose CBOR is broken: the scan step, the rule in words.
    @Test func thePhoneScanningBadCBORSaysWhichRule() async throws {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("cable-cli-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: store) }
        try await Self.expectLine(
            [
                "phone", "FIDO:/00280", "--tunnel", "ws://127.0.0.1:9", "--advert-to", "127.0.0.1:9", "--store",
                store.path,
            ],
            "the QR code cannot be used: CBOR rejected: a number or length not in its shortest form at offset 0",
            step: "scan"
        )
    }

    /// A file that is not a store, given as the phone's and as the relying party's store.
    @Test func aStoreFileThatIsNotADatabaseIsNamedAndLeftAlone() async throws {
        // Lower-case, so the path cannot look like a `Type.member` name to the internal-name check.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cable-cli-\(UUID().uuidString.lowercased()).sqlite"
        )
        try Data("not a database\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let path = file.path
        try await Self.expectLine(
            ["passkeys", "list", "--store", path],
            "cannot read \(path): \(path) is not a SQLite database; it was left untouched",
            step: "store"
        )
        try await Self.expectLine(
            ["registrations", "list", "--rp-store", path],
            "cannot open the relying-party store \(path): \(path) is not a SQLite database; it was left untouched",
            step: "store"
        )
        #expect(try Data(contentsOf: file) == Data("not a database\n".utf8))
    }

    @Test(arguments: ["1234", "90a3ccdf635c4729a2489b709135078f", "90a3ccdf-635c-4729-a248-9b709135078g"])
    func anAAGUIDInAnotherFormShowsTheExpectedOne(text: String) async throws {
        try await Self.expectLine(
            ["register", "--user", "alice", "--allow-aaguid", text],
            "--allow-aaguid \(text) is not an AAGUID: expected the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx "
                + "(32 hex digits in groups of 8-4-4-4-12), e.g. de1e552d-db1d-4423-a619-566b625cdc84",
            step: "arguments"
        )
    }

    /// A metrics address another listener holds: the system's words, not a dumped socket error
    /// (`bind(descriptor:ptr:bytes:): … (errno: 98)`).
    @Test func aMetricsPortInUseIsTheSystemsWords() async throws {
        let first = try CableProcess(["relay", "--port", "0"])
        defer { first.terminate() }
        let line = try await first.waitForLine(startingWith: "listening on ")
        let port = try #require(line.split(separator: ":").last.map(String.init))
        let second = try CableProcess(["relay", "--port", "0", "--metrics", "127.0.0.1:\(port)"])
        #expect(try await second.waitForExit(timeout: .seconds(60)) != 0)
        let errors = second.stderr.filter { $0.hasPrefix("error: ") }
        #expect(errors == ["error: --metrics: cannot listen for metrics on 127.0.0.1:\(port): Address already in use"])
    }
}
