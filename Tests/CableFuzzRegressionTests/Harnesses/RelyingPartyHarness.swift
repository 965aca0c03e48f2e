import CableCTAP
import CableRelyingParty
import Foundation

/// Fuzzes the relying party's entry points for what a browser posts: client data
/// (`ClientData(json:)`), registrations (`RelyingParty.verifyRegistration`) and assertions
/// (`RelyingParty.verifyAssertion`), each with the fuzz input in one field and the other fields from a
/// real browser ceremony, so the seeds taken from those ceremonies pass.
public enum RelyingPartyHarness {
    /// `webauthn-registrations.json` `registration_none_py_webauthn`.
    static let registration = FuzzFixtures.registration
    /// `webauthn-assertions.json` `assertion_ec2_py_webauthn`.
    static let assertion = FuzzFixtures.assertion

    /// The relying party of the registration, with the default policy the vector was checked under.
    static let registrationParty = RelyingParty(
        id: Self.registration.text("rpId"),
        origin: Self.registration.text("origin")
    )

    /// The relying party of the assertion (the vector does not require user verification).
    static let assertionParty = RelyingParty(
        id: Self.assertion.text("rpId"),
        origin: Self.assertion.text("origin"),
        policy: RelyingParty.Policy(requireUserVerification: false)
    )

    /// The stored record of the assertion's credential.
    static let assertionCredential: CredentialRecord = {
        guard let key = try? COSEKey(encoded: Self.assertion.bytes("credentialPublicKey")),
            let aaguid = try? AAGUID(bytes: [UInt8](repeating: 0, count: AAGUID.byteCount)),
            let signCount = UInt32(exactly: Self.assertion.integer("storedSignCount"))
        else {
            preconditionFailure("assertion_ec2_py_webauthn: credential record fields rejected")
        }
        return CredentialRecord(
            credentialID: Self.assertion.bytes("credentialId"),
            friendlyName: "fuzz",
            aaguid: aaguid,
            publicKey: key,
            signCount: signCount,
            userName: "fuzz",
            userHandle: [],
            attestationFormat: "none",
            createdAt: Date(timeIntervalSince1970: 1_700_000_000)
        )
    }()

    /// Puts `input` in turn into each browser-supplied field.
    public static func run(_ input: [UInt8]) -> FuzzReport {
        var report = FuzzReport()
        report.attempt("ClientData(json:)") { () throws(RelyingPartyError) in try ClientData(json: input) }
        report.attempt("RelyingParty.verifyRegistration [attestationObject]") { () throws(RelyingPartyError) in
            try Self.registrationParty.verifyRegistration(
                clientDataJSON: Self.registration.bytes("clientDataJSON"),
                attestationObject: input,
                expectedChallenge: Self.registration.bytes("challenge")
            )
        }
        report.attempt("RelyingParty.verifyRegistration [clientDataJSON]") { () throws(RelyingPartyError) in
            try Self.registrationParty.verifyRegistration(
                clientDataJSON: input,
                attestationObject: Self.registration.bytes("attestationObject"),
                expectedChallenge: Self.registration.bytes("challenge")
            )
        }
        let response = AssertionResponse(
            credentialID: Self.assertion.bytes("credentialId"),
            authenticatorData: input,
            signature: Self.assertion.bytes("signature")
        )
        report.attempt("RelyingParty.verifyAssertion [authenticatorData]") { () throws(RelyingPartyError) in
            try Self.assertionParty.verifyAssertion(
                response,
                clientDataJSON: Self.assertion.bytes("clientDataJSON"),
                expectedChallenge: Self.assertion.bytes("challenge"),
                credentials: [Self.assertionCredential]
            )
        }
        return report
    }
}
