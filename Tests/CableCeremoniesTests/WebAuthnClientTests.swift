import CableCTAP
import CableCeremonies
import CableRelyingParty
import CableTestSupport
import Foundation
import Testing

/// The browser's part: options JSON to a CTAP2 request whose hash covers the client data JSON it
/// returns, and CTAP2 responses back to WebAuthn JSON.
@Suite struct WebAuthnClientTests {
    static let relyingParty = RelyingParty(id: "login.example.com")
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func theMakeCredentialRequestHashesTheClientDataItReturnsAndFollowsTheOptions() throws {
        let existing = CredentialRecord(
            credentialID: [1, 2, 3],
            friendlyName: "old",
            aaguid: .zero,
            publicKey: try TestKey.cose(),
            signCount: 0,
            userName: "alice",
            userHandle: [7],
            attestationFormat: "none",
            createdAt: Self.now
        )
        let (options, _) = Self.relyingParty.generateRegistrationOptions(
            user: WebAuthnUser(id: [7], name: "alice"),
            excludeCredentials: [existing],
            now: Self.now,
            challenge: Array(0..<32)
        )
        let pending = WebAuthnClient(rpID: "login.example.com").makeCredential(options)
        // The exact bytes a browser at https://login.example.com produces (WebAuthn §5.8.1.2).
        let expectedJSON =
            "{\"type\":\"webauthn.create\",\"challenge\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\","
            + "\"origin\":\"https://login.example.com\",\"crossOrigin\":false}"
        #expect(String(decoding: pending.clientDataJSON, as: UTF8.self) == expectedJSON)
        #expect(
            pending.request.clientDataHash
                == ClientData(type: .create, challenge: Array(0..<32), rpID: "login.example.com").hash
        )
        #expect(pending.request.rp.id == "login.example.com")
        #expect(pending.request.user.id == [7])
        #expect(pending.request.excludeList?.map(\.id) == [[1, 2, 3]])
        #expect(pending.request.options?.residentKey == true)
        #expect(pending.request.options?.userVerification == true)
        #expect(pending.request.publicKeyCredentialParameters.map(\.algorithm) == [.es256])
    }

    @Test func theGetAssertionRequestAsksForADiscoverableCredentialWithoutAnAllowList() {
        let (options, _) = Self.relyingParty.generateAuthenticationOptions(now: Self.now, challenge: [9, 9])
        let pending = WebAuthnClient(rpID: "login.example.com").getAssertion(options)
        #expect(pending.request.allowList == nil)
        #expect(pending.request.rpID == "login.example.com")
        #expect(
            String(decoding: pending.clientDataJSON, as: UTF8.self).hasPrefix(
                "{\"type\":\"webauthn.get\",\"challenge\":\"CQk\""
            )
        )
        let (narrow, _) = Self.relyingParty.generateAuthenticationOptions(
            allowCredentialIDs: [[4, 5]],
            userHandle: [7],
            now: Self.now
        )
        #expect(
            WebAuthnClient(rpID: "login.example.com").getAssertion(narrow).request.allowList?.map(\.id) == [[4, 5]]
        )
    }

    @Test func anAssertionThatNamesNoCredentialIsRefusedUnlessTheAllowListHadOne() throws {
        let client = WebAuthnClient(rpID: "login.example.com")
        let (options, _) = Self.relyingParty.generateAuthenticationOptions(now: Self.now)
        let pending = client.getAssertion(options)
        let anonymous = GetAssertionResponse(
            credential: nil,
            authenticatorData: AuthenticatorData(
                rpIDHash: Array(repeating: 0, count: 32),
                flags: [.userPresent],
                signCount: 1
            ),
            signature: [0x30]
        )
        #expect(throws: CeremonyError.self) { try client.authenticationResponse(anonymous, for: pending) }
        let (one, _) = Self.relyingParty.generateAuthenticationOptions(
            allowCredentialIDs: [[4, 5]],
            userHandle: nil,
            now: Self.now
        )
        #expect(try client.authenticationResponse(anonymous, for: client.getAssertion(one)).rawId.bytes == [4, 5])
    }
}

/// A fixed valid COSE key for records that are only listed, never verified against.
enum TestKey {
    static func cose() throws -> COSEKey {
        // The credential public key of py_webauthn's none-attestation registration (Spec/vectors).
        try COSEKey(
            encoded: hex(
                "a50102032620012158204856d4245fb8d94837a5d33cac3445bbf379a22544cac3c307a9faeabffb7590225820"
                    + "d4567077f45946ca92fea80a083bdc561ed272828da37c398797efde28544b0c"
            ),
            field: "publicKey"
        )
    }
}
