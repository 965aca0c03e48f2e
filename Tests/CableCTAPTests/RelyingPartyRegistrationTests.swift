import CableCTAP
import CableCrypto
import CableRelyingParty
import CableTestSupport
import Testing

@Suite struct RelyingPartyRegistrationTests {
    static let vectors = RegistrationVectors.load("webauthn-registrations")
    static let rpID = "login.contoso.example"
    static let clientData = ClientData(type: .create, challenge: Array(0..<32), rpID: rpID)

    static func relyingParty(_ policy: RelyingParty.Policy = RelyingParty.Policy()) -> RelyingParty {
        RelyingParty(id: Self.rpID, policy: policy)
    }

    // MARK: External known answers

    @Test(arguments: vectors)
    func verifiesRealRegistrationsFromRelyingPartyTestSuites(_ vector: RegistrationVectors.Vector) throws {
        let relyingParty = RelyingParty(id: vector.input.rpId, origin: vector.input.origin)
        let verify = { () throws(RelyingPartyError) in
            try relyingParty.verifyRegistration(
                clientDataJSON: hex(vector.input.clientDataJSON),
                attestationObject: hex(vector.input.attestationObject),
                expectedChallenge: hex(vector.input.challenge)
            )
        }
        guard vector.result == "valid" else {
            let error = expectRPError(RelyingPartyError.Code(rawValue: vector.errorCode ?? "")) {
                () throws(RelyingPartyError) in try verify()
            }
            #expect(error?.field == "attStmt.x5c")
            return
        }
        let registration = try verify()
        #expect(registration.attestationFormat == vector.expected.fmt)
        #expect(registration.aaguid.uuidString == vector.expected.aaguid)
        #expect(hexString(registration.credentialID) == vector.expected.credentialId)
        #expect(registration.signCount == vector.expected.signCount)
        #expect(registration.flags.rawValue == vector.expected.flags)
        #expect(hexString(registration.publicKey.encoded) == vector.expected.credentialPublicKey)
    }

    @Test func realPackedSelfAttestationWithATamperedSignatureIsRefused() throws {
        let vector = try #require(Self.vectors.first { $0.id == "registration_packed_self_chrome_touch_id" })
        var object = hex(vector.input.attestationObject)
        // The DER signature starts at a fixed offset in this object (after fmt and "alg": -7, "sig": bstr(71)).
        let signatureStart = try #require(Self.range(of: [0x63, 0x73, 0x69, 0x67, 0x58, 0x47], in: object)).upperBound
        object[signatureStart + 10] ^= 0x01
        let relyingParty = RelyingParty(id: vector.input.rpId, origin: vector.input.origin)
        expectRPError(.attestationSignatureInvalid) { () throws(RelyingPartyError) in
            try relyingParty.verifyRegistration(
                clientDataJSON: hex(vector.input.clientDataJSON),
                attestationObject: object,
                expectedChallenge: hex(vector.input.challenge)
            )
        }
    }

    @Test func realRegistrationForAnotherRPIsRefused() throws {
        let vector = Self.vectors[0]
        let relyingParty = RelyingParty(id: "example.org", origin: vector.input.origin)
        expectRPError(.rpIDHashMismatch) { () throws(RelyingPartyError) in
            try relyingParty.verifyRegistration(
                clientDataJSON: hex(vector.input.clientDataJSON),
                attestationObject: hex(vector.input.attestationObject),
                expectedChallenge: hex(vector.input.challenge)
            )
        }
    }

    @Test func realRegistrationWithAnotherChallengeOrOriginIsRefused() throws {
        let vector = Self.vectors[0]
        let relyingParty = RelyingParty(id: vector.input.rpId, origin: vector.input.origin)
        expectRPError(.challengeMismatch) { () throws(RelyingPartyError) in
            try relyingParty.verifyRegistration(
                clientDataJSON: hex(vector.input.clientDataJSON),
                attestationObject: hex(vector.input.attestationObject),
                expectedChallenge: [1, 2, 3]
            )
        }
        let otherOrigin = RelyingParty(id: vector.input.rpId, origin: "https://evil.example")
        expectRPError(.originMismatch) { () throws(RelyingPartyError) in
            try otherOrigin.verifyRegistration(
                clientDataJSON: hex(vector.input.clientDataJSON),
                attestationObject: hex(vector.input.attestationObject),
                expectedChallenge: hex(vector.input.challenge)
            )
        }
    }

    @Test func assertionClientDataCannotRegister() throws {
        let vector = Self.vectors[0]
        let relyingParty = RelyingParty(id: vector.input.rpId, origin: vector.input.origin)
        let get = ClientData(type: .get, challenge: hex(vector.input.challenge), origin: vector.input.origin)
        expectRPError(.clientDataTypeMismatch) { () throws(RelyingPartyError) in
            try relyingParty.verifyRegistration(
                clientDataJSON: get.json,
                attestationObject: hex(vector.input.attestationObject),
                expectedChallenge: hex(vector.input.challenge)
            )
        }
    }

    @Test func garbageAttestationObjectIsMalformed() {
        let error = expectRPError(.attestationObjectMalformed) { () throws(RelyingPartyError) in
            try Self.relyingParty().verifyRegistration(
                clientDataJSON: Self.clientData.json,
                attestationObject: [0xA1, 0x01],
                expectedChallenge: Self.clientData.challenge
            )
        }
        #expect(error?.underlying?.code == .invalidCBOR)
    }

    // MARK: Enterprise policy, with registrations made by a real P-256 key

    @Test func allowedAAGUIDRegisters() throws {
        let phone = try TestAuthenticator(seed: 1, aaguid: .microsoftAuthenticatorAndroid)
        let policy = RelyingParty.Policy(allowedAAGUIDs: [.microsoftAuthenticatorIOS, .microsoftAuthenticatorAndroid])
        let response = try phone.register(rpID: Self.rpID, clientDataHash: Self.clientData.hash)
        let registration = try Self.relyingParty(policy).verifyRegistration(
            response,
            clientDataHash: Self.clientData.hash
        )
        #expect(registration.aaguid == .microsoftAuthenticatorAndroid)
        #expect(registration.credentialID == phone.credentialID)
        #expect(registration.publicKey == phone.coseKey)
        #expect(registration.attestationFormat == "none")
    }

    @Test func refusedAAGUIDNamesItAndSaysItMustBeAddedToTheAllowedList() throws {
        let phone = try TestAuthenticator(seed: 2, aaguid: .microsoftAuthenticatorAndroid)
        let policy = RelyingParty.Policy(allowedAAGUIDs: [.microsoftAuthenticatorIOS])
        let response = try phone.register(rpID: Self.rpID, clientDataHash: Self.clientData.hash)
        let error = expectRPError(.aaguidNotAllowed) { () throws(RelyingPartyError) in
            try Self.relyingParty(policy).verifyRegistration(response, clientDataHash: Self.clientData.hash)
        }
        let message = try #require(error?.message)
        #expect(message.contains("de1e552d-db1d-4423-a619-566b625cdc84"))
        #expect(message.contains("must add de1e552d-db1d-4423-a619-566b625cdc84 to the allowed AAGUIDs list"))
        #expect(message.contains("90a3ccdf-635c-4729-a248-9b709135078f"))
        #expect(error?.field == "attestedCredentialData.aaguid")
    }

    @Test func refusedZeroAAGUIDExplainsThatTheModelWasNotDisclosed() throws {
        let vector = Self.vectors[0]
        let relyingParty = RelyingParty(
            id: vector.input.rpId,
            origin: vector.input.origin,
            policy: RelyingParty.Policy(allowedAAGUIDs: [.microsoftAuthenticatorIOS], requireUserVerification: false)
        )
        let error = expectRPError(.aaguidNotAllowed) { () throws(RelyingPartyError) in
            try relyingParty.verifyRegistration(
                clientDataJSON: hex(vector.input.clientDataJSON),
                attestationObject: hex(vector.input.attestationObject),
                expectedChallenge: hex(vector.input.challenge)
            )
        }
        #expect(error?.message.contains("00000000-0000-0000-0000-000000000000") == true)
        #expect(error?.message.contains("did not disclose its model") == true)
    }

    @Test func enforcedAttestationRefusesNone() throws {
        let phone = try TestAuthenticator(seed: 3)
        let response = try phone.register(rpID: Self.rpID, clientDataHash: Self.clientData.hash, attestation: .none)
        let error = expectRPError(.attestationRequired) { () throws(RelyingPartyError) in
            try Self.relyingParty(RelyingParty.Policy(enforceAttestation: true)).verifyRegistration(
                response,
                clientDataHash: Self.clientData.hash
            )
        }
        #expect(error?.message.contains("'none' attestation") == true)
    }

    @Test func enforcedAttestationRefusesPackedSelfAttestation() throws {
        // Self attestation proves possession of the credential key, not the model: enforcing attestation
        // needs a chain to a trust anchor (CableTrust), so it is refused.
        let phone = try TestAuthenticator(seed: 4, aaguid: .microsoftAuthenticatorIOS)
        let response = try phone.register(
            rpID: Self.rpID,
            clientDataHash: Self.clientData.hash,
            attestation: .packedSelf
        )
        let policy = RelyingParty.Policy(allowedAAGUIDs: [.microsoftAuthenticatorIOS], enforceAttestation: true)
        let error = expectRPError(.attestationRequired) { () throws(RelyingPartyError) in
            try Self.relyingParty(policy).verifyRegistration(response, clientDataHash: Self.clientData.hash)
        }
        #expect(error?.message.contains("self attestation") == true)
    }

    @Test func realPackedSelfAttestationIsRefusedUnderEnforcedAttestation() throws {
        let vector = try #require(Self.vectors.first { $0.id == "registration_packed_self_chrome_localhost" })
        let policy = RelyingParty.Policy(
            allowedAAGUIDs: [try #require(AAGUID(uuidString: vector.expected.aaguid))],
            enforceAttestation: true
        )
        let relyingParty = RelyingParty(id: vector.input.rpId, origin: vector.input.origin, policy: policy)
        _ = expectRPError(.attestationRequired) { () throws(RelyingPartyError) in
            try relyingParty.verifyRegistration(
                clientDataJSON: hex(vector.input.clientDataJSON),
                attestationObject: hex(vector.input.attestationObject),
                expectedChallenge: hex(vector.input.challenge)
            )
        }
        // Not enforced, it registers as packed.
        let open = RelyingParty(id: vector.input.rpId, origin: vector.input.origin)
        let registration = try open.verifyRegistration(
            clientDataJSON: hex(vector.input.clientDataJSON),
            attestationObject: hex(vector.input.attestationObject),
            expectedChallenge: hex(vector.input.challenge)
        )
        #expect(registration.attestationFormat == "packed")
    }

    @Test func packedSelfAttestationWithABadSignatureIsRefused() throws {
        let phone = try TestAuthenticator(seed: 5)
        let response = try phone.register(
            rpID: Self.rpID,
            clientDataHash: Self.clientData.hash,
            attestation: .packedSelfWrongKey
        )
        expectRPError(.attestationSignatureInvalid) { () throws(RelyingPartyError) in
            try Self.relyingParty().verifyRegistration(response, clientDataHash: Self.clientData.hash)
        }
    }

    @Test func packedSelfAttestationOverAnotherClientDataHashIsRefused() throws {
        let phone = try TestAuthenticator(seed: 6)
        let response = try phone.register(
            rpID: Self.rpID,
            clientDataHash: Self.clientData.hash,
            attestation: .packedSelf
        )
        expectRPError(.attestationSignatureInvalid) { () throws(RelyingPartyError) in
            try Self.relyingParty().verifyRegistration(response, clientDataHash: SHA256.hash([1]))
        }
    }

    @Test func packedSelfAttestationWithAnotherAlgorithmIsRefused() throws {
        let phone = try TestAuthenticator(seed: 7)
        let response = try phone.register(
            rpID: Self.rpID,
            clientDataHash: Self.clientData.hash,
            attestation: .packedSelfAlgorithm(.rs256)
        )
        expectRPError(.attestationAlgorithmMismatch) { () throws(RelyingPartyError) in
            try Self.relyingParty().verifyRegistration(response, clientDataHash: Self.clientData.hash)
        }
    }

    @Test func wrongRPIDHashIsRefused() throws {
        let phone = try TestAuthenticator(seed: 8)
        let response = try phone.register(rpID: "evil.example", clientDataHash: Self.clientData.hash)
        expectRPError(.rpIDHashMismatch) { () throws(RelyingPartyError) in
            try Self.relyingParty().verifyRegistration(response, clientDataHash: Self.clientData.hash)
        }
    }

    @Test func missingUserPresenceIsRefused() throws {
        let phone = try TestAuthenticator(seed: 9)
        let response = try phone.register(rpID: Self.rpID, clientDataHash: Self.clientData.hash, flags: .userVerified)
        expectRPError(.userPresenceMissing) { () throws(RelyingPartyError) in
            try Self.relyingParty().verifyRegistration(response, clientDataHash: Self.clientData.hash)
        }
    }

    @Test func missingUserVerificationIsRefusedOnlyWhenRequired() throws {
        let phone = try TestAuthenticator(seed: 10)
        let response = try phone.register(rpID: Self.rpID, clientDataHash: Self.clientData.hash, flags: .userPresent)
        expectRPError(.userVerificationMissing) { () throws(RelyingPartyError) in
            try Self.relyingParty().verifyRegistration(response, clientDataHash: Self.clientData.hash)
        }
        let lenient = Self.relyingParty(RelyingParty.Policy(requireUserVerification: false))
        #expect(
            try lenient.verifyRegistration(response, clientDataHash: Self.clientData.hash).flags == [
                .userPresent, .attestedCredentialData,
            ]
        )
    }

    @Test func backedUpWithoutBackupEligibleIsRefused() throws {
        let phone = try TestAuthenticator(seed: 11)
        let response = try phone.register(
            rpID: Self.rpID,
            clientDataHash: Self.clientData.hash,
            flags: [.userPresent, .userVerified, .backedUp]
        )
        expectRPError(.authenticatorDataMalformed) { () throws(RelyingPartyError) in
            try Self.relyingParty().verifyRegistration(response, clientDataHash: Self.clientData.hash)
        }
    }

    @Test func syncedPasskeyFlagsAreCarriedIntoTheRecord() throws {
        let phone = try TestAuthenticator(seed: 12)
        let flags: AuthenticatorData.Flags = [.userPresent, .userVerified, .backupEligible, .backedUp]
        let response = try phone.register(rpID: Self.rpID, clientDataHash: Self.clientData.hash, flags: flags)
        let registration = try Self.relyingParty().verifyRegistration(response, clientDataHash: Self.clientData.hash)
        let record = registration.record(friendlyName: "Work phone", userName: "alice", userHandle: [1])
        #expect(record.backupEligible && record.backedUp)
        #expect(record.friendlyName == "Work phone")
        #expect(record.aaguid == phone.aaguid)
    }

    @Test func unsupportedCredentialKeyHasItsOwnCode() throws {
        let vector = Self.vectors[0]
        var object = hex(vector.input.attestationObject)
        // The COSE key is the last 77 bytes; its alg (-7, 0x26) is at offset 4: make it -8 (EdDSA).
        let algIndex = object.count - 77 + 4
        #expect(object[algIndex] == 0x26)
        object[algIndex] = 0x27
        let relyingParty = RelyingParty(id: vector.input.rpId, origin: vector.input.origin)
        let error = expectRPError(.credentialPublicKeyUnsupported) { () throws(RelyingPartyError) in
            try relyingParty.verifyRegistration(
                clientDataJSON: hex(vector.input.clientDataJSON),
                attestationObject: object,
                expectedChallenge: hex(vector.input.challenge)
            )
        }
        #expect(error?.underlying?.code == .unsupportedKey)
    }

    static func range(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where Array(haystack[start..<start + needle.count]) == needle {
            return start..<start + needle.count
        }
        return nil
    }
}
