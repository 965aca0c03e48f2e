import CableAuthenticator
import CableCTAP
import CableCrypto
import Foundation
import Logging
import Testing

@testable import CableTrust

/// The in-memory enterprise setup of `cable demo --enforce-attestation`: a phone attesting with the demo
/// attestation key and chain, a relying party enforcing the demo metadata.
@Suite struct DemoTrustTests {
    static let time: Int64 = 1_780_000_000
    static let aaguid = AAGUID(uuidString: "de1e552d-db1d-4423-a619-566b625cdc84")!

    func register(_ persona: AuthenticatorPersona, clientDataHash: [UInt8]) async throws -> MakeCredentialResponse {
        var logger = Logger(label: "test.demo-trust")
        logger.logLevel = .critical
        let phone = PhoneAuthenticator(persona: persona, store: InMemoryCredentialStore(), logger: logger)
        let request = MakeCredentialRequest(
            clientDataHash: clientDataHash,
            rp: PublicKeyCredentialRPEntity(id: "login.example.com", name: "Example"),
            user: PublicKeyCredentialUserEntity(id: [1, 2, 3], name: "alice", displayName: "Alice"),
            publicKeyCredentialParameters: [PublicKeyCredentialParameters(algorithm: .es256)],
            options: AuthenticatorOptions(residentKey: true, userVerification: true)
        )
        let response = try CTAPResponse(frame: await phone.handle(CTAPRequest.makeCredential(request).frame))
        try #require(response.status == .ok)
        return try MakeCredentialResponse(encoded: response.payload)
    }

    @Test func phoneWithTheDemoIdentityPassesEnforcedAttestation() async throws {
        let demo = try DemoTrust.make(aaguid: Self.aaguid, description: "Demo Authenticator", at: Self.time)
        let metadata = try MetadataBLOB(
            jwt: demo.metadataBLOB,
            root: TrustAnchors(pem: demo.metadataRootPEM),
            at: Self.time
        )
        var persona = AuthenticatorPersona.authenticatorAndroid
        persona.attestationIdentity = try AttestationIdentity(
            privateKeyPEM: demo.attestationKeyPEM,
            certificateChainPEM: demo.attestationChainPEM
        )
        let hash = SHA256.hash(Array("client data".utf8))
        let response = try await self.register(persona, clientDataHash: hash)
        guard case .packed(let packed) = response.attestationStatement else {
            Issue.record("expected packed")
            return
        }
        #expect(packed.certificateChain.count == 2)

        let policy = TrustPolicy(allowedAAGUIDs: [Self.aaguid], enforceAttestation: true, metadata: metadata)
        let verdict = try policy.evaluate(AttestationObject(response), clientDataHash: hash, at: Self.time)
        #expect(verdict.attestationType == .basic)
        #expect(verdict.trustPathVerified)
        #expect(verdict.metadataStatus?.rawValue == "FIDO_CERTIFIED_L1")
        #expect(verdict.authenticatorName == "Demo Authenticator")

        // python-fido2 agrees that it is packed basic attestation with a well-formed leaf.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cable-demo-\(UUID().uuidString).json")
        let cases: [[String: String]] = [
            [
                "id": "demo", "attestationObject": Hex.encode(AttestationObject(response).encoded),
                "clientDataHash": Hex.encode(hash),
            ]
        ]
        var json = try JSONSerialization.data(withJSONObject: cases)
        json = Data(
            String(decoding: json, as: UTF8.self).replacingOccurrences(
                of: "}]",
                with: ",\"verificationTime\":\(Self.time)}]"
            ).utf8
        )
        try json.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let line = try await TrustTestSupport.runPython("attestation_oracle.py", [file.path])
        #expect(line.contains("\"demo\": {\"ok\": true, \"type\": \"basic\"}"), "\(line)")
    }

    @Test func selfAttestingPhoneIsRefusedUnderTheDemoMetadata() async throws {
        let demo = try DemoTrust.make(aaguid: Self.aaguid, description: "Demo Authenticator", at: Self.time)
        let metadata = try MetadataBLOB(
            jwt: demo.metadataBLOB,
            root: TrustAnchors(pem: demo.metadataRootPEM),
            at: Self.time
        )
        let hash = SHA256.hash(Array("client data".utf8))
        let response = try await self.register(.authenticatorAndroid, clientDataHash: hash)
        let error = try #require(throws: TrustError.self) {
            try TrustPolicy(enforceAttestation: true, metadata: metadata).evaluate(
                AttestationObject(response),
                clientDataHash: hash,
                at: Self.time
            )
        }
        #expect(error.code == .attestationRequired)
    }

    @Test func aChainFromAnotherDemoIsUntrusted() async throws {
        let demo = try DemoTrust.make(aaguid: Self.aaguid, description: "Demo Authenticator", at: Self.time)
        let stranger = try DemoTrust.make(aaguid: Self.aaguid, description: "Stranger", at: Self.time)
        let metadata = try MetadataBLOB(
            jwt: demo.metadataBLOB,
            root: TrustAnchors(pem: demo.metadataRootPEM),
            at: Self.time
        )
        var persona = AuthenticatorPersona.authenticatorAndroid
        persona.attestationIdentity = try AttestationIdentity(
            privateKeyPEM: stranger.attestationKeyPEM,
            certificateChainPEM: stranger.attestationChainPEM
        )
        let hash = SHA256.hash(Array("client data".utf8))
        let response = try await self.register(persona, clientDataHash: hash)
        let error = try #require(throws: TrustError.self) {
            try TrustPolicy(enforceAttestation: true, metadata: metadata).evaluate(
                AttestationObject(response),
                clientDataHash: hash,
                at: Self.time
            )
        }
        #expect(error.code == .certificatePathUntrusted)
        // And the stranger's BLOB does not load under the demo's MDS root.
        #expect(throws: TrustError.self) {
            try MetadataBLOB(jwt: stranger.metadataBLOB, root: TrustAnchors(pem: demo.metadataRootPEM), at: Self.time)
        }
    }

    @Test func anIdentityWhoseChainDoesNotCertifyTheKeyIsRefused() throws {
        let demo = try DemoTrust.make(aaguid: Self.aaguid, description: "Demo", at: Self.time)
        let other = try DemoTrust.make(aaguid: Self.aaguid, description: "Other", at: Self.time)
        #expect(throws: AttestationIdentityError.self) {
            try AttestationIdentity(
                privateKeyPEM: other.attestationKeyPEM,
                certificateChainPEM: demo.attestationChainPEM
            )
        }
        #expect(throws: AttestationIdentityError.self) {
            try AttestationIdentity(
                privateKeyPEM: demo.attestationChainPEM,
                certificateChainPEM: demo.attestationChainPEM
            )
        }
        #expect(throws: AttestationIdentityError.self) {
            try AttestationIdentity(privateKeyPEM: demo.attestationKeyPEM, certificateChainPEM: Array("not pem".utf8))
        }
    }

    @Test func demoDatesAreCivilDates() {
        #expect(DemoTrust.date(0) == "1970-01-01")
        #expect(DemoTrust.date(1_709_164_800) == "2024-02-29")
        #expect(DemoTrust.date(1_782_864_000 + 86_399) == "2026-07-01")
    }
}
