import CableAuthenticator
import CableCTAP
import CableCrypto
import CableRelyingParty
import CableTestSupport
import Testing

@Suite struct PhoneAuthenticatorGetAssertionTests {
    /// Registers alice, verifies the registration as the relying party, and returns the phone and record.
    private func registered(
        persona: AuthenticatorPersona = .authenticatorAndroid
    ) async throws -> (Phone, RelyingParty, CredentialRecord) {
        let phone = Phone(persona: persona)
        let relyingParty = RelyingParty(id: "login.example.com")
        let response = try await phone.register()
        let verified = try relyingParty.verifyRegistration(response, clientDataHash: Fixtures.registrationHash)
        let record = verified.record(
            friendlyName: "phone",
            userName: "alice@example.com",
            userHandle: PublicKeyCredentialUserEntity.alice.id
        )
        return (phone, relyingParty, record)
    }

    private func assertion(_ phone: Phone, _ request: GetAssertionRequest) async throws -> GetAssertionResponse {
        let response = try await phone.send(.getAssertion(request))
        try #require(response.status == .ok, "getAssertion answered \(response.status)")
        return try GetAssertionResponse(encoded: response.payload)
    }

    @Test func allowListAssertionVerifiesWithTheRelyingParty() async throws {
        let (phone, relyingParty, record) = try await self.registered()
        let allowList = [PublicKeyCredentialDescriptor(id: record.credentialID)]
        let clientData = ClientData(type: .get, challenge: Array(repeating: 0xA5, count: 32), rpID: "login.example.com")
        let response = try await self.assertion(
            phone,
            Fixtures.getAssertion(clientDataHash: clientData.hash, allowList: allowList)
        )

        let verified = try relyingParty.verifyAssertion(
            AssertionResponse(response, allowList: allowList),
            clientDataJSON: clientData.json,
            expectedChallenge: clientData.challenge,
            credentials: [record]
        )
        #expect(verified.credentialID == record.credentialID)
        #expect(verified.newSignCount == 1)
        #expect(verified.flags == [.userPresent, .userVerified])
    }

    @Test func allowListAnswerNamesTheCredentialLikeChromiumAndOmitsDiscoverableMembers() async throws {
        let (phone, _, record) = try await self.registered()
        let response = try await self.assertion(
            phone,
            Fixtures.getAssertion(allowList: [PublicKeyCredentialDescriptor(id: record.credentialID)])
        )
        #expect(
            response.credential
                == PublicKeyCredentialDescriptor(id: record.credentialID, transports: ["internal", "cable"])
        )
        #expect(response.user == nil)
        #expect(response.numberOfCredentials == nil)
        #expect(response.userSelected == nil)
    }

    @Test func discoverableAssertionReturnsTheUserHandleAndVerifies() async throws {
        let (phone, relyingParty, record) = try await self.registered()
        for request in [Fixtures.getAssertion(allowList: nil), Fixtures.getAssertion(allowList: [])] {
            let response = try await self.assertion(phone, request)
            // Chromium's phone (§8.2): user {id, name: "", displayName: ""} and userSelected.
            #expect(response.user == PublicKeyCredentialUserEntity(id: record.userHandle, name: "", displayName: ""))
            #expect(response.userSelected == true)
            #expect(response.numberOfCredentials == nil)
            let assertion = try AssertionResponse(response)
            #expect(assertion.userHandle == record.userHandle)
            _ = try relyingParty.verifyAssertion(
                assertion,
                clientDataHash: Fixtures.assertionHash,
                credentials: [record]
            )
        }
    }

    @Test func discoverableAssertionWithSeveralCredentialsUsesTheMostRecentAndCountsThem() async throws {
        let phone = Phone()
        _ = try await phone.register(user: .alice)
        let newest = try await phone.register(user: .bob)
        _ = try await phone.register(rpID: "other.example", user: .alice)

        let response = try await self.assertion(phone, Fixtures.getAssertion())
        #expect(response.credential?.id == newest.authenticatorData.attestedCredentialData?.credentialID)
        #expect(response.user?.id == PublicKeyCredentialUserEntity.bob.id)
        #expect(response.numberOfCredentials == 2)
        #expect(
            phone.consent.requests.last
                == ConsentRequest(
                    kind: .getAssertion,
                    rpID: "login.example.com",
                    userName: "bob@example.com",
                    userDisplayName: "Bob",
                    credentialCount: 2
                )
        )
    }

    @Test func counterStartsAtOneAndIncreasesWithEveryAssertionAsTheRelyingPartyRequires() async throws {
        var (phone, relyingParty, record) = try await self.registered()
        for expected: UInt32 in 1...4 {
            let response = try await self.assertion(phone, Fixtures.getAssertion())
            #expect(response.authenticatorData.signCount == expected)
            let verified = try relyingParty.verifyAssertion(
                try AssertionResponse(response),
                clientDataHash: Fixtures.assertionHash,
                credentials: [record]
            )
            record.signCount = verified.newSignCount
        }
        #expect(try phone.store.credential(id: record.credentialID)?.signCount == 4)

        // An assertion that does not advance the counter (a cloned key) is what the counter exists to catch.
        let stored = try #require(try phone.store.credential(id: record.credentialID))
        let cloned = AuthenticatorData(
            rpIDHash: relyingParty.rpIDHash,
            flags: [.userPresent, .userVerified],
            signCount: 4
        )
        let clonedAssertion = AssertionResponse(
            credentialID: record.credentialID,
            authenticatorData: cloned.bytes,
            signature: try stored.privateKey.signature(for: cloned.bytes + Fixtures.assertionHash)
        )
        let error = #expect(throws: RelyingPartyError.self) {
            try relyingParty.verifyAssertion(
                clonedAssertion,
                clientDataHash: Fixtures.assertionHash,
                credentials: [record]
            )
        }
        #expect(error?.code == .signCountNotIncreased)
    }

    @Test func countersAreKeptPerCredential() async throws {
        let phone = Phone()
        let first = try #require(
            try await phone.register(user: .alice).authenticatorData.attestedCredentialData?.credentialID
        )
        let second = try #require(
            try await phone.register(user: .bob).authenticatorData.attestedCredentialData?.credentialID
        )
        for _ in 0..<3 {
            _ = try await self.assertion(
                phone,
                Fixtures.getAssertion(allowList: [PublicKeyCredentialDescriptor(id: first)])
            )
        }
        let response = try await self.assertion(
            phone,
            Fixtures.getAssertion(allowList: [PublicKeyCredentialDescriptor(id: second)])
        )
        #expect(response.authenticatorData.signCount == 1)
        #expect(try phone.store.credential(id: first)?.signCount == 3)
    }

    @Test func allowListWithoutAStoredCredentialIsNoCredentials() async throws {
        let (phone, _, record) = try await self.registered()
        let unknown = Fixtures.getAssertion(allowList: [
            PublicKeyCredentialDescriptor(id: Array(repeating: 7, count: 32))
        ])
        #expect(try await phone.send(.getAssertion(unknown)).status == .noCredentials)
        let otherRP = Fixtures.getAssertion(
            rpID: "other.example",
            allowList: [PublicKeyCredentialDescriptor(id: record.credentialID)]
        )
        #expect(try await phone.send(.getAssertion(otherRP)).status == .noCredentials)
        let otherType = Fixtures.getAssertion(allowList: [
            PublicKeyCredentialDescriptor(id: record.credentialID, type: "secret-key")
        ])
        #expect(try await phone.send(.getAssertion(otherType)).status == .noCredentials)
        #expect(phone.consent.requests.map(\.kind) == [.makeCredential])
    }

    @Test func discoverableRequestWithoutCredentialsIsNoCredentials() async throws {
        #expect(try await Phone().send(.getAssertion(Fixtures.getAssertion())).status == .noCredentials)
    }

    @Test func decliningIsOperationDeniedAndLeavesTheCounter() async throws {
        let store = InMemoryCredentialStore()
        let (setup, _, record) = try await self.registered()
        for credential in try setup.store.list() { try store.add(credential) }
        let phone = Phone(store: store, approves: false)
        #expect(try await phone.send(.getAssertion(Fixtures.getAssertion())).status == .operationDenied)
        #expect(try store.credential(id: record.credentialID)?.signCount == 0)
    }

    @Test func residentKeyOptionIsUnsupportedOption() async throws {
        let (phone, _, _) = try await self.registered()
        for value in [true, false] {
            let request = Fixtures.getAssertion(options: AuthenticatorOptions(residentKey: value))
            #expect(try await phone.send(.getAssertion(request)).status == .unsupportedOption)
        }
    }

    @Test func silentAssertionAsksNobodyAndSetsNeitherUserPresentNorVerified() async throws {
        let (phone, relyingParty, record) = try await self.registered()
        let request = Fixtures.getAssertion(
            allowList: [PublicKeyCredentialDescriptor(id: record.credentialID)],
            options: AuthenticatorOptions(userPresence: false)
        )
        let response = try await self.assertion(phone, request)
        #expect(response.authenticatorData.flags.isEmpty)
        #expect(response.userSelected == nil)
        #expect(phone.consent.requests.map(\.kind) == [.makeCredential])
        // A relying party refuses it: no user was present.
        let error = #expect(throws: RelyingPartyError.self) {
            try relyingParty.verifyAssertion(
                AssertionResponse(response),
                clientDataHash: Fixtures.assertionHash,
                credentials: [record]
            )
        }
        #expect(error?.code == .userPresenceMissing)
    }

    @Test func allowListOverTheLimitIsLimitExceeded() async throws {
        let list = (0...PhoneAuthenticator.maxCredentialListCount).map {
            PublicKeyCredentialDescriptor(id: [UInt8(truncatingIfNeeded: $0)])
        }
        #expect(try await Phone().send(.getAssertion(Fixtures.getAssertion(allowList: list))).status == .limitExceeded)
    }

    @Test func pinUvAuthParamIsRefused() async throws {
        var request = Fixtures.getAssertion()
        request.pinUvAuthParam = Array(repeating: 0, count: 16)
        #expect(try await Phone().send(.getAssertion(request)).status == .missingParameter)
        request.pinUvAuthProtocol = 1
        #expect(try await Phone().send(.getAssertion(request)).status == .invalidParameter)
    }

    @Test func signatureCoversTheClientDataHashSent() async throws {
        let (phone, _, record) = try await self.registered()
        let response = try await self.assertion(phone, Fixtures.getAssertion())
        let key = record.publicKey.publicKey
        #expect(key.isValidSignature(response.signature, for: response.rawAuthenticatorData + Fixtures.assertionHash))
        #expect(
            !key.isValidSignature(response.signature, for: response.rawAuthenticatorData + Fixtures.registrationHash)
        )
    }
}
