import CableCTAP
import CableCrypto
import Foundation
import Testing

@testable import CableTrust

/// Certificate path validation through OpenSSL: real chains to their vendors' roots, at the vectors'
/// times, and hostile chains (loops, too long, wrong root, expired).
@Suite struct CertificatePathTests {
    func vector(_ id: String) throws -> (VerifiedAttestation, AAGUID, Int64) {
        let vector = try #require(try AttestationVectors.load().first { $0.id == id })
        let object = try AttestationObject(encoded: Hex.decode(vector.input.attestationObject))
        let verified = try AttestationVerifier.verify(object, clientDataHash: Hex.decode(vector.input.clientDataHash))
        let aaguid = try #require(object.authenticatorData.attestedCredentialData?.aaguid)
        return (verified, aaguid, vector.input.verificationTime)
    }

    func verify(_ verified: VerifiedAttestation, anchors: [UInt8], at time: Int64) throws -> [X509Path] {
        let anchors = try TrustAnchors(pem: anchors)
        return try CertificateChain.verifyPath(
            verified.certificates,
            anchors: anchors.certificates,
            at: time,
            aaguid: nil,
            rule: "test"
        )
        .map { X509Path(der: $0.derEncoded) }
    }

    struct X509Path: Equatable { let der: [UInt8] }

    @Test func appleChainVerifiesToAppleRootAtItsTime() throws {
        let (verified, _, time) = try self.vector("py_webauthn-apple-passkey")
        let path = try self.verify(verified, anchors: AttestationRoots.pem("apple-webauthn-root-ca"), at: time)
        #expect(path.count == 3)  // leaf, Apple WebAuthn CA 1, the root
    }

    @Test func appleChainHasExpiredSince() throws {
        let (verified, _, _) = try self.vector("py_webauthn-apple-passkey")
        let error = try #require(throws: TrustError.self) {
            // 1_767_225_600 is 2026-01-01.
            try self.verify(verified, anchors: AttestationRoots.pem("apple-webauthn-root-ca"), at: 1_767_225_600)
        }
        #expect(error.code == .certificatePathExpired)
    }

    @Test func appleChainIsUntrustedUnderAnotherRoot() throws {
        let (verified, _, time) = try self.vector("py_webauthn-apple-passkey")
        let error = try #require(throws: TrustError.self) {
            try self.verify(verified, anchors: AttestationRoots.pem("yubico-u2f-root-ca-457200631"), at: time)
        }
        #expect(error.code == .certificatePathUntrusted)
    }

    @Test func androidKeyChainVerifiesToGoogleRoot() throws {
        let (verified, _, time) = try self.vector("py_webauthn-android-key-pixel-8a")
        let path = try self.verify(
            verified,
            anchors: AttestationRoots.pems(prefix: "google-hardware-attestation-root"),
            at: time
        )
        #expect(path.count == 5)
    }

    @Test func yubicoChainsVerifyToYubicoRoot() throws {
        for id in ["py_webauthn-packed-yubikey", "py_webauthn-fido-u2f-yubikey"] {
            let (verified, _, time) = try self.vector(id)
            let path = try self.verify(
                verified,
                anchors: AttestationRoots.pem("yubico-u2f-root-ca-457200631"),
                at: time
            )
            #expect(path.count == 2, "\(id)")
        }
    }

    @Test func noAnchorIsRefused() throws {
        let (verified, _, time) = try self.vector("py_webauthn-packed-yubikey")
        let error = try #require(throws: TrustError.self) {
            try CertificateChain.verifyPath(verified.certificates, anchors: [], at: time, aaguid: nil, rule: "test")
        }
        #expect(error.code == .noTrustAnchor)
    }

    @Test func loopingChainEndsInARefusal() async throws {
        let fixtures = try await TrustTestSupport.loadFixtures()
        let chain = try CertificateChain.parse(fixtures.loopChain.map(Hex.decode), rule: "test")
        let anchors = try TrustAnchors(pem: Array(fixtures.attestationRoot.utf8))
        let started = ContinuousClock.now
        let error = try #require(throws: TrustError.self) {
            try CertificateChain.verifyPath(
                chain,
                anchors: anchors.certificates,
                at: fixtures.time,
                aaguid: nil,
                rule: "test"
            )
        }
        #expect(error.code == .certificatePathUntrusted)
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test func chainLongerThanTheDepthLimitIsRefused() async throws {
        let fixtures = try await TrustTestSupport.loadFixtures()
        let certificates = try fixtures.longChain.map(Hex.decode)
        // Eleven certificates: more than x5c may hold …
        let parseError = try #require(throws: TrustError.self) {
            try CertificateChain.parse(certificates, rule: "test")
        }
        #expect(parseError.code == .certificatePathTooLong)
        // … and, given as anchors' untrusted pool, a path deeper than the verify depth.
        let chain = try certificates.map { try CableTrust_X509(der: $0) }
        let anchors = try TrustAnchors(pem: Array(fixtures.attestationRoot.utf8))
        let error = try #require(throws: TrustError.self) {
            try CertificateChain.verifyPath(
                chain,
                anchors: anchors.certificates,
                at: fixtures.time,
                aaguid: nil,
                rule: "test"
            )
        }
        #expect(error.code == .certificatePathTooLong)
    }

    @Test func syntheticPackedChainVerifiesAndItsLeafRulesHold() async throws {
        let fixtures = try await TrustTestSupport.loadFixtures()
        let hash = try Hex.decode(fixtures.clientDataHash)
        let object = try fixtures.attestationObject("packed-full-valid")
        let verified = try AttestationVerifier.verify(object, clientDataHash: hash)
        let anchors = try TrustAnchors(pem: Array(fixtures.attestationRoot.utf8))
        let path = try CertificateChain.verifyPath(
            verified.certificates,
            anchors: anchors.certificates,
            at: fixtures.time,
            aaguid: nil,
            rule: "test"
        )
        #expect(path.count == 3)
        for (name, code) in [
            ("packed-full-wrong-aaguid-extension", TrustError.Code.aaguidExtensionMismatch),
            ("packed-full-critical-aaguid-extension", .aaguidExtensionMismatch),
            ("packed-full-leaf-is-ca", .attestationCertificateRequirements),
            ("packed-full-wrong-ou", .attestationCertificateRequirements),
        ] {
            let broken = try fixtures.attestationObject(name)
            let error = try #require(throws: TrustError.self, "\(name)") {
                try AttestationVerifier.verify(broken, clientDataHash: hash)
            }
            #expect(error.code == code, "\(name): \(error)")
        }
    }
}

/// Parses one DER certificate for tests that bypass `x5c`'s count limit.
func CableTrust_X509(der: [UInt8]) throws -> CableCrypto.X509Certificate {
    try CableCrypto.X509Certificate(derEncoded: der)
}
