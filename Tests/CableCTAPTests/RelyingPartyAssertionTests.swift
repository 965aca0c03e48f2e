import CableCBOR
import CableCTAP
import CableCrypto
import CableRelyingParty
import CableTestSupport
import Foundation
import Testing

@Suite struct RelyingPartyAssertionTests {
    static let vectors = AssertionVectors.load("webauthn-assertions")
    static let rpID = "login.contoso.example"
    static let relyingParty = RelyingParty(id: rpID)
    static let clientData = ClientData(type: .get, challenge: Array(100..<132), rpID: rpID)
    static let userHandle: [UInt8] = [0xA1, 0x1C, 0xE0]

    static func record(_ phone: TestAuthenticator, signCount: UInt32) -> CredentialRecord {
        CredentialRecord(
            credentialID: phone.credentialID,
            friendlyName: "Alice's phone",
            aaguid: phone.aaguid,
            publicKey: phone.coseKey,
            signCount: signCount,
            userName: "alice",
            userHandle: Self.userHandle,
            attestationFormat: "none",
            createdAt: Date(timeIntervalSince1970: 1_700_000_000)
        )
    }

    static func record(_ vector: AssertionVectors.Vector) throws -> CredentialRecord {
        CredentialRecord(
            credentialID: hex(vector.input.credentialId),
            friendlyName: vector.id,
            aaguid: .zero,
            publicKey: try COSEKey(encoded: hex(vector.input.credentialPublicKey)),
            signCount: vector.input.storedSignCount,
            userName: "user",
            userHandle: hex(vector.input.userHandle ?? ""),
            attestationFormat: "none",
            createdAt: Date(timeIntervalSince1970: 0)
        )
    }

    // MARK: External known answers

    @Test(arguments: vectors)
    func verifiesRealAssertionsFromRelyingPartyTestSuites(_ vector: AssertionVectors.Vector) throws {
        let relyingParty = RelyingParty(
            id: vector.input.rpId,
            origin: vector.input.origin,
            policy: RelyingParty.Policy(requireUserVerification: vector.input.requireUserVerification)
        )
        let response = AssertionResponse(
            credentialID: hex(vector.input.credentialId),
            authenticatorData: hex(vector.input.authenticatorData),
            signature: hex(vector.input.signature),
            userHandle: vector.input.userHandle.map(hex)
        )
        let records = [try Self.record(vector)]
        let verify = { () throws(RelyingPartyError) in
            try relyingParty.verifyAssertion(
                response,
                clientDataJSON: hex(vector.input.clientDataJSON),
                expectedChallenge: hex(vector.input.challenge),
                credentials: records
            )
        }
        guard vector.result == "valid" else {
            expectRPError(RelyingPartyError.Code(rawValue: vector.errorCode ?? "")) { () throws(RelyingPartyError) in
                try verify()
            }
            return
        }
        let assertion = try verify()
        #expect(assertion.newSignCount == vector.expected.newSignCount)
        #expect(assertion.credentialID == hex(vector.input.credentialId))
    }

    @Test func realAssertionWithAFlippedSignatureBitIsRefused() throws {
        let vector = Self.vectors[0]
        let relyingParty = RelyingParty(
            id: vector.input.rpId,
            origin: vector.input.origin,
            policy: .init(requireUserVerification: false)
        )
        var signature = hex(vector.input.signature)
        signature[signature.count - 1] ^= 0x01
        let response = AssertionResponse(
            credentialID: hex(vector.input.credentialId),
            authenticatorData: hex(vector.input.authenticatorData),
            signature: signature
        )
        let records = [try Self.record(vector)]
        expectRPError(.signatureInvalid) { () throws(RelyingPartyError) in
            try relyingParty.verifyAssertion(
                response,
                clientDataJSON: hex(vector.input.clientDataJSON),
                expectedChallenge: hex(vector.input.challenge),
                credentials: records
            )
        }
    }

    @Test func realAssertionReplayedWithTheSameCounterIsAPossibleClone() throws {
        let vector = Self.vectors[0]
        let relyingParty = RelyingParty(
            id: vector.input.rpId,
            origin: vector.input.origin,
            policy: .init(requireUserVerification: false)
        )
        var record = try Self.record(vector)
        record.signCount = try #require(vector.expected.newSignCount)
        let response = AssertionResponse(
            credentialID: hex(vector.input.credentialId),
            authenticatorData: hex(vector.input.authenticatorData),
            signature: hex(vector.input.signature)
        )
        let error = expectRPError(.signCountNotIncreased) { () throws(RelyingPartyError) in
            try relyingParty.verifyAssertion(
                response,
                clientDataJSON: hex(vector.input.clientDataJSON),
                expectedChallenge: hex(vector.input.challenge),
                credentials: [record]
            )
        }
        #expect(error?.message.contains("possible cloned authenticator") == true)
    }

    // MARK: Rules, with assertions signed by a real P-256 key

    @Test func validAssertionReturnsTheNewCounter() throws {
        let phone = try TestAuthenticator(seed: 20)
        let response = try phone.assert(
            rpID: Self.rpID,
            clientDataHash: Self.clientData.hash,
            signCount: 6,
            userHandle: Self.userHandle
        )
        let assertion = try Self.relyingParty.verifyAssertion(
            response,
            clientDataJSON: Self.clientData.json,
            expectedChallenge: Self.clientData.challenge,
            credentials: [Self.record(phone, signCount: 5)]
        )
        #expect(assertion.newSignCount == 6)
        #expect(assertion.flags == [.userPresent, .userVerified])
    }

    @Test func zeroCountersOnBothSidesAreAccepted() throws {
        // Synced passkeys keep no counter: 0 stored, 0 received is not a clone signal (WebAuthn §7.2 step 21).
        let phone = try TestAuthenticator(seed: 21)
        let response = try phone.assert(rpID: Self.rpID, clientDataHash: Self.clientData.hash, signCount: 0)
        let assertion = try Self.relyingParty.verifyAssertion(
            response,
            clientDataHash: Self.clientData.hash,
            credentials: [Self.record(phone, signCount: 0)]
        )
        #expect(assertion.newSignCount == 0)
    }

    @Test(arguments: [(5, 5), (5, 4), (5, 0), (.max, 1)] as [(UInt32, UInt32)])
    func counterThatDoesNotIncreaseIsAPossibleClone(_ stored: UInt32, _ received: UInt32) throws {
        let phone = try TestAuthenticator(seed: 22)
        let response = try phone.assert(rpID: Self.rpID, clientDataHash: Self.clientData.hash, signCount: received)
        expectRPError(.signCountNotIncreased) { () throws(RelyingPartyError) in
            try Self.relyingParty.verifyAssertion(
                response,
                clientDataHash: Self.clientData.hash,
                credentials: [Self.record(phone, signCount: stored)]
            )
        }
    }

    @Test func unknownCredentialIsRefused() throws {
        let phone = try TestAuthenticator(seed: 23)
        let other = try TestAuthenticator(seed: 24)
        let response = try phone.assert(rpID: Self.rpID, clientDataHash: Self.clientData.hash, signCount: 1)
        expectRPError(.unknownCredential) { () throws(RelyingPartyError) in
            try Self.relyingParty.verifyAssertion(
                response,
                clientDataHash: Self.clientData.hash,
                credentials: [Self.record(other, signCount: 0)]
            )
        }
        expectRPError(.unknownCredential) { () throws(RelyingPartyError) in
            try Self.relyingParty.verifyAssertion(response, clientDataHash: Self.clientData.hash, credentials: [])
        }
    }

    @Test func signatureByAnotherKeyIsRefused() throws {
        let phone = try TestAuthenticator(seed: 25)
        let thief = try P256.PrivateKey()
        let response = try phone.assert(
            rpID: Self.rpID,
            clientDataHash: Self.clientData.hash,
            signCount: 1,
            signer: thief
        )
        expectRPError(.signatureInvalid) { () throws(RelyingPartyError) in
            try Self.relyingParty.verifyAssertion(
                response,
                clientDataHash: Self.clientData.hash,
                credentials: [Self.record(phone, signCount: 0)]
            )
        }
    }

    @Test func signatureOverAnotherChallengeIsRefused() throws {
        let phone = try TestAuthenticator(seed: 26)
        let response = try phone.assert(rpID: Self.rpID, clientDataHash: SHA256.hash([9]), signCount: 1)
        expectRPError(.signatureInvalid) { () throws(RelyingPartyError) in
            try Self.relyingParty.verifyAssertion(
                response,
                clientDataHash: Self.clientData.hash,
                credentials: [Self.record(phone, signCount: 0)]
            )
        }
    }

    @Test func wrongRPIDHashIsRefused() throws {
        let phone = try TestAuthenticator(seed: 27)
        let response = try phone.assert(rpID: "contoso.example", clientDataHash: Self.clientData.hash, signCount: 1)
        expectRPError(.rpIDHashMismatch) { () throws(RelyingPartyError) in
            try Self.relyingParty.verifyAssertion(
                response,
                clientDataHash: Self.clientData.hash,
                credentials: [Self.record(phone, signCount: 0)]
            )
        }
    }

    @Test func missingUserPresenceIsRefused() throws {
        let phone = try TestAuthenticator(seed: 28)
        let response = try phone.assert(
            rpID: Self.rpID,
            clientDataHash: Self.clientData.hash,
            flags: .userVerified,
            signCount: 1
        )
        expectRPError(.userPresenceMissing) { () throws(RelyingPartyError) in
            try Self.relyingParty.verifyAssertion(
                response,
                clientDataHash: Self.clientData.hash,
                credentials: [Self.record(phone, signCount: 0)]
            )
        }
    }

    @Test func userHandleOfAnotherUserIsRefused() throws {
        let phone = try TestAuthenticator(seed: 29)
        let response = try phone.assert(
            rpID: Self.rpID,
            clientDataHash: Self.clientData.hash,
            signCount: 1,
            userHandle: [0xB0, 0xB0]
        )
        expectRPError(.userHandleMismatch) { () throws(RelyingPartyError) in
            try Self.relyingParty.verifyAssertion(
                response,
                clientDataHash: Self.clientData.hash,
                credentials: [Self.record(phone, signCount: 0)]
            )
        }
    }

    @Test func registrationClientDataCannotSignIn() throws {
        let phone = try TestAuthenticator(seed: 30)
        let create = ClientData(type: .create, challenge: Self.clientData.challenge, rpID: Self.rpID)
        let response = try phone.assert(rpID: Self.rpID, clientDataHash: create.hash, signCount: 1)
        expectRPError(.clientDataTypeMismatch) { () throws(RelyingPartyError) in
            try Self.relyingParty.verifyAssertion(
                response,
                clientDataJSON: create.json,
                expectedChallenge: create.challenge,
                credentials: [Self.record(phone, signCount: 0)]
            )
        }
    }

    @Test func crossOriginCeremonyIsRefused() throws {
        let phone = try TestAuthenticator(seed: 31)
        let framed = ClientData(
            type: .get,
            challenge: Self.clientData.challenge,
            origin: Self.relyingParty.origin,
            crossOrigin: true
        )
        let response = try phone.assert(rpID: Self.rpID, clientDataHash: framed.hash, signCount: 1)
        expectRPError(.crossOriginNotAllowed) { () throws(RelyingPartyError) in
            try Self.relyingParty.verifyAssertion(
                response,
                clientDataJSON: framed.json,
                expectedChallenge: framed.challenge,
                credentials: [Self.record(phone, signCount: 0)]
            )
        }
    }

    @Test func registrationAuthenticatorDataCannotSignIn() throws {
        let phone = try TestAuthenticator(seed: 32)
        let registration = try phone.register(rpID: Self.rpID, clientDataHash: Self.clientData.hash)
        let signature = try phone.privateKey.signature(for: registration.rawAuthenticatorData + Self.clientData.hash)
        let response = AssertionResponse(
            credentialID: phone.credentialID,
            authenticatorData: registration.rawAuthenticatorData,
            signature: signature
        )
        expectRPError(.authenticatorDataMalformed) { () throws(RelyingPartyError) in
            try Self.relyingParty.verifyAssertion(
                response,
                clientDataHash: Self.clientData.hash,
                credentials: [Self.record(phone, signCount: 0)]
            )
        }
    }

    @Test func truncatedAuthenticatorDataIsMalformed() throws {
        let phone = try TestAuthenticator(seed: 33)
        var response = try phone.assert(rpID: Self.rpID, clientDataHash: Self.clientData.hash, signCount: 1)
        response.authenticatorData.removeLast()
        let error = expectRPError(.authenticatorDataMalformed) { () throws(RelyingPartyError) in
            try Self.relyingParty.verifyAssertion(
                response,
                clientDataHash: Self.clientData.hash,
                credentials: [Self.record(phone, signCount: 0)]
            )
        }
        #expect(error?.underlying?.code == .truncated)
    }

    @Test func ctapResponseOmittingTheCredentialUsesTheSingleAllowListEntry() throws {
        let phone = try TestAuthenticator(seed: 34)
        let signed = try phone.assert(rpID: Self.rpID, clientDataHash: Self.clientData.hash, signCount: 3)
        let ctap = GetAssertionResponse(
            credential: nil,
            authenticatorData: try AuthenticatorData(bytes: signed.authenticatorData),
            signature: signed.signature
        )
        let allowList = [PublicKeyCredentialDescriptor(id: phone.credentialID)]
        let response = try AssertionResponse(try GetAssertionResponse(encoded: ctap.encoded), allowList: allowList)
        #expect(response.credentialID == phone.credentialID)
        #expect(
            try Self.relyingParty.verifyAssertion(
                response,
                clientDataHash: Self.clientData.hash,
                credentials: [Self.record(phone, signCount: 0)]
            ).newSignCount == 3
        )
        expectRPError(.credentialIDMissing) { () throws(RelyingPartyError) in
            try AssertionResponse(ctap, allowList: nil)
        }
    }
}
