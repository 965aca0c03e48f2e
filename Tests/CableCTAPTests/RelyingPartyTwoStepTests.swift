import CableCTAP
import CableCrypto
import CableProtocol
import CableRelyingParty
import CableTestSupport
import Foundation
import Testing

/// The two-step WebAuthn server API: options, expected state, and verification of Level 3 JSON
/// responses, including every client data rule the safe path must enforce.
@Suite struct RelyingPartyTwoStepTests {
    static let rpID = "login.contoso.example"
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let user = WebAuthnUser(id: [0x0A, 0x11, 0xCE], name: "alice@contoso.example", displayName: "Alice")

    static func relyingParty(_ policy: RelyingParty.Policy = RelyingParty.Policy()) -> RelyingParty {
        RelyingParty(id: Self.rpID, policy: policy)
    }

    /// A registration response as a browser would post it, with the client data bent by `clientData`.
    static func registrationResponse(
        _ phone: TestAuthenticator,
        options: PublicKeyCredentialCreationOptionsJSON,
        attestation: TestAuthenticator.Attestation = .none,
        rpID: String = rpID,
        clientData change: (inout ClientData) -> Void = { _ in }
    ) throws -> RegistrationResponseJSON {
        var clientData = ClientData(type: .create, challenge: options.challenge.bytes, rpID: Self.rpID)
        change(&clientData)
        let made = try phone.register(rpID: rpID, clientDataHash: clientData.hash, attestation: attestation)
        return RegistrationResponseJSON(
            rawId: phone.credentialID,
            response: AuthenticatorAttestationResponseJSON(
                clientDataJSON: clientData.json,
                attestationObject: made.attestationObject.encoded
            )
        )
    }

    static func record(_ phone: TestAuthenticator, signCount: UInt32 = 0) -> CredentialRecord {
        CredentialRecord(
            credentialID: phone.credentialID,
            friendlyName: "phone",
            aaguid: phone.aaguid,
            publicKey: phone.coseKey,
            signCount: signCount,
            userName: Self.user.name,
            userHandle: Self.user.id,
            attestationFormat: "none",
            createdAt: Self.now
        )
    }

    static func authenticationResponse(
        _ phone: TestAuthenticator,
        options: PublicKeyCredentialRequestOptionsJSON,
        signCount: UInt32 = 1,
        userHandle: [UInt8]? = user.id,
        signer: P256.PrivateKey? = nil,
        clientData change: (inout ClientData) -> Void = { _ in }
    ) throws -> AuthenticationResponseJSON {
        var clientData = ClientData(type: .get, challenge: options.challenge.bytes, rpID: Self.rpID)
        change(&clientData)
        let assertion = try phone.assert(
            rpID: Self.rpID,
            clientDataHash: clientData.hash,
            signCount: signCount,
            userHandle: userHandle,
            signer: signer
        )
        return AuthenticationResponseJSON(
            rawId: assertion.credentialID,
            response: AuthenticatorAssertionResponseJSON(
                clientDataJSON: clientData.json,
                authenticatorData: assertion.authenticatorData,
                signature: assertion.signature,
                userHandle: assertion.userHandle
            )
        )
    }

    // MARK: Registration

    @Test func optionsAndStateDescribeTheCeremonyAndSurviveAJSONRoundTrip() throws {
        let (options, expected) = Self.relyingParty().generateRegistrationOptions(user: Self.user, now: Self.now)
        #expect(options.challenge.bytes.count == 32)
        #expect(options.challenge == expected.challenge)
        #expect(options.rp.id == Self.rpID)
        #expect(options.user.id.bytes == Self.user.id)
        #expect(options.pubKeyCredParams == [PublicKeyCredentialParametersJSON(alg: -7)])
        #expect(options.authenticatorSelection?.userVerification == "required")
        #expect(options.timeout == 300_000)
        #expect(expected.expiresAt == Self.now.addingTimeInterval(300))
        #expect(expected.origins == ["https://\(Self.rpID)"])
        // What a server sends and stores is plain JSON that decodes to the same values.
        #expect(try PublicKeyCredentialCreationOptionsJSON(json: options.json) == options)
        let stored = try JSONEncoder().encode(expected)
        #expect(try JSONDecoder().decode(ExpectedRegistration.self, from: stored) == expected)
        let text = String(decoding: options.json, as: UTF8.self)
        #expect(text.contains("\"challenge\":\"\(Base64URL.encode(options.challenge.bytes))\""))
        // Two calls never share a challenge.
        #expect(
            Self.relyingParty().generateRegistrationOptions(user: Self.user, now: Self.now).options.challenge
                != options.challenge
        )
    }

    @Test func aRegistrationResponseVerifiesAndBecomesARecord() throws {
        let phone = try TestAuthenticator(seed: 1)
        let relyingParty = Self.relyingParty()
        let (options, expected) = relyingParty.generateRegistrationOptions(user: Self.user, now: Self.now)
        let response = try Self.registrationResponse(phone, options: options, attestation: .packedSelf)
        // Through JSON text, as a server receives it.
        let posted = try RegistrationResponseJSON(json: response.json)
        let verified = try relyingParty.verifyRegistrationResponse(posted, expected: expected, now: Self.now)
        #expect(verified.credentialID == phone.credentialID)
        #expect(verified.attestationFormat == "packed")
        let record = expected.record(for: verified, friendlyName: "Work phone", createdAt: Self.now)
        #expect(record.userHandle == Self.user.id)
        #expect(record.userName == Self.user.name)
    }

    /// What Chrome's `PublicKeyCredential.toJSON()` writes: every convenience member, a null attachment,
    /// members this relying party does not know.
    @Test func aBrowsersFullToJSONDocumentVerifies() throws {
        let phone = try TestAuthenticator(seed: 13)
        let relyingParty = Self.relyingParty()
        let (options, expected) = relyingParty.generateRegistrationOptions(user: Self.user, now: Self.now)
        let response = try Self.registrationResponse(phone, options: options)
        let text = """
            {"type":"public-key","id":"\(response.id)","rawId":"\(response.rawId.base64URL)",\
            "authenticatorAttachment":null,"clientExtensionResults":{"credProps":{"rk":true}},\
            "response":{"clientDataJSON":"\(response.response.clientDataJSON.base64URL)",\
            "attestationObject":"\(response.response.attestationObject.base64URL)",\
            "authenticatorData":"AAAA","transports":["hybrid","internal"],"publicKeyAlgorithm":-7,\
            "publicKey":"MFkwEwYHKoZIzj0CAQ"},"futureMember":[1,{"x":null}]}
            """
        let parsed = try RegistrationResponseJSON(json: Array(text.utf8))
        #expect(parsed.authenticatorAttachment == nil)
        #expect(
            try relyingParty.verifyRegistrationResponse(parsed, expected: expected, now: Self.now).credentialID
                == phone.credentialID
        )
    }

    @Test func theSafeRegistrationPathRefusesEveryClientDataFault() throws {
        let phone = try TestAuthenticator(seed: 2)
        let relyingParty = Self.relyingParty()
        let (options, expected) = relyingParty.generateRegistrationOptions(user: Self.user, now: Self.now)
        let cases: [(RelyingPartyError.Code, (inout ClientData) -> Void)] = [
            (.challengeMismatch, { $0.challenge[0] ^= 1 }),
            (.originMismatch, { $0.origin = "https://evil.example" }),
            (.originMismatch, { $0.origin = "http://\(Self.rpID)" }),
            (.clientDataTypeMismatch, { $0.type = .get }),
            (.crossOriginNotAllowed, { $0.crossOrigin = true }),
            (
                .crossOriginNotAllowed,
                {
                    $0.crossOrigin = true
                    $0.topOrigin = "https://portal.example"
                }
            ),
            (.crossOriginNotAllowed, { $0.topOrigin = "https://portal.example" }),
        ]
        for (code, change) in cases {
            let response = try Self.registrationResponse(phone, options: options, clientData: change)
            expectRPError(code) { () throws(RelyingPartyError) in
                try relyingParty.verifyRegistrationResponse(response, expected: expected, now: Self.now)
            }
        }
    }

    @Test func aCrossOriginIframeVerifiesOnlyInsideATopOriginTheServerNamed() throws {
        let phone = try TestAuthenticator(seed: 3)
        let relyingParty = Self.relyingParty()
        let (options, expected) = relyingParty.generateRegistrationOptions(
            user: Self.user,
            allowedTopOrigins: ["https://portal.example"],
            now: Self.now
        )
        let framed = try Self.registrationResponse(phone, options: options) {
            $0.crossOrigin = true
            $0.topOrigin = "https://portal.example"
        }
        #expect(
            try relyingParty.verifyRegistrationResponse(framed, expected: expected, now: Self.now).credentialID
                == phone.credentialID
        )
        let elsewhere = try Self.registrationResponse(phone, options: options) {
            $0.crossOrigin = true
            $0.topOrigin = "https://other.example"
        }
        expectRPError(.crossOriginNotAllowed) { () throws(RelyingPartyError) in
            try relyingParty.verifyRegistrationResponse(elsewhere, expected: expected, now: Self.now)
        }
        // crossOrigin without topOrigin: there is no page to check.
        let unnamed = try Self.registrationResponse(phone, options: options) { $0.crossOrigin = true }
        expectRPError(.crossOriginNotAllowed) { () throws(RelyingPartyError) in
            try relyingParty.verifyRegistrationResponse(unnamed, expected: expected, now: Self.now)
        }
    }

    @Test func theRawPartsSafePathAlsoRefusesACrossOriginIframe() throws {
        let phone = try TestAuthenticator(seed: 4)
        let clientData = ClientData(
            type: .create,
            challenge: Array(0..<32),
            origin: "https://\(Self.rpID)",
            crossOrigin: true,
            topOrigin: "https://portal.example"
        )
        #expect(
            String(decoding: clientData.json, as: UTF8.self).hasSuffix(
                ",\"crossOrigin\":true,\"topOrigin\":\"https://portal.example\"}"
            )
        )
        let made = try phone.register(rpID: Self.rpID, clientDataHash: clientData.hash)
        expectRPError(.crossOriginNotAllowed) { () throws(RelyingPartyError) in
            try Self.relyingParty().verifyRegistration(
                clientDataJSON: clientData.json,
                attestationObject: made.attestationObject.encoded,
                expectedChallenge: Array(0..<32)
            )
        }
    }

    @Test func stateRulesAreEnforced() throws {
        let phone = try TestAuthenticator(seed: 5)
        let relyingParty = Self.relyingParty()
        let (options, expected) = relyingParty.generateRegistrationOptions(
            user: Self.user,
            timeout: .seconds(60),
            now: Self.now
        )
        let response = try Self.registrationResponse(phone, options: options)
        expectRPError(.ceremonyExpired) { () throws(RelyingPartyError) in
            try relyingParty.verifyRegistrationResponse(
                response,
                expected: expected,
                now: Self.now.addingTimeInterval(61)
            )
        }
        #expect(throws: Never.self) {
            try relyingParty.verifyRegistrationResponse(
                response,
                expected: expected,
                now: Self.now.addingTimeInterval(60)
            )
        }
        expectRPError(.expectedStateMismatch) { () throws(RelyingPartyError) in
            try RelyingParty(id: "other.example").verifyRegistrationResponse(
                response,
                expected: expected,
                now: Self.now
            )
        }
        var wrongType = response
        wrongType.type = "password"
        expectRPError(.credentialTypeUnsupported) { () throws(RelyingPartyError) in
            try relyingParty.verifyRegistrationResponse(wrongType, expected: expected, now: Self.now)
        }
        var idMismatch = response
        idMismatch.id = "AAAA"
        expectRPError(.credentialIDMismatch) { () throws(RelyingPartyError) in
            try relyingParty.verifyRegistrationResponse(idMismatch, expected: expected, now: Self.now)
        }
        let other = try TestAuthenticator(seed: 6)
        var rawIdMismatch = response
        rawIdMismatch.rawId = Base64URLBytes(other.credentialID)
        rawIdMismatch.id = rawIdMismatch.rawId.base64URL
        expectRPError(.credentialIDMismatch) { () throws(RelyingPartyError) in
            try relyingParty.verifyRegistrationResponse(rawIdMismatch, expected: expected, now: Self.now)
        }
    }

    @Test func userVerificationFollowsTheExpectedState() throws {
        let phone = try TestAuthenticator(seed: 7)
        let relyingParty = Self.relyingParty()
        let (options, generated) = relyingParty.generateRegistrationOptions(user: Self.user, now: Self.now)
        var expected = generated
        let clientData = ClientData(type: .create, challenge: options.challenge.bytes, rpID: Self.rpID)
        let made = try phone.register(rpID: Self.rpID, clientDataHash: clientData.hash, flags: [.userPresent])
        let response = RegistrationResponseJSON(
            rawId: phone.credentialID,
            response: AuthenticatorAttestationResponseJSON(
                clientDataJSON: clientData.json,
                attestationObject: made.attestationObject.encoded
            )
        )
        expectRPError(.userVerificationMissing) { () throws(RelyingPartyError) in
            try relyingParty.verifyRegistrationResponse(response, expected: expected, now: Self.now)
        }
        expected.requireUserVerification = false
        #expect(
            try relyingParty.verifyRegistrationResponse(response, expected: expected, now: Self.now).credentialID
                == phone.credentialID
        )
    }

    // MARK: Policy

    @Test func policyRefusalsCarryTheRuleAndTheAAGUIDAsValues() throws {
        let phone = try TestAuthenticator(seed: 8, aaguid: .microsoftAuthenticatorAndroid)
        let blocking = Self.relyingParty(
            RelyingParty.Policy(
                allowedAAGUIDs: [.microsoftAuthenticatorAndroid],
                blockedAAGUIDs: [.microsoftAuthenticatorAndroid]
            )
        )
        let (options, expected) = blocking.generateRegistrationOptions(user: Self.user, now: Self.now)
        let response = try Self.registrationResponse(phone, options: options)
        let blocked = expectRPError(.aaguidBlocked) { () throws(RelyingPartyError) in
            try blocking.verifyRegistrationResponse(response, expected: expected, now: Self.now)
        }
        #expect(blocked?.aaguid == .microsoftAuthenticatorAndroid)
        let allowing = Self.relyingParty(RelyingParty.Policy(allowedAAGUIDs: [.microsoftAuthenticatorIOS]))
        let refused = expectRPError(.aaguidNotAllowed) { () throws(RelyingPartyError) in
            try allowing.verifyRegistrationResponse(response, expected: expected, now: Self.now)
        }
        #expect(refused?.aaguid == .microsoftAuthenticatorAndroid)
        let other = Self.relyingParty(RelyingParty.Policy(blockedAAGUIDs: [.microsoftAuthenticatorIOS]))
        #expect(
            try other.verifyRegistrationResponse(response, expected: expected, now: Self.now).aaguid
                == .microsoftAuthenticatorAndroid
        )
    }

    // MARK: Authentication

    @Test func anAuthenticationResponseVerifiesAndReturnsTheNewCounter() throws {
        let phone = try TestAuthenticator(seed: 9)
        let relyingParty = Self.relyingParty()
        let record = Self.record(phone, signCount: 4)
        let (options, expected) = relyingParty.generateAuthenticationOptions(allowCredentials: [record], now: Self.now)
        #expect(options.allowCredentials?.map(\.id.bytes) == [phone.credentialID])
        #expect(expected.userHandle?.bytes == Self.user.id)
        #expect(try PublicKeyCredentialRequestOptionsJSON(json: options.json) == options)
        let response = try AuthenticationResponseJSON(
            json: try Self.authenticationResponse(phone, options: options, signCount: 5).json
        )
        let verified = try relyingParty.verifyAuthenticationResponse(response, expected: expected, now: Self.now) {
            (id: [UInt8]) throws(RelyingPartyError) -> CredentialRecord? in id == record.credentialID ? record : nil
        }
        #expect(verified.newSignCount == 5)
        #expect(verified.userHandle == Self.user.id)
        #expect(verified.userVerified)
        let stored = try JSONEncoder().encode(expected)
        #expect(try JSONDecoder().decode(ExpectedAuthentication.self, from: stored) == expected)
    }

    @Test func theSafeAuthenticationPathRefusesEveryFault() throws {
        let phone = try TestAuthenticator(seed: 10)
        let relyingParty = Self.relyingParty()
        let record = Self.record(phone, signCount: 4)
        let lookup = { (id: [UInt8]) throws(RelyingPartyError) -> CredentialRecord? in
            id == record.credentialID ? record : nil
        }
        let (options, expected) = relyingParty.generateAuthenticationOptions(now: Self.now)
        let cases: [(RelyingPartyError.Code, (inout ClientData) -> Void)] = [
            (.challengeMismatch, { $0.challenge[31] ^= 0x80 }),
            (.originMismatch, { $0.origin = "https://evil.example" }),
            (.clientDataTypeMismatch, { $0.type = .create }),
            (
                .crossOriginNotAllowed,
                {
                    $0.crossOrigin = true
                    $0.topOrigin = "https://evil.example"
                }
            ),
        ]
        for (code, change) in cases {
            let response = try Self.authenticationResponse(phone, options: options, clientData: change)
            expectRPError(code) { () throws(RelyingPartyError) in
                try relyingParty.verifyAuthenticationResponse(
                    response,
                    expected: expected,
                    now: Self.now,
                    credential: lookup
                )
            }
        }
        let forged = try Self.authenticationResponse(phone, options: options, signer: try P256.PrivateKey())
        expectRPError(.signatureInvalid) { () throws(RelyingPartyError) in
            try relyingParty.verifyAuthenticationResponse(forged, expected: expected, now: Self.now, credential: lookup)
        }
        let replayedCounter = try Self.authenticationResponse(phone, options: options, signCount: 4)
        expectRPError(.signCountNotIncreased) { () throws(RelyingPartyError) in
            try relyingParty.verifyAuthenticationResponse(
                replayedCounter,
                expected: expected,
                now: Self.now,
                credential: lookup
            )
        }
        let anonymous = try Self.authenticationResponse(phone, options: options, userHandle: nil)
        expectRPError(.userHandleMissing) { () throws(RelyingPartyError) in
            try relyingParty.verifyAuthenticationResponse(
                anonymous,
                expected: expected,
                now: Self.now,
                credential: lookup
            )
        }
        let good = try Self.authenticationResponse(phone, options: options, signCount: 5)
        expectRPError(.unknownCredential) { () throws(RelyingPartyError) in
            try relyingParty.verifyAuthenticationResponse(good, expected: expected, now: Self.now) {
                (_: [UInt8]) throws(RelyingPartyError) -> CredentialRecord? in nil
            }
        }
        let (narrowOptions, narrow) = relyingParty.generateAuthenticationOptions(
            allowCredentialIDs: [[1, 2, 3]],
            userHandle: Self.user.id,
            now: Self.now
        )
        let notAllowed = try Self.authenticationResponse(phone, options: narrowOptions)
        expectRPError(.credentialNotAllowed) { () throws(RelyingPartyError) in
            try relyingParty.verifyAuthenticationResponse(
                notAllowed,
                expected: narrow,
                now: Self.now,
                credential: lookup
            )
        }
        let (_, someoneElse) = relyingParty.generateAuthenticationOptions(
            allowCredentialIDs: [phone.credentialID],
            userHandle: [9, 9],
            now: Self.now
        )
        let forOther = try Self.authenticationResponse(phone, options: narrowOptions) {
            $0.challenge = someoneElse.challenge.bytes
        }
        expectRPError(.userHandleMismatch) { () throws(RelyingPartyError) in
            try relyingParty.verifyAuthenticationResponse(
                forOther,
                expected: someoneElse,
                now: Self.now,
                credential: lookup
            )
        }
        #expect(throws: Never.self) {
            try relyingParty.verifyAuthenticationResponse(good, expected: expected, now: Self.now, credential: lookup)
        }
    }

    @Test func aCredentialRemovedFromTheStoreIsRefusedAsUnknown() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "rp-two-step-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteCredentialRecordStore(fileURL: directory.appendingPathComponent("records.sqlite"))
        let phone = try TestAuthenticator(seed: 11)
        let relyingParty = Self.relyingParty()
        try store.add(Self.record(phone))
        let lookup = { (id: [UInt8]) throws(RelyingPartyError) -> CredentialRecord? in
            try store.list().first { $0.credentialID == id }
        }
        let (options, expected) = relyingParty.generateAuthenticationOptions(now: Self.now)
        let response = try Self.authenticationResponse(phone, options: options)
        let verified = try relyingParty.verifyAuthenticationResponse(
            response,
            expected: expected,
            now: Self.now,
            credential: lookup
        )
        try store.recordUse(
            credentialID: verified.credentialID,
            signCount: verified.newSignCount,
            backedUp: verified.backedUp,
            at: Self.now
        )
        #expect(try store.list().first?.signCount == 1)
        let removed = try store.remove(credentialID: phone.credentialID)
        #expect(removed.credentialID == phone.credentialID)
        #expect(try store.list().isEmpty)
        let later = try Self.authenticationResponse(phone, options: options, signCount: 2)
        expectRPError(.unknownCredential) { () throws(RelyingPartyError) in
            try relyingParty.verifyAuthenticationResponse(later, expected: expected, now: Self.now, credential: lookup)
        }
        expectRPError(.credentialNotFound) { () throws(RelyingPartyError) in
            try store.remove(credentialID: phone.credentialID)
        }
    }

    // MARK: Malformed JSON

    @Test(arguments: [
        ("{", "registrationResponse"),
        ("[]", "registrationResponse"),
        (
            "{\"id\":\"AA\",\"rawId\":\"AA\",\"type\":\"public-key\",\"clientExtensionResults\":{}}",
            "registrationResponse.response"
        ),
        (
            "{\"id\":\"AA\",\"rawId\":\"A+A\",\"type\":\"public-key\",\"clientExtensionResults\":{},\"response\":{}}",
            "registrationResponse.rawId"
        ),
        (
            "{\"id\":\"AA\",\"rawId\":\"AA\",\"type\":7,\"clientExtensionResults\":{},\"response\":{\"clientDataJSON\":\"AA\",\"attestationObject\":\"AA\"}}",
            "registrationResponse.type"
        ),
        (
            "{\"id\":\"AA\",\"rawId\":\"AA\",\"type\":\"public-key\",\"clientExtensionResults\":[],\"response\":{\"clientDataJSON\":\"AA\",\"attestationObject\":\"AA\"}}",
            "registrationResponse.clientExtensionResults"
        ),
    ])
    func malformedRegistrationJSONIsATypedErrorNamingTheMember(_ text: String, _ field: String) {
        let error = expectRPError(.jsonMalformed) { () throws(RelyingPartyError) in
            try RegistrationResponseJSON(json: Array(text.utf8))
        }
        #expect(error?.field == field)
    }

    /// Hostile input: every single-byte change, truncation and splice of a valid response document is
    /// either accepted (a change in an ignored member) or refused with a RelyingPartyError, never a trap.
    @Test func mutatedResponseDocumentsAreRefusedWithTypedErrorsOrAccepted() throws {
        let phone = try TestAuthenticator(seed: 12)
        let relyingParty = Self.relyingParty()
        let (options, expected) = relyingParty.generateRegistrationOptions(user: Self.user, now: Self.now)
        let valid = try Self.registrationResponse(phone, options: options, attestation: .packedSelf).json
        var rng = DeterministicRNG(seed: 0x5EED)
        var accepted = 0
        var refused: [String: Int] = [:]
        for round in 0..<3000 {
            var bytes = valid
            switch round % 3 {
            case 0: bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            case 1: bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
            default:
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                bytes.insert(contentsOf: Array("{\"a\":[1,\"b\"]},".utf8), at: at)
            }
            do throws(RelyingPartyError) {
                let response = try RegistrationResponseJSON(json: bytes)
                _ = try relyingParty.verifyRegistrationResponse(response, expected: expected, now: Self.now)
                accepted += 1
            } catch {
                refused[error.code.rawValue, default: 0] += 1
            }
        }
        #expect(refused.values.reduce(0, +) > 2500, "\(refused)")
        #expect(refused["jsonMalformed"] ?? 0 > 1000, "\(refused)")
        #expect(accepted + refused.values.reduce(0, +) == 3000)
    }

    @Test func oversizedAndDeeplyNestedJSONIsRefusedBeforeDecoding() {
        let big = "{\"id\":\"" + String(repeating: "A", count: WebAuthnJSON.maxDocumentSize) + "\"}"
        expectRPError(.jsonMalformed) { () throws(RelyingPartyError) in
            try RegistrationResponseJSON(json: Array(big.utf8))
        }
        let deep =
            "{\"clientExtensionResults\":" + String(repeating: "[", count: 100_000)
            + String(repeating: "]", count: 100_000) + "}"
        let error = expectRPError(.jsonMalformed) { () throws(RelyingPartyError) in
            try AuthenticationResponseJSON(json: Array(deep.utf8))
        }
        #expect(error?.message.contains("nested deeper") == true)
        // Brackets inside strings do not count.
        let quoted = "{\"id\":\"" + String(repeating: "[", count: 50) + "\\\"\"}"
        let notDeep = expectRPError(.jsonMalformed) { () throws(RelyingPartyError) in
            try AuthenticationResponseJSON(json: Array(quoted.utf8))
        }
        #expect(notDeep?.message.contains("nested deeper") == false)
    }
}
