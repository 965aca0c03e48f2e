import CableAuthenticator
import CableCBOR
import CableCTAP
import CableCrypto
import CableRelyingParty
import CableTestSupport
import Testing

@Suite struct PhoneAuthenticatorMakeCredentialTests {
    static let personaFormats: [(AuthenticatorPersona, AuthenticatorPersona.AttestationFormat)] =
        AuthenticatorPersona.all.flatMap { persona in
            AuthenticatorPersona.AttestationFormat.allCases.map { (persona, $0) }
        }

    @Test(arguments: Self.personaFormats)
    func registrationVerifiesWithTheRelyingPartyAndCarriesThePersonaAAGUID(
        persona: AuthenticatorPersona,
        format: AuthenticatorPersona.AttestationFormat
    ) async throws {
        var persona = persona
        persona.attestation = format
        let phone = Phone(persona: persona)
        let clientData = ClientData(
            type: .create,
            challenge: Array(repeating: 0xC1, count: 32),
            rpID: "login.example.com"
        )
        let response = try await phone.register(clientDataHash: clientData.hash)

        // The web-server path: what a browser would post, verified by an RP that allows only this model
        // (packed here is self attestation, which enforced attestation refuses: see DemoTrustTests).
        let relyingParty = RelyingParty(
            id: "login.example.com",
            policy: .init(allowedAAGUIDs: [persona.aaguid])
        )
        let verified = try relyingParty.verifyRegistration(
            clientDataJSON: clientData.json,
            attestationObject: response.attestationObject.encoded,
            expectedChallenge: clientData.challenge
        )
        #expect(verified.aaguid == persona.aaguid)
        #expect(verified.attestationFormat == format.rawValue)
        #expect(verified.signCount == 0)
        let stored = try #require(try phone.store.credential(id: verified.credentialID))
        #expect(stored.publicKey == verified.publicKey)
        #expect(stored.aaguid == persona.aaguid)
    }

    @Test func packedSelfAttestationIsSignedByTheCredentialKeyOverAuthDataAndClientDataHash() async throws {
        let phone = Phone(persona: .authenticatorIOS)
        let response = try await phone.register()
        guard case .packed(let packed) = response.attestationStatement else {
            Issue.record("expected packed, got \(response.attestationStatement.format)")
            return
        }
        #expect(packed.algorithm == .es256)
        #expect(packed.isSelfAttestation)
        let key = try #require(response.authenticatorData.attestedCredentialData?.publicKey)
        #expect(
            key.publicKey.isValidSignature(
                packed.signature,
                for: response.rawAuthenticatorData + Fixtures.registrationHash
            )
        )
        #expect(
            !key.publicKey.isValidSignature(
                packed.signature,
                for: response.rawAuthenticatorData + Fixtures.assertionHash
            )
        )
    }

    @Test func noneAttestationHasAnEmptyStatement() async throws {
        let response = try await Phone(persona: .generic).register()
        #expect(response.attestationStatement == .none)
        #expect(response.attestationStatement.statement.isEmpty)
    }

    @Test func authenticatorDataHasUserPresentVerifiedAndAttestedButNoBackupFlags() async throws {
        let response = try await Phone().register()
        let flags = response.authenticatorData.flags
        #expect(flags == [.userPresent, .userVerified, .attestedCredentialData])
        #expect(response.authenticatorData.rpIDHash == SHA256.hash(Array("login.example.com".utf8)))
        #expect(response.authenticatorData.signCount == 0)
    }

    @Test func credentialIDsAreRandomAndOfTheDocumentedLength() async throws {
        let phone = Phone(seed: 7)
        let first = try await phone.register(user: .alice)
        let second = try await phone.register(user: .bob)
        let firstID = try #require(first.authenticatorData.attestedCredentialData?.credentialID)
        let secondID = try #require(second.authenticatorData.attestedCredentialData?.credentialID)
        #expect(firstID.count == PhoneAuthenticator.credentialIDByteCount)
        #expect(firstID != secondID)
        #expect(
            first.authenticatorData.attestedCredentialData?.publicKey
                != second.authenticatorData.attestedCredentialData?.publicKey
        )
    }

    @Test func everyCredentialIsStoredAsDiscoverableEvenWithResidentKeyFalse() async throws {
        let phone = Phone()
        let request = Fixtures.makeCredential(options: AuthenticatorOptions(residentKey: false, userVerification: true))
        let response = try await phone.send(.makeCredential(request))
        #expect(response.status == .ok)
        let stored = try phone.store.credentials(forRP: "login.example.com")
        #expect(stored.count == 1)
        #expect(stored.first?.userHandle == PublicKeyCredentialUserEntity.alice.id)
        #expect(stored.first?.userName == "alice@example.com")
        #expect(stored.first?.userDisplayName == "Alice")
        #expect(stored.first?.rpName == "Example Login")
    }

    @Test func theUserIsAskedWithTheRelyingPartyAndAccount() async throws {
        let phone = Phone()
        _ = try await phone.register()
        #expect(
            phone.consent.requests == [
                ConsentRequest(
                    kind: .makeCredential,
                    rpID: "login.example.com",
                    rpName: "Example Login",
                    userName: "alice@example.com",
                    userDisplayName: "Alice"
                )
            ]
        )
    }

    @Test func decliningIsOperationDeniedAndStoresNothing() async throws {
        let phone = Phone(approves: false)
        let response = try await phone.send(.makeCredential(Fixtures.makeCredential()))
        #expect(response.status == .operationDenied)
        #expect(try phone.store.list().isEmpty)
    }

    @Test func onlyUnsupportedAlgorithmsIsUnsupportedAlgorithmAndNobodyIsAsked() async throws {
        let phone = Phone()
        let request = Fixtures.makeCredential(algorithms: [
            PublicKeyCredentialParameters(algorithm: .rs256), PublicKeyCredentialParameters(algorithm: .edDSA),
        ])
        #expect(try await phone.send(.makeCredential(request)).status == .unsupportedAlgorithm)
        #expect(phone.consent.requests.isEmpty)
    }

    @Test func es256OfAnotherCredentialTypeDoesNotCount() async throws {
        let request = Fixtures.makeCredential(algorithms: [
            PublicKeyCredentialParameters(algorithm: .es256, type: "secret-key")
        ])
        #expect(try await Phone().send(.makeCredential(request)).status == .unsupportedAlgorithm)
    }

    @Test func es256AfterAnUnsupportedAlgorithmIsAccepted() async throws {
        let request = Fixtures.makeCredential(algorithms: [
            PublicKeyCredentialParameters(algorithm: .rs256), PublicKeyCredentialParameters(algorithm: .es256),
        ])
        #expect(try await Phone().send(.makeCredential(request)).status == .ok)
    }

    @Test func excludedCredentialIsCredentialExcludedAfterUserPresenceEvenWhenDeclined() async throws {
        for approves in [true, false] {
            let store = InMemoryCredentialStore()
            let setup = Phone(store: store)
            let existing = try #require(
                try await setup.register().authenticatorData.attestedCredentialData?.credentialID
            )

            let phone = Phone(store: store, approves: approves, seed: 2)
            let request = Fixtures.makeCredential(
                user: .bob,
                excludeList: [
                    PublicKeyCredentialDescriptor(id: [9, 9, 9]), PublicKeyCredentialDescriptor(id: existing),
                ]
            )
            #expect(try await phone.send(.makeCredential(request)).status == .credentialExcluded)
            #expect(phone.consent.requests.map(\.kind) == [.credentialExcluded])
            #expect(try store.list().count == 1)
        }
    }

    @Test func excludeListEntriesForOtherRelyingPartiesOrTypesDoNotExclude() async throws {
        let store = InMemoryCredentialStore()
        let phone = Phone(store: store)
        let existing = try #require(
            try await phone.register(rpID: "other.example").authenticatorData.attestedCredentialData?.credentialID
        )
        let otherRP = Fixtures.makeCredential(excludeList: [PublicKeyCredentialDescriptor(id: existing)])
        #expect(try await phone.send(.makeCredential(otherRP)).status == .ok)

        let sameRP = try #require(try store.credentials(forRP: "login.example.com").first?.id)
        let otherType = Fixtures.makeCredential(
            user: .bob,
            excludeList: [PublicKeyCredentialDescriptor(id: sameRP, type: "secret-key")]
        )
        #expect(try await phone.send(.makeCredential(otherType)).status == .ok)
    }

    @Test func userPresenceFalseIsInvalidOption() async throws {
        let request = Fixtures.makeCredential(options: AuthenticatorOptions(userPresence: false))
        #expect(try await Phone().send(.makeCredential(request)).status == .invalidOption)
    }

    @Test func enterpriseAttestationIsInvalidParameter() async throws {
        var request = Fixtures.makeCredential()
        request.enterpriseAttestation = 1
        #expect(try await Phone().send(.makeCredential(request)).status == .invalidParameter)
    }

    @Test func pinUvAuthParamWithoutProtocolIsMissingParameterAndWithOneIsInvalidParameter() async throws {
        var request = Fixtures.makeCredential()
        request.pinUvAuthParam = Array(repeating: 0, count: 16)
        #expect(try await Phone().send(.makeCredential(request)).status == .missingParameter)
        request.pinUvAuthProtocol = 2
        #expect(try await Phone().send(.makeCredential(request)).status == .invalidParameter)
    }

    @Test func excludeListOverTheLimitIsLimitExceeded() async throws {
        let list = (0...PhoneAuthenticator.maxCredentialListCount).map {
            PublicKeyCredentialDescriptor(id: [UInt8(truncatingIfNeeded: $0), 1])
        }
        #expect(list.count == PhoneAuthenticator.maxCredentialListCount + 1)
        let request = Fixtures.makeCredential(excludeList: list)
        #expect(try await Phone().send(.makeCredential(request)).status == .limitExceeded)
        let atLimit = Fixtures.makeCredential(excludeList: Array(list.dropLast()))
        #expect(try await Phone().send(.makeCredential(atLimit)).status == .ok)
    }

    @Test func unknownExtensionsAreIgnored() async throws {
        var request = Fixtures.makeCredential()
        request.extensions = CBORMap(uniqueKeysWithValues: [
            (.textString("credProtect"), .integer(2)), (.textString("x-unknown"), .bool(true)),
        ])
        let response = try await Phone().send(.makeCredential(request))
        #expect(response.status == .ok)
        let decoded = try MakeCredentialResponse(encoded: response.payload)
        #expect(decoded.authenticatorData.extensions == nil)
    }

    @Test func aFullStoreIsKeyStoreFull() async throws {
        let store = InMemoryCredentialStore()
        let phone = Phone(store: store)
        // Fill the store directly (one key reused: the store only counts).
        let key = try P256.PrivateKey()
        for index in 0..<CredentialStoreLimits.maxCredentialCount {
            try store.add(
                StoredCredential(
                    id: [UInt8(index >> 8), UInt8(index & 0xFF), 0xAA],
                    rpID: "filler.example",
                    userHandle: [1],
                    createdAt: .init(timeIntervalSince1970: 0),
                    aaguid: .zero,
                    privateKey: key
                )
            )
        }
        #expect(try await phone.send(.makeCredential(Fixtures.makeCredential())).status == .keyStoreFull)
    }
}
