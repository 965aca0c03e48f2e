import CableAuthenticator
import CableCTAP
import CableTestSupport
import Testing

@Suite struct PhoneAuthenticatorLoggingTests {
    @Test func logsNameCommandStatusAndRelyingPartyButNoSecretsOrPersonalData() async throws {
        let phone = Phone(persona: .authenticatorIOS)
        let registration = try await phone.register()
        let credentialID = try #require(registration.authenticatorData.attestedCredentialData?.credentialID)
        _ = try await phone.send(.getAssertion(Fixtures.getAssertion()))
        _ = try await phone.send(.getAssertion(Fixtures.getAssertion(rpID: "nobody.example")))
        let stored = try #require(try phone.store.credential(id: credentialID))
        let log = phone.log.text

        #expect(log.contains("ctap.command=authenticatorMakeCredential"))
        #expect(log.contains("ctap.command=authenticatorGetAssertion"))
        #expect(log.contains("ctap.status=CTAP2_OK (0x00)"))
        #expect(log.contains("ctap.error=noMatchingCredential"))
        #expect(log.contains("rp.id=login.example.com"))
        #expect(log.contains("credential=\(base64URL(credentialID).prefix(8))"))

        let forbidden: [(String, String)] = [
            ("private key", hexString(stored.privateKey.rawScalar.bytes)),
            ("private key (upper case)", hexString(stored.privateKey.rawScalar.bytes).uppercased()),
            ("registration client data hash", hexString(Fixtures.registrationHash)),
            ("assertion client data hash", hexString(Fixtures.assertionHash)),
            ("full credential ID", base64URL(credentialID)),
            ("user handle", base64URL(PublicKeyCredentialUserEntity.alice.id)),
            ("user handle text", "alice-user-handle"),
            ("user name", "alice@example.com"),
            ("signature", hexString(try #require(registration.attestationStatement.statement["sig"]?.bytesValue))),
        ]
        for (what, secret) in forbidden {
            #expect(!log.contains(secret), "the log contains the \(what)")
        }
    }
}
