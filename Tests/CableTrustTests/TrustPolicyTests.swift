import CableCTAP
import Foundation
import Testing

@testable import CableTrust

/// The enterprise policy: allow and block lists, enforced attestation against MDS and extra anchors,
/// refused statuses, and the verdict's fields.
@Suite struct TrustPolicyTests {
    struct Setup {
        let fixtures: Fixtures
        let metadata: MetadataBLOB
        let hash: [UInt8]

        init() async throws {
            self.fixtures = try await TrustTestSupport.loadFixtures()
            let blob = try #require(self.fixtures.blobs["es256"])
            self.metadata = try MetadataBLOB(
                jwt: Array(blob.utf8),
                root: TrustAnchors(pem: Array(self.fixtures.mdsRoot.utf8)),
                at: self.fixtures.time
            )
            self.hash = try Hex.decode(self.fixtures.clientDataHash)
        }

        func policyCase(_ status: String) throws -> (AttestationObject, AAGUID) {
            let item = try #require(self.fixtures.policyCases[status])
            return (
                try AttestationObject(encoded: Hex.decode(item.attestationObject)),
                try #require(AAGUID(uuidString: item.aaguid))
            )
        }

        func evaluate(_ policy: TrustPolicy, _ object: AttestationObject) throws -> TrustVerdict {
            try policy.evaluate(object, clientDataHash: self.hash, at: self.fixtures.time)
        }

        func refusal(_ policy: TrustPolicy, _ object: AttestationObject) throws -> TrustError {
            try #require(throws: TrustError.self) { try self.evaluate(policy, object) }
        }
    }

    @Test func enforcedAttestationAcceptsACertifiedModelAndReportsIt() async throws {
        let setup = try await Setup()
        let (object, aaguid) = try setup.policyCase("FIDO_CERTIFIED_L1")
        let verdict = try setup.evaluate(TrustPolicy(enforceAttestation: true, metadata: setup.metadata), object)
        #expect(verdict.aaguid == aaguid)
        #expect(verdict.attestationFormat == "packed")
        #expect(verdict.attestationType == .basic)
        #expect(verdict.trustPathVerified)
        #expect(verdict.metadataStatus?.rawValue == "FIDO_CERTIFIED_L1")
        #expect(verdict.authenticatorName == "Throwaway Authenticator (FIDO_CERTIFIED_L1)")
    }

    @Test(arguments: [
        "REVOKED", "ATTESTATION_KEY_COMPROMISE", "USER_VERIFICATION_BYPASS", "USER_KEY_REMOTE_COMPROMISE",
        "USER_KEY_PHYSICAL_COMPROMISE",
    ])
    func refusesACompromisedModelNamingTheStatus(_ status: String) async throws {
        let setup = try await Setup()
        let (object, aaguid) = try setup.policyCase(status)
        // Whatever the attestation: even without enforcement, metadata's status refuses.
        for enforce in [false, true] {
            let error = try setup.refusal(TrustPolicy(enforceAttestation: enforce, metadata: setup.metadata), object)
            #expect(error.code == .authenticatorStatusRefused)
            #expect(error.aaguid == aaguid)
            #expect(error.rule == "mds-status")
            #expect(error.reason.contains(status))
            #expect(error.reason.contains(aaguid.uuidString))
        }
    }

    @Test func aStatusThatIsNotRefusedPasses() async throws {
        let setup = try await Setup()
        let (object, _) = try setup.policyCase("UPDATE_AVAILABLE")
        let verdict = try setup.evaluate(TrustPolicy(enforceAttestation: true, metadata: setup.metadata), object)
        #expect(verdict.metadataStatus?.rawValue == "UPDATE_AVAILABLE")
    }

    @Test func enforcedAttestationRefusesAModelTheMetadataDoesNotList() async throws {
        let setup = try await Setup()
        let (object, aaguid) = try setup.policyCase("UNLISTED")
        let error = try setup.refusal(TrustPolicy(enforceAttestation: true, metadata: setup.metadata), object)
        #expect(error.code == .aaguidNotInMetadata)
        #expect(error.aaguid == aaguid)
        #expect(error.rule == "enforce-attestation")
        // Without enforcement, an unlisted model registers (nothing to say about it).
        let verdict = try setup.evaluate(TrustPolicy(metadata: setup.metadata), object)
        #expect(verdict.metadataStatus == nil)
        #expect(!verdict.trustPathVerified)
    }

    @Test func additionalAnchorsTrustAModelWithoutMetadata() async throws {
        let setup = try await Setup()
        let (object, _) = try setup.policyCase("UNLISTED")
        let anchors = try TrustAnchors(pem: Array(setup.fixtures.attestationRoot.utf8))
        let verdict = try setup.evaluate(TrustPolicy(enforceAttestation: true, additionalAnchors: anchors), object)
        #expect(verdict.trustPathVerified)
        // Another root does not.
        let other = try TrustAnchors(pem: Array(setup.fixtures.otherRoot.utf8))
        let error = try setup.refusal(TrustPolicy(enforceAttestation: true, additionalAnchors: other), object)
        #expect(error.code == .certificatePathUntrusted)
        // And no root at all is its own refusal.
        #expect(try setup.refusal(TrustPolicy(enforceAttestation: true), object).code == .noTrustAnchor)
    }

    @Test func enforcedAttestationRefusesSelfAndNone() async throws {
        let setup = try await Setup()
        let selfAttested = try setup.fixtures.attestationObject("packed-self-certified")
        let policy = TrustPolicy(enforceAttestation: true, metadata: setup.metadata)
        let error = try setup.refusal(policy, selfAttested)
        #expect(error.code == .attestationRequired)
        #expect(error.reason.contains("self attestation"))
        var none = selfAttested
        none.attestationStatement = .none
        let noneError = try setup.refusal(policy, none)
        #expect(noneError.code == .attestationRequired)
        #expect(noneError.reason.contains("'none'"))
        // Not enforced: both register, and the verdict says what they were.
        #expect(try setup.evaluate(TrustPolicy(), selfAttested).attestationType == .self)
        #expect(try setup.evaluate(TrustPolicy(), none).attestationType == .none)
    }

    @Test func enforcedAttestationChecksTheChainAtTheGivenTime() async throws {
        let setup = try await Setup()
        let (object, _) = try setup.policyCase("FIDO_CERTIFIED_L1")
        let policy = TrustPolicy(enforceAttestation: true, metadata: setup.metadata)
        // Fixture certificates are valid from 30 days before the fixture time for ten years.
        let error = try #require(throws: TrustError.self) {
            try policy.evaluate(object, clientDataHash: setup.hash, at: setup.fixtures.time - 60 * 86_400)
        }
        #expect(error.code == .certificatePathExpired)
    }

    @Test func blockListRefusesFirstAndNamesTheList() async throws {
        let setup = try await Setup()
        let (object, aaguid) = try setup.policyCase("FIDO_CERTIFIED_L1")
        let error = try setup.refusal(TrustPolicy(allowedAAGUIDs: [aaguid], blockedAAGUIDs: [aaguid]), object)
        #expect(error.code == .aaguidBlocked)
        #expect(error.rule == "block-aaguid")
        #expect(error.reason.contains(aaguid.uuidString))
        #expect(error.reason.contains("block list"))
    }

    @Test func allowListRefusesOthersAndSaysWhatToDo() async throws {
        let setup = try await Setup()
        let (object, aaguid) = try setup.policyCase("FIDO_CERTIFIED_L1")
        let (_, other) = try setup.policyCase("UNLISTED")
        let error = try setup.refusal(TrustPolicy(allowedAAGUIDs: [other]), object)
        #expect(error.code == .aaguidNotAllowed)
        #expect(error.aaguid == aaguid)
        #expect(error.reason.contains("must add \(aaguid.uuidString) to the allowed AAGUIDs list"))
        #expect(try setup.evaluate(TrustPolicy(allowedAAGUIDs: [aaguid]), object).aaguid == aaguid)
    }

    @Test func aBrokenAttestationIsRefusedBeforeThePolicyTrustsIt() async throws {
        let setup = try await Setup()
        let (object, _) = try setup.policyCase("FIDO_CERTIFIED_L1")
        var hash = setup.hash
        hash[5] ^= 0x10
        let error = try #require(throws: TrustError.self) {
            try TrustPolicy(enforceAttestation: true, metadata: setup.metadata).evaluate(
                object,
                clientDataHash: hash,
                at: setup.fixtures.time
            )
        }
        #expect(error.code == .attestationSignatureInvalid)
    }
}
