import CableAuthenticator
import CableCBOR
import CableCTAP
import CableRelyingParty
import CableTestSupport
import Testing

/// Requests and answers taken from recorded sessions: the derived Chromium-order QR session
/// (`Spec/vectors/session-qr.json`), a makeCredential frame captured from a patched Chromium desktop by
/// webauthn-rs, and getInfo responses of real phones (`Spec/vectors/ctap-*.json`).
@Suite struct PhoneAuthenticatorVectorTests {
    /// The session's tunnel plaintexts in wire order, as `(label, bytes)`.
    private static func sessionMessages() throws -> [(label: String, plaintext: [UInt8])] {
        let session = try #require(SpecVectorFile.load("session-qr").vectors.first)
        let messages = try #require(session.expected?["messages"]?.array)
        return try messages.map { message in
            (try #require(message["label"]?.string), try #require(message["plaintext"]).bytes)
        }
    }

    /// The CTAP request frame of the session message labelled `label` (the tunnel's type byte 01 removed).
    private static func sessionRequest(_ label: String) throws -> [UInt8] {
        let plaintext = try #require(try self.sessionMessages().first { $0.label == label }?.plaintext)
        try #require(plaintext.first == 0x01, "a CTAP tunnel message starts with type 01")
        return Array(plaintext.dropFirst())
    }

    /// The getInfo response inside a post-handshake plaintext (key 1).
    private static func getInfo(inPostHandshake plaintext: [UInt8]) throws -> GetInfoResponse {
        let message = try #require(try CBORValue(decoding: plaintext).mapValue)
        return try GetInfoResponse(encoded: try #require(message[1]?.bytesValue))
    }

    @Test func sessionMakeCredentialIsAnsweredWithARegistrationTheRelyingPartyAccepts() async throws {
        let frame = try Self.sessionRequest("ctap_make_credential")
        guard case .makeCredential(let request) = try CTAPRequest(frame: frame) else {
            Issue.record("message is not a makeCredential request")
            return
        }
        // The session's phone announced its AAGUID in the post-handshake getInfo; the relying party allows
        // exactly that model.
        let postHandshake = try #require(try Self.sessionMessages().first { $0.label == "post_handshake" }?.plaintext)
        let announced = try Self.getInfo(inPostHandshake: postHandshake).aaguid
        let phone = Phone(persona: .authenticatorAndroid)

        let response = try await phone.send(frame: frame)
        #expect(response.status == .ok)
        let registration = try MakeCredentialResponse(encoded: response.payload)
        let relyingParty = RelyingParty(
            id: request.rp.id,
            policy: .init(allowedAAGUIDs: [announced])
        )
        let verified = try relyingParty.verifyRegistration(registration, clientDataHash: request.clientDataHash)
        #expect(verified.aaguid == announced)
        // rk: false in the request, yet the credential is discoverable with the request's account.
        let stored = try #require(try phone.store.credential(id: verified.credentialID))
        #expect(stored.userHandle == request.user.id)
        #expect(stored.userName == request.user.name)
    }

    @Test func sessionGetAssertionOnAPhoneWithoutCredentialsIsAnsweredAsRecorded() async throws {
        let messages = try Self.sessionMessages()
        let requestIndex = try #require(messages.firstIndex { $0.label == "ctap_get_assertion" })
        let recorded = messages[requestIndex + 1]
        try #require(recorded.label == "ctap_response_opaque" && recorded.plaintext.first == 0x01)

        let answer = await Phone().authenticator.handle(Array(messages[requestIndex].plaintext.dropFirst()))
        #expect(answer == Array(recorded.plaintext.dropFirst()))
    }

    @Test func sessionGetAssertionAfterTheSessionRegistrationSignsWithThatCredential() async throws {
        let phone = Phone(persona: .authenticatorAndroid)
        let makeFrame = try Self.sessionRequest("ctap_make_credential")
        guard case .makeCredential(let makeRequest) = try CTAPRequest(frame: makeFrame),
            case .getAssertion(let getRequest) = try CTAPRequest(frame: try Self.sessionRequest("ctap_get_assertion"))
        else {
            Issue.record("session messages are not makeCredential then getAssertion")
            return
        }
        let registration = try MakeCredentialResponse(encoded: try await phone.send(frame: makeFrame).payload)
        let relyingParty = RelyingParty(id: makeRequest.rp.id)
        let record = try relyingParty.verifyRegistration(registration, clientDataHash: makeRequest.clientDataHash)
            .record(friendlyName: "session", userName: makeRequest.user.name ?? "", userHandle: makeRequest.user.id)

        let response = try await phone.send(.getAssertion(getRequest))
        #expect(response.status == .ok)
        let assertion = try GetAssertionResponse(encoded: response.payload)
        #expect(assertion.user?.id == makeRequest.user.id)
        let verified = try relyingParty.verifyAssertion(
            try AssertionResponse(assertion),
            clientDataHash: getRequest.clientDataHash,
            credentials: [record]
        )
        #expect(verified.newSignCount == 1)
    }

    private static func chromiumMakeCredentialFrame() throws -> [UInt8] {
        let vector = try #require(
            SpecVectorFile.load("ctap-requests").vectors.first { $0.id == "make_credential_chromium_webauthn_rs" }
        )
        let plaintext = try #require(vector.input["tunnelPlaintext"]).bytes
        try #require(plaintext.first == 0x01)
        return Array(plaintext.dropFirst())
    }

    @Test func chromiumDesktopMakeCredentialIsAnsweredWithES256() async throws {
        let frame = try Self.chromiumMakeCredentialFrame()
        guard case .makeCredential(let request) = try CTAPRequest(frame: frame) else {
            Issue.record("not a makeCredential request")
            return
        }
        let response = try await Phone(persona: .authenticatorIOS).send(frame: frame)
        #expect(response.status == .ok)
        let registration = try MakeCredentialResponse(encoded: response.payload)
        let verified = try RelyingParty(id: request.rp.id).verifyRegistration(
            registration,
            clientDataHash: request.clientDataHash
        )
        #expect(verified.publicKey.algorithm == .es256)
        #expect(verified.aaguid == AuthenticatorPersona.authenticatorIOS.aaguid)
    }

    @Test func chromiumDesktopMakeCredentialIsExcludedWhenItsExcludedCredentialIsStored() async throws {
        let frame = try Self.chromiumMakeCredentialFrame()
        guard case .makeCredential(let request) = try CTAPRequest(frame: frame),
            let excluded = request.excludeList?.first
        else {
            Issue.record("the captured request has an exclude list")
            return
        }
        let store = InMemoryCredentialStore()
        try store.add(
            StoredCredential(
                id: excluded.id,
                rpID: request.rp.id,
                userHandle: request.user.id,
                createdAt: .init(timeIntervalSince1970: 1_700_000_000),
                aaguid: .zero,
                privateKey: try .init()
            )
        )
        #expect(await Phone(store: store).authenticator.handle(frame) == [CTAPStatus.credentialExcluded.rawValue])
    }

    @Test func getInfoMatchesTheSessionPhoneApartFromThePRFExtension() throws {
        let postHandshake = try #require(try Self.sessionMessages().first { $0.label == "post_handshake" }?.plaintext)
        let recorded = try Self.getInfo(inPostHandshake: postHandshake)
        let ours = Phone(persona: .authenticatorAndroid).authenticator.getInfo
        #expect(ours.versions == recorded.versions)
        #expect(ours.aaguid == recorded.aaguid)
        #expect(ours.options == recorded.options)
        #expect(ours.transports == recorded.transports)
        // Deliberate differences (documented on PhoneAuthenticator): prf is not implemented, limits are declared.
        #expect(recorded.extensions == ["prf"])
        #expect(ours.extensions == nil)
        #expect(ours.algorithms == [PublicKeyCredentialParameters(algorithm: .es256)])
    }

    @Test func genericPersonaGetInfoMatchesChromeOnAndroidApartFromExtensions() throws {
        let vector = try #require(
            SpecVectorFile.load("ctap-getinfo").vectors.first { $0.id == "getinfo_android_chrome" }
        )
        let recorded = try Self.getInfo(inPostHandshake: try #require(vector.input["postHandshakePlaintext"]).bytes)
        let ours = Phone(persona: .generic).authenticator.getInfo
        #expect(ours.versions == recorded.versions)
        #expect(ours.aaguid == recorded.aaguid)
        #expect(ours.options == recorded.options)
        #expect(ours.transports == recorded.transports)
    }

    @Test func getInfoRequestIsAnsweredWithTheSameBytesAsThePostHandshakeMessageCarries() async throws {
        for persona in AuthenticatorPersona.all {
            let phone = Phone(persona: persona)
            let frame = await phone.authenticator.handle([CTAPCommand.getInfo.rawValue])
            #expect(frame == [CTAPStatus.ok.rawValue] + phone.authenticator.getInfo.encoded)
            let decoded = try GetInfoResponse(encoded: frame.dropFirst())
            #expect(decoded.aaguid == persona.aaguid)
            #expect(decoded.maxMessageSize == UInt64(PhoneAuthenticator.maxRequestSize))
            #expect(decoded.maxCredentialCountInList == UInt64(PhoneAuthenticator.maxCredentialListCount))
        }
    }
}
