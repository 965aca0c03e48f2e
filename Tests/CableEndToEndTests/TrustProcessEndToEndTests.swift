import CableCTAP
import CableTestSupport
import CableTrust
import Foundation
import Testing

/// The enterprise trust path of `cli.md` across processes: `cable phone --attestation-key/--attestation-chain`
/// against `cable register --enforce-attestation --mds/--mds-root/--attestation-root/--block-aaguid`, with
/// a demo attestation CA and MDS BLOB written to files.
@Suite(.serialized, .timeLimit(.minutes(3))) struct TrustProcessEndToEndTests {
    static let aaguid = ProcessEndToEndTests.androidAAGUID

    /// Writes a demo setup's files into `directory`.
    static func files(_ status: String, in directory: URL) throws -> [String: String] {
        let demo = try DemoTrust.make(
            aaguid: try #require(AAGUID(uuidString: Self.aaguid)),
            description: "Demo Android Authenticator",
            status: AuthenticatorStatus(rawValue: status),
            at: Int64(Date().timeIntervalSince1970)
        )
        var paths: [String: String] = [:]
        for (name, bytes) in [
            ("key", demo.attestationKeyPEM), ("chain", demo.attestationChainPEM), ("mds", demo.metadataBLOB),
            ("mdsRoot", demo.metadataRootPEM), ("attestationRoot", demo.attestationRootPEM),
        ] {
            let url = directory.appendingPathComponent("\(status)-\(name)")
            try Data(bytes).write(to: url)
            paths[name] = url.path
        }
        return paths
    }

    @Test func certifiedPhoneRegistersUnderEnforcedAttestationWithMetadata() async throws {
        let rig = try await ProcessEndToEndTests.Rig()
        let files = try Self.files("FIDO_CERTIFIED_L1", in: rig.directory)
        let phone = [
            "--persona", "authenticator-android", "--attestation-key", files["key"]!, "--attestation-chain",
            files["chain"]!,
        ]
        let reg = try await rig.ceremony(
            "register",
            desktop: [
                "--user", "erin", "--enforce-attestation", "--mds", files["mds"]!, "--mds-root", files["mdsRoot"]!,
            ],
            phone: phone
        )
        #expect(reg.desktopStatus == 0, "\(reg.desktop.stderr)")
        let json = try reg.desktop.lastJSON()
        #expect(json["attestationFormat"] as? String == "packed")
        #expect(json["attestationType"] as? String == "basic")
        #expect(json["metadataStatus"] as? String == "FIDO_CERTIFIED_L1")
        #expect(json["authenticatorName"] as? String == "Demo Android Authenticator")

        // The same phone under --attestation-root alone (no metadata).
        let anchored = try await rig.ceremony(
            "register",
            desktop: ["--user", "erin2", "--enforce-attestation", "--attestation-root", files["attestationRoot"]!],
            phone: phone
        )
        #expect(anchored.desktopStatus == 0, "\(anchored.desktop.stderr)")
        #expect(try anchored.desktop.lastJSON()["metadataStatus"] == nil)

        // Blocked: one error line naming the AAGUID and the block list.
        let blocked = try await rig.ceremony(
            "register",
            desktop: ["--user", "erin3", "--block-aaguid", Self.aaguid],
            phone: phone
        )
        #expect(blocked.desktopStatus != 0)
        let errors = blocked.desktop.stderr.filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1)
        #expect(errors.first?.contains(Self.aaguid) == true)
        #expect(errors.first?.contains("block list") == true)
        try await rig.stop()
    }

    @Test func revokedModelIsRefusedNamingTheStatus() async throws {
        let rig = try await ProcessEndToEndTests.Rig()
        let files = try Self.files("REVOKED", in: rig.directory)
        let reg = try await rig.ceremony(
            "register",
            desktop: ["--user", "frank", "--mds", files["mds"]!, "--mds-root", files["mdsRoot"]!],
            phone: [
                "--persona", "authenticator-android", "--attestation-key", files["key"]!, "--attestation-chain",
                files["chain"]!,
            ]
        )
        #expect(reg.desktopStatus != 0)
        let error = try #require(reg.desktop.stderr.first { $0.hasPrefix("error:") })
        #expect(error.contains("REVOKED"))
        #expect(error.contains(Self.aaguid))
        try await rig.stop()
    }

    @Test func aBLOBUnderAnotherRootIsRefusedBeforeTheCeremony() async throws {
        let rig = try await ProcessEndToEndTests.Rig()
        let files = try Self.files("FIDO_CERTIFIED", in: rig.directory)
        // Without --mds-root the shipped FIDO root is used, which did not sign the demo BLOB.
        // It fails before it shows a QR code or binds the bus, so it is run directly rather than through the rig.
        let desktop = try CableProcess(
            [
                "register", "--rp-id", "login.example.com", "--tunnel", rig.tunnel, "--advert-listen", "127.0.0.1:9",
                "--rp-store", rig.rpStore, "--timeout", "15", "--json", "--user", "gina", "--mds", files["mds"]!,
            ])
        #expect(try await desktop.waitForExit() != 0)
        let error = try #require(desktop.stderr.first { $0.hasPrefix("error:") })
        #expect(error.contains("mds"))
        #expect(error.contains("root"))
        try await rig.stop()
    }
}
