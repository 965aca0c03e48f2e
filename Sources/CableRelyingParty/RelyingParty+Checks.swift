import CableCTAP
internal import CableCrypto

extension RelyingParty {
    /// Client data checks shared by both ceremonies (WebAuthn Level 3 §7.1 steps 7–10, §7.2 steps 10–13).
    ///
    /// - Parameters:
    ///   - origins: the origins the ceremony may run at (the page's origin, not the top-level one).
    ///   - allowedTopOrigins: top-level pages allowed to embed the ceremony in a cross-origin iframe; empty
    ///     refuses every cross-origin call (`crossOrigin: true` or a `topOrigin`).
    @discardableResult
    func verifyClientData(
        _ json: [UInt8],
        type: ClientData.CeremonyType,
        expectedChallenge: [UInt8],
        origins: [String]? = nil,
        allowedTopOrigins: [String] = []
    ) throws(RelyingPartyError) -> ClientData {
        let clientData = try ClientData(json: json)
        guard clientData.type == type else {
            throw RelyingPartyError(
                .clientDataTypeMismatch,
                field: "clientDataJSON.type",
                "expected \(type.rawValue), found \(clientData.type.rawValue)"
            )
        }
        guard constantTimeEquals(clientData.challenge, expectedChallenge) else {
            throw RelyingPartyError(
                .challengeMismatch,
                field: "clientDataJSON.challenge",
                "the challenge is not the one issued for this ceremony (replayed or for another session)"
            )
        }
        let expectedOrigins = origins ?? [self.origin]
        guard expectedOrigins.contains(clientData.origin) else {
            throw RelyingPartyError(
                .originMismatch,
                field: "clientDataJSON.origin",
                "origin \"\(clientData.origin.prefix(100))\" is not this relying party's "
                    + expectedOrigins.map { "\"\($0)\"" }.joined(separator: " or ")
            )
        }
        // WebAuthn Level 3 §7.1 step 10 / §7.2 step 13: a topOrigin means a cross-origin iframe, which
        // the relying party must expect, framed by a page it names.
        switch (clientData.crossOrigin, clientData.topOrigin) {
        case (false, nil):
            break
        case (false, .some):
            throw RelyingPartyError(
                .crossOriginNotAllowed,
                field: "clientDataJSON.topOrigin",
                "topOrigin is present although crossOrigin is false; a browser sends it only for a cross-origin iframe"
            )
        case (true, nil):
            throw RelyingPartyError(
                .crossOriginNotAllowed,
                field: "clientDataJSON.crossOrigin",
                allowedTopOrigins.isEmpty
                    ? "the ceremony ran in a cross-origin iframe, which this relying party does not allow"
                    : "the ceremony ran in a cross-origin iframe but the client data names no topOrigin to check"
            )
        case (true, .some(let top)):
            guard allowedTopOrigins.contains(top) else {
                throw RelyingPartyError(
                    .crossOriginNotAllowed,
                    field: "clientDataJSON.topOrigin",
                    "the ceremony ran in a cross-origin iframe inside \"\(top.prefix(100))\", "
                        + (allowedTopOrigins.isEmpty
                            ? "and this relying party allows no cross-origin iframes"
                            : "which is not among the top-level origins this relying party allows")
                )
            }
        }
        return clientData
    }

    /// WebAuthn §7.1 step 13 / §7.2 step 15.
    func verifyRPIDHash(_ authenticatorData: AuthenticatorData) throws(RelyingPartyError) {
        guard authenticatorData.rpIDHash == self.rpIDHash else {
            throw RelyingPartyError(
                .rpIDHashMismatch,
                field: "authenticatorData.rpIdHash",
                "the credential is scoped to another RP ID than \"\(self.id)\" (rpIdHash is not SHA-256 of it)"
            )
        }
    }

    /// WebAuthn §7.1 steps 14–15 / §7.2 steps 16–17.
    func verifyFlags(_ flags: AuthenticatorData.Flags, requireUserVerification: Bool? = nil) throws(RelyingPartyError) {
        guard flags.contains(.userPresent) else {
            throw RelyingPartyError(
                .userPresenceMissing,
                field: "authenticatorData.flags",
                "the UP flag is clear (flags \(flags)): the user was not present"
            )
        }
        guard !(requireUserVerification ?? self.policy.requireUserVerification) || flags.contains(.userVerified) else {
            throw RelyingPartyError(
                .userVerificationMissing,
                field: "authenticatorData.flags",
                "the UV flag is clear (flags \(flags)) but this relying party requires user verification"
            )
        }
        // WebAuthn §6.1: BS may only be set when BE is.
        guard flags.contains(.backupEligible) || !flags.contains(.backedUp) else {
            throw RelyingPartyError(
                .authenticatorDataMalformed,
                field: "authenticatorData.flags",
                "the BS flag is set without BE (flags \(flags))"
            )
        }
    }

    /// Maps a CTAP parse failure to the relying party's code for the structure, keeping the CTAP error.
    /// Key problems get their own codes, because "the authenticator uses an unsupported algorithm" is a
    /// different fix from "the data is garbage".
    static func parseFailure(_ error: CTAPError, code: RelyingPartyError.Code, what: String) -> RelyingPartyError {
        let mapped: RelyingPartyError.Code
        switch error.code {
        case .unsupportedKey: mapped = .credentialPublicKeyUnsupported
        case .invalidPublicKey: mapped = .credentialPublicKeyInvalid
        case .invalidAttestationStatement: mapped = .attestationStatementMalformed
        case .attestedCredentialDataMissing: mapped = .attestedCredentialDataMissing
        default: mapped = code
        }
        return RelyingPartyError(
            mapped,
            field: error.field,
            "\(what) rejected: \(error.reason)",
            underlying: error
        )
    }
}

extension RelyingPartyError.Code {
    /// The client data challenge is not the one issued.
    public static let challengeMismatch = Self(rawValue: "challengeMismatch")
    /// The client data origin is not this relying party's.
    public static let originMismatch = Self(rawValue: "originMismatch")
    /// The ceremony ran in a cross-origin iframe.
    public static let crossOriginNotAllowed = Self(rawValue: "crossOriginNotAllowed")
    /// The authenticator data is for another RP ID.
    public static let rpIDHashMismatch = Self(rawValue: "rpIDHashMismatch")
    /// The UP flag is clear.
    public static let userPresenceMissing = Self(rawValue: "userPresenceMissing")
    /// The UV flag is clear while the policy requires user verification.
    public static let userVerificationMissing = Self(rawValue: "userVerificationMissing")
}
