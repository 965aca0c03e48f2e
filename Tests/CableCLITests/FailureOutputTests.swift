import CableTestSupport
import CableTunnel
import Foundation
import Testing

/// What a user meets when something goes wrong: one `error:` line on stderr that names no Swift type
/// or enum case, a non-zero exit, and with `--json` the failure object as the last stdout line.
@Suite(.serialized, .timeLimit(.minutes(3))) struct FailureOutputTests {
    /// A QR code Chrome showed in 2022 (Spec/vectors/qr-payload.json, `qr_chrome_2022`).
    static let chrome2022 =
        "FIDO:/162870791865632382552704231438327900152302540348097243854039966655366469794954476199158014113179232779520163209900691930075274801398564434658077048963842109321447142660"

    /// Words that only a program's internals would print: `SomethingError`, `Type.case`, camelCase
    /// identifiers, Swift value dumps.
    static func internalNames(in line: String) -> [String] {
        var found: [String] = []
        let patterns = [
            #"\b[A-Z][A-Za-z0-9]*(Error|Failure)\b"#,  // type names
            #"\b[A-Z][A-Za-z0-9]+\.[a-z][A-Za-z0-9]+\b"#,  // Type.case
            #"(?<![-A-Za-z])[a-z]+[A-Z][A-Za-z]*(?![-A-Za-z])"#,  // camelCase identifiers (not caBLE in X-caBLE-…)
            #"\b[A-Z][A-Za-z]+\("#,  // dumped values
            #"\b[a-z][A-Za-z0-9]*\(([A-Za-z0-9_]+:)+\)"#,  // Swift function names
            #"errno"#,
        ]
        for pattern in patterns {
            var rest = line[...]
            while let r = rest.range(of: pattern, options: .regularExpression) {
                found.append(String(rest[r]))
                rest = rest[r.upperBound...]
            }
        }
        return found
    }

    @Test func theInternalNameCheckCatchesWhatTheOldMessagesPrinted() {
        #expect(
            !Self.internalNames(in: "error: invalid FIDO:/ URL: trailing group of 2 digits [badRemainderLength]")
                .isEmpty
        )
        #expect(!Self.internalNames(in: "error: phone: tunnelFailed at registerTunnel: connectFailed: x").isEmpty)
        #expect(!Self.internalNames(in: "error: NIOConnectionError(host: \"127.0.0.1\", port: 1)").isEmpty)
        #expect(!Self.internalNames(in: "error: CBORError.nonCanonical at offset 3").isEmpty)
        #expect(
            !Self.internalNames(
                in:
                    "error: cannot listen on 127.0.0.1:1: bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)"
            ).isEmpty
        )
        #expect(!Self.internalNames(in: "error: invalid FIDO:/ URL: CBOR rejected: incompleteData at offset 1").isEmpty)
        #expect(
            Self.internalNames(
                in: "error: cannot reach the tunnel service (connection refused); is `cable relay` running?"
            ).isEmpty
        )
        #expect(Self.internalNames(in: "error: the X-caBLE-Routing-ID header is missing").isEmpty)
    }

    /// Runs `cable arguments`, expects failure, and returns the error line and the last stdout line.
    static func failing(_ arguments: [String]) async throws -> (error: String, lastStdout: String?) {
        let cable = try CableProcess(arguments)
        let status = try await cable.waitForExit(timeout: .seconds(60))
        #expect(status != 0, "cable \(arguments) succeeded")
        let errors = cable.stderr.filter { $0.hasPrefix("error: ") }
        #expect(errors.count == 1, "expected one error line, got \(cable.stderr)")
        let error = try #require(errors.first)
        #expect(Self.internalNames(in: error).isEmpty, "internal names in: \(error)")
        return (error, cable.stdout.last)
    }

    /// The last stdout line parsed as the failure object; checks its shape against the error line.
    static func failureObject(_ line: String?, errorLine: String) throws -> [String: Any] {
        let text = try #require(line, "nothing on stdout")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            "not an object: \(text)"
        )
        #expect(object["ok"] as? Bool == false)
        #expect(object["error"] as? String == String(errorLine.dropFirst("error: ".count)))
        #expect(Set(object.keys) == ["ok", "error", "step"])
        return object
    }

    @Test(arguments: [
        ("FIDO:/123", "CBOR"),
        ("FIDO:/12345678901234567", "CBOR"),
        ("FIDO:/1234", "trailing group of 4 digits"),
        ("FIDO:/99999999999999999", "does not fit in 7 bytes"),
        ("HTTP://example.com", "does not start with FIDO:/"),
        ("FIDO:/1234567890123456a", "digit"),
    ])
    func decodeFailsWithOneLineAndTheFailureObject(url: String, word: String) async throws {
        let (error, last) = try await Self.failing(["decode", url, "--json"])
        #expect(error.hasPrefix("error: invalid FIDO:/ URL: "))
        #expect(error.localizedCaseInsensitiveContains(word), "\(error) does not say \(word)")
        let object = try Self.failureObject(last, errorLine: error)
        #expect(object["step"] as? String == "decode")
    }

    @Test func passkeysListOfAMissingStoreIsAnErrorWithTheFailureObject() async throws {
        let (error, last) = try await Self.failing(["passkeys", "list", "--store", "/no/such/dir/store.json", "--json"])
        #expect(error.contains("/no/such/dir/store.json"))
        #expect(try Self.failureObject(last, errorLine: error)["step"] as? String == "store")
    }

    @Test func demoWithAnUnknownPersonaEndsWithTheFailureObject() async throws {
        let cable = try CableProcess(["demo", "--persona", "no-such-phone", "--json"])
        #expect(try await cable.waitForExit() != 0)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data((cable.stdout.last ?? "").utf8)) as? [String: Any]
        )
        #expect(object["ok"] as? Bool == false)
        #expect(object["step"] as? String == "arguments")
        #expect((object["error"] as? String)?.contains("no-such-phone") == true)
    }

    @Test func aMalformedAAGUIDShowsTheExpectedForm() async throws {
        let cable = try CableProcess(["register", "--user", "alice", "--allow-aaguid", "not-a-uuid", "--json"])
        #expect(try await cable.waitForExit() != 0)
        let text = cable.stderr.joined(separator: "\n")
        #expect(text.contains("not-a-uuid") && text.contains("8-4-4-4-12"))
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data((cable.stdout.last ?? "").utf8)) as? [String: Any]
        )
        #expect(object["ok"] as? Bool == false && object["step"] as? String == "arguments")
    }

    /// No tunnel service at the address: the phone says so in words and names `cable relay`.
    @Test func thePhoneWithNoRelayRunningSaysSoAndEndsWithTheFailureObject() async throws {
        let (error, last) = try await Self.failing([
            "phone", Self.chrome2022, "--tunnel", "ws://127.0.0.1:9", "--advert-to", "127.0.0.1:9", "--store",
            FileManager.default.temporaryDirectory.appendingPathComponent("cable-cli-\(UUID().uuidString).json").path,
            "--json",
        ])
        #expect(error.contains("tunnel service") && error.contains("cable relay"), "\(error)")
        #expect(try Self.failureObject(last, errorLine: error)["step"] as? String == "connect")
    }

    @Test func signInHelpListsOnlyWhatAppliesToSigningIn() async throws {
        let signIn = try CableProcess(["sign-in", "--help"])
        #expect(try await signIn.waitForExit() == 0)
        let signInHelp = signIn.stdout.joined(separator: "\n")
        for registerOnly in ["--user", "--name", "--allow-aaguid", "--enforce-attestation"] {
            #expect(!signInHelp.contains(registerOnly), "sign-in --help lists \(registerOnly)")
        }
        #expect(
            signInHelp.contains("--credential") && signInHelp.contains("--tunnel") && signInHelp.contains("--rp-store")
        )

        let register = try CableProcess(["register", "--help"])
        #expect(try await register.waitForExit() == 0)
        let registerHelp = register.stdout.joined(separator: "\n")
        for option in ["--user", "--allow-aaguid", "--enforce-attestation", "--tunnel"] {
            #expect(registerHelp.contains(option), "register --help lacks \(option)")
        }
        #expect(!registerHelp.contains("--credential"))
    }
}

/// A whole refused registration across processes: the error line names the AAGUID and `--allow-aaguid`,
/// and no internal names.
@Suite(.serialized, .timeLimit(.minutes(3))) struct PolicyRefusalOutputTests {
    @Test func anAAGUIDOutsideTheAllowListIsRefusedNamingTheFlag() async throws {
        let relay = try CableProcess(["relay", "--port", "0"])
        defer { relay.interrupt() }
        let tunnel = String(try await relay.waitForLine(startingWith: "listening on ").dropFirst("listening on ".count))
        let port = try unsharedLoopbackUDPPort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cable-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let desktop = try CableProcess([
            "register", "--user", "alice", "--tunnel", tunnel, "--advert-listen", "127.0.0.1:\(port)", "--rp-store",
            directory.appendingPathComponent("rp.json").path, "--timeout", "30", "--json",
            "--allow-aaguid", "90a3ccdf-635c-4729-a248-9b709135078f",
        ])
        let url = try await desktop.waitForLine(startingWith: "FIDO:/")
        let phone = try CableProcess([
            "phone", url, "--tunnel", tunnel, "--advert-to", "127.0.0.1:\(port)", "--store",
            directory.appendingPathComponent("phone.json").path, "--persona", "authenticator-android",
        ])
        #expect(try await desktop.waitForExit(timeout: .seconds(60)) != 0)
        _ = try? await phone.waitForExit(timeout: .seconds(30))
        let error = try #require(desktop.stderr.first { $0.hasPrefix("error: ") })
        #expect(error.contains("de1e552d-db1d-4423-a619-566b625cdc84") && error.contains("--allow-aaguid"), "\(error)")
        #expect(FailureOutputTests.internalNames(in: error).isEmpty, "internal names in: \(error)")
        let object = try FailureOutputTests.failureObject(desktop.stdout.last, errorLine: error)
        #expect(object["step"] as? String == "policy")
    }
}

/// The desktop's tunnel service is not running (the phone's is): the desktop says so in words, names
/// `cable relay`, and with `--json` ends with the failure object at the `connect` step.
@Suite(.serialized, .timeLimit(.minutes(3))) struct DesktopRelayDownOutputTests {
    @Test func theDesktopWithNoRelayAtItsTunnelAddressSaysSo() async throws {
        let relay = try CableProcess(["relay", "--port", "0"])
        defer { relay.interrupt() }
        let phoneTunnel = String(
            try await relay.waitForLine(startingWith: "listening on ").dropFirst("listening on ".count)
        )
        let port = try unsharedLoopbackUDPPort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cable-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let desktop = try CableProcess([
            "register", "--user", "alice", "--tunnel", "ws://127.0.0.1:9", "--advert-listen", "127.0.0.1:\(port)",
            "--rp-store", directory.appendingPathComponent("rp.json").path, "--timeout", "30", "--json",
        ])
        let url = try await desktop.waitForLine(startingWith: "FIDO:/")
        let phone = try CableProcess([
            "phone", url, "--tunnel", phoneTunnel, "--advert-to", "127.0.0.1:\(port)", "--store",
            directory.appendingPathComponent("phone.json").path,
        ])
        #expect(try await desktop.waitForExit(timeout: .seconds(60)) != 0)
        phone.terminate()
        let error = try #require(desktop.stderr.first { $0.hasPrefix("error: ") })
        #expect(error.contains("connect") && error.contains("cable relay"), "\(error)")
        #expect(FailureOutputTests.internalNames(in: error).isEmpty, "internal names in: \(error)")
        #expect(
            try FailureOutputTests.failureObject(desktop.stdout.last, errorLine: error)["step"] as? String == "connect"
        )
    }
}

/// A second relay on a port already in use: one plain error line, no error-code names.
@Suite(.serialized, .timeLimit(.minutes(1))) struct RelayBindFailureOutputTests {
    @Test func aPortInUseIsOnePlainLine() async throws {
        let first = try CableProcess(["relay", "--port", "0"])
        defer { first.interrupt() }
        let line = try await first.waitForLine(startingWith: "listening on ")
        let port = try #require(line.split(separator: ":").last.map(String.init))
        let second = try CableProcess(["relay", "--port", port])
        #expect(try await second.waitForExit() != 0)
        let errors = second.stderr.filter { $0.hasPrefix("error: ") }
        #expect(errors.count == 1, "\(second.stderr)")
        let error = try #require(errors.first)
        #expect(error.contains(port), "\(error)")
        #expect(FailureOutputTests.internalNames(in: error).isEmpty, "internal names in: \(error)")
    }
}
