import CableAuthenticator
import CableCTAP
import Testing

@Suite struct AuthenticatorPersonaTests {
    @Test func microsoftAuthenticatorPersonasCarryTheirPublishedAAGUIDs() {
        // The AAGUIDs the issue names (FIDO Metadata Service entries for Microsoft Authenticator).
        #expect(AuthenticatorPersona.authenticatorIOS.aaguid.uuidString == "90a3ccdf-635c-4729-a248-9b709135078f")
        #expect(AuthenticatorPersona.authenticatorAndroid.aaguid.uuidString == "de1e552d-db1d-4423-a619-566b625cdc84")
    }

    @Test func genericPersonaDisclosesNoModelLikeChromeOnAndroid() {
        #expect(AuthenticatorPersona.generic.aaguid.isZero)
        #expect(AuthenticatorPersona.generic.attestation == .none)
    }

    @Test func personasAreFoundByTheirCommandLineNamesIgnoringCase() {
        #expect(AuthenticatorPersona.named("authenticator-ios") == .authenticatorIOS)
        #expect(AuthenticatorPersona.named("Authenticator-Android") == .authenticatorAndroid)
        #expect(AuthenticatorPersona.named("generic") == .generic)
        #expect(AuthenticatorPersona.named("yubikey") == nil)
        #expect(AuthenticatorPersona.all.map(\.name) == ["authenticator-ios", "authenticator-android", "generic"])
    }

    @Test func customPersonaUsesTheGivenAAGUID() throws {
        let aaguid = try #require(AAGUID(uuidString: "f24a8e70-d0d3-f82c-2937-32523cc4de5a"))
        let persona = AuthenticatorPersona.custom(aaguid: aaguid, attestation: .none)
        #expect(persona.aaguid == aaguid)
        #expect(persona.attestation == .none)
        #expect(persona.name == "custom")
    }

    @Test func attestationFormatsAreTheWebAuthnIdentifiers() {
        #expect(
            AuthenticatorPersona.AttestationFormat.allCases.map(\.rawValue) == [
                AttestationStatement.noneFormat, AttestationStatement.packedFormat,
            ]
        )
    }
}
