import CableAuthenticator
import CableCTAP
import CableCrypto
import CableRelyingParty
import CableTestSupport
import Foundation
import Testing

/// `cable passkeys delete` and `cable registrations remove` take every ID `list` prints. One random
/// credential ID in 64 begins with "-" (base64url's 62nd digit). ArgumentParser read such an ID as a
/// group of short options: "Missing expected argument '<id>'" (status 64), or, when the group held an
/// "h", the help text with status 0 and nothing deleted. Both made end-to-end tests fail now and then
/// (a deleted passkey that still signed in).
@Suite struct CredentialIDArgumentTests {
    /// IDs whose base64url begins with "-", with "--", and with "-h" (read as a help request), and a
    /// plain one.
    static let ids: [[UInt8]] = [
        [0xF8] + Array(1...15), [0xFB, 0xEF] + Array(2...15), Base64URLText.decode("-hAbCdEfGhIjKlMnOpQrSw"),
        Array(0...15),
    ]

    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cable-ids-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func cable(_ arguments: [String]) async throws -> CableProcess {
        let process = try CableProcess(arguments)
        _ = try await process.waitForExit()
        return process
    }

    @Test func passkeysDeleteTakesAnIDThatBeginsWithADashBeforeOrAfterTheOption() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("passkeys.sqlite").path
        let store = try SQLiteCredentialStore(fileURL: URL(fileURLWithPath: path))
        let key = try P256.PrivateKey()
        for id in Self.ids {
            try store.add(
                StoredCredential(
                    id: id,
                    rpID: "login.example.com",
                    userHandle: [1],
                    createdAt: .now,
                    aaguid: .zero,
                    privateKey: key
                )
            )
        }
        let encoded = Self.ids.map(Base64URLText.encode)
        #expect(encoded[0].hasPrefix("-") && encoded[1].hasPrefix("--") && encoded[2].hasPrefix("-h"))

        let first = try await Self.cable(["passkeys", "delete", encoded[0], "--store", path])
        #expect(first.stdout == ["deleted \(encoded[0])"], "\(first.stderr)")
        let second = try await Self.cable(["passkeys", "delete", "--store", path, encoded[1]])
        #expect(second.stdout == ["deleted \(encoded[1])"], "\(second.stderr)")
        let third = try await Self.cable(["passkeys", "delete", encoded[2], "--store", path])
        #expect(third.stdout == ["deleted \(encoded[2])"], "\(third.stdout.prefix(2)) \(third.stderr)")
        // The conventional `--` still ends the options.
        let fourth = try await Self.cable(["passkeys", "delete", "--store", path, "--", encoded[3]])
        #expect(fourth.stdout == ["deleted \(encoded[3])"], "\(fourth.stderr)")
        #expect(try store.list().isEmpty)
    }

    @Test func registrationsRemoveTakesAnIDThatBeginsWithADash() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("registrations.sqlite").path
        let store = try SQLiteCredentialRecordStore(fileURL: URL(fileURLWithPath: path))
        let publicKey = try COSEKey(
            encoded: hex(
                "a50102032620012158204856d4245fb8d94837a5d33cac3445bbf379a22544cac3c307a9faeabffb7590225820"
                    + "d4567077f45946ca92fea80a083bdc561ed272828da37c398797efde28544b0c"
            ),
            field: "publicKey"
        )
        let record = CredentialRecord(
            credentialID: Self.ids[2],
            friendlyName: "phone",
            aaguid: .zero,
            publicKey: publicKey,
            signCount: 0,
            userName: "alice",
            userHandle: [7],
            attestationFormat: "none",
            createdAt: .now
        )
        try store.add(record)
        let id = record.credentialIDBase64URL
        let remove = try await Self.cable(["registrations", "remove", id, "--rp-store", path])
        let removed = remove.stdout.first ?? ""
        #expect(removed.hasPrefix("removed \(id) "), "\(remove.stderr)")
        #expect(try store.list().isEmpty)
    }

    /// `sign-in --credential` takes such an ID as its value too: here the first is accepted and the
    /// second, not base64url, is the one refused (the old option read "-h…" as a help request).
    @Test func signInTakesACredentialThatBeginsWithADash() async throws {
        let id = Base64URLText.encode(Self.ids[2])
        let run = try CableProcess(["sign-in", "--credential", id, "--credential", "not base64!"])
        #expect(try await run.waitForExit() == 64)
        #expect(run.stderr.first == "Error: --credential not base64! is not base64url", "\(run.stdout.prefix(2))")
    }

    /// Still exactly one ID: none, two, or an unknown option (which would otherwise be taken as an ID)
    /// are usage errors (status 64) that name what was given.
    @Test(arguments: [
        ([String](), "Error: Missing expected argument '<id>'"),
        (
            ["AAECAwQFBgcICQoLDA0ODw", "AAECAwQFBgcICQoLDA0ODw"],
            "Error: Expected one credential ID, got 2: 'AAECAwQFBgcICQoLDA0ODw', 'AAECAwQFBgcICQoLDA0ODw'"
        ),
        (["--stor", "x"], "Error: Expected one credential ID, got 2: '--stor', 'x'"),
    ])
    func anythingButOneIDIsAUsageError(_ given: [String], _ line: String) async throws {
        for command in [["passkeys", "delete"], ["registrations", "remove"]] {
            let run = try CableProcess(command + given)
            #expect(try await run.waitForExit() == 64)
            #expect(run.stderr.first == line, "\(command): \(run.stderr)")
            #expect(run.stderr.contains { $0.hasPrefix("Usage: cable \(command.joined(separator: " ")) <id> ") })
        }
    }
}

/// base64url without padding (RFC 4648 §5), written out here so the test does not check the CLI's
/// IDs with the CLI's own encoder.
enum Base64URLText {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) -> [UInt8] {
        let standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let padded = standard + String(repeating: "=", count: (4 - standard.count % 4) % 4)
        return Array(Data(base64Encoded: padded) ?? Data())
    }
}
