import CableCBOR
import CableCTAP
import CableCrypto
import Foundation
import Testing

@testable import CableTrust

/// Real attestation objects from py_webauthn, python-fido2 and SimpleWebAuthn (Spec/vectors/attestation).
@Suite struct AttestationVectorTests {
    static let vectors = (try? AttestationVectors.load()) ?? []

    @Test func vectorsAreLoaded() throws {
        let vectors = try AttestationVectors.load()
        // Every format this package verifies has at least one real vector.
        #expect(Set(vectors.map(\.expected.format)) == Set(AttestationVerifier.supportedFormats))
    }

    @Test(arguments: Self.vectors)
    func verifiesRealAttestation(_ vector: AttestationVectors.Vector) throws {
        let object = try AttestationObject(encoded: Hex.decode(vector.input.attestationObject))
        let hash = try Hex.decode(vector.input.clientDataHash)
        if let json = vector.input.clientDataJSON {
            #expect(
                SHA256.hash(Array(json.utf8)) == hash,
                "the vector's client data hash is SHA-256 of its clientDataJSON"
            )
        }
        let verified = try AttestationVerifier.verify(object, clientDataHash: hash)
        #expect(verified.format == vector.expected.format)
        #expect(verified.type.rawValue == vector.expected.attestationType)
        #expect(verified.trustPath.count == vector.expected.trustPathLength)
    }

    @Test(arguments: Self.vectors)
    func refusesEveryBrokenVariant(_ vector: AttestationVectors.Vector) throws {
        let object = try AttestationObject(encoded: Hex.decode(vector.input.attestationObject))
        let hash = try Hex.decode(vector.input.clientDataHash)
        for mutation in Mutation.allCases {
            guard let (mutated, mutatedHash) = mutation.apply(to: object, clientDataHash: hash) else { continue }
            // `none` signs nothing, so a different client data hash cannot be detected from the statement.
            if vector.expected.format == "none" { continue }
            #expect(throws: TrustError.self, "\(mutation) must be refused") {
                try AttestationVerifier.verify(mutated, clientDataHash: mutatedHash)
            }
        }
    }

    @Test func flippedSignatureIsNamed() throws {
        let vector = try #require(Self.vectors.first { $0.id == "py_webauthn-packed-yubikey" })
        let object = try AttestationObject(encoded: Hex.decode(vector.input.attestationObject))
        let (mutated, hash) = try #require(
            Mutation.flippedSignatureByte.apply(to: object, clientDataHash: Hex.decode(vector.input.clientDataHash))
        )
        let error = try #require(throws: TrustError.self) {
            try AttestationVerifier.verify(mutated, clientDataHash: hash)
        }
        #expect(error.code == .attestationSignatureInvalid)
        #expect(error.aaguid == object.authenticatorData.attestedCredentialData?.aaguid)
    }

    @Test func algorithmMismatchIsNamed() throws {
        let vector = try #require(Self.vectors.first { $0.id == "py_webauthn-packed-yubikey" })
        let object = try AttestationObject(encoded: Hex.decode(vector.input.attestationObject))
        let (mutated, hash) = try #require(
            Mutation.algorithmMismatch.apply(to: object, clientDataHash: Hex.decode(vector.input.clientDataHash))
        )
        let error = try #require(throws: TrustError.self) {
            try AttestationVerifier.verify(mutated, clientDataHash: hash)
        }
        #expect(error.code == .attestationAlgorithmMismatch)
    }

    @Test func appleNonceBindsClientDataHash() throws {
        let vector = try #require(Self.vectors.first { $0.id == "py_webauthn-apple-passkey" })
        let object = try AttestationObject(encoded: Hex.decode(vector.input.attestationObject))
        var hash = try Hex.decode(vector.input.clientDataHash)
        hash[31] ^= 0x80
        let error = try #require(throws: TrustError.self) {
            try AttestationVerifier.verify(object, clientDataHash: hash)
        }
        #expect(error.code == .attestationNonceMismatch)
    }

    @Test func androidKeyChallengeBindsClientDataHash() throws {
        let vector = try #require(Self.vectors.first { $0.id == "py_webauthn-android-key-pixel-8a" })
        let object = try AttestationObject(encoded: Hex.decode(vector.input.attestationObject))
        var hash = try Hex.decode(vector.input.clientDataHash)
        hash[0] ^= 0x01
        let error = try #require(throws: TrustError.self) {
            try AttestationVerifier.verify(object, clientDataHash: hash)
        }
        // The signature covers the hash too, and is checked first.
        #expect(error.code == .attestationSignatureInvalid)
    }

    @Test func unsupportedFormatIsNamed() throws {
        let vector = try #require(Self.vectors.first { $0.id == "py_webauthn-none" })
        var object = try AttestationObject(encoded: Hex.decode(vector.input.attestationObject))
        object.attestationStatement = try AttestationStatement(format: "tpm", statement: CBORMap())
        let error = try #require(throws: TrustError.self) {
            try AttestationVerifier.verify(object, clientDataHash: Hex.decode(vector.input.clientDataHash))
        }
        #expect(error.code == .attestationFormatUnsupported)
        #expect(error.reason.contains("'tpm'"))
    }

    @Test func hugeX5CIsRefusedBeforeParsing() throws {
        let vector = try #require(Self.vectors.first { $0.id == "py_webauthn-fido-u2f-yubikey" })
        let object = try AttestationObject(encoded: Hex.decode(vector.input.attestationObject))
        var statement = object.attestationStatement.statement
        let certificate = try #require(statement["x5c"]?.arrayValue?.first)
        statement["x5c"] = .array(Array(repeating: certificate, count: 1000))
        var mutated = object
        mutated.attestationStatement = try AttestationStatement(format: "fido-u2f", statement: statement)
        let error = try #require(throws: TrustError.self) {
            try AttestationVerifier.verify(mutated, clientDataHash: Hex.decode(vector.input.clientDataHash))
        }
        #expect(error.code == .certificatePathTooLong)
    }
}
