public import CableCTAP
public import CableRelyingParty

/// The browser's part of a cross-device ceremony, as the desktop plays it: WebAuthn JSON options in,
/// a CTAP2 request out; the phone's CTAP2 response in, WebAuthn JSON response out.
///
/// It builds the client data JSON exactly as a browser does (`ClientData.json`, byte-identical to
/// Chromium's serialization), hashes it into the CTAP request, and hands the same bytes back inside the
/// response, so a relying party verifies the result with its ordinary WebAuthn JSON API, as it would a
/// browser's `PublicKeyCredential.toJSON()`.
public struct WebAuthnClient: Sendable {
    /// The origin of the page running the ceremony (`https://<rp id>` for a site's own page).
    public let origin: String

    /// A client for a page at `origin`.
    public init(origin: String) { self.origin = origin }

    /// A client for the relying party's own top-level page, `https://<rpID>`.
    public init(rpID: String) { self.origin = "https://\(rpID)" }

    /// A makeCredential request ready to send, with the client data it hashes.
    public struct PendingRegistration: Sendable {
        /// The CTAP2 request.
        public let request: MakeCredentialRequest
        /// The client data JSON whose SHA-256 is the request's `clientDataHash`.
        public let clientDataJSON: [UInt8]
    }

    /// A getAssertion request ready to send, with the client data it hashes.
    public struct PendingAuthentication: Sendable {
        /// The CTAP2 request.
        public let request: GetAssertionRequest
        /// The client data JSON whose SHA-256 is the request's `clientDataHash`.
        public let clientDataJSON: [UInt8]
    }

    /// `navigator.credentials.create()` up to the authenticator: client data, then makeCredential with the
    /// options' RP, user, algorithms, exclude list and requirements (resident key, user verification).
    public func makeCredential(_ options: PublicKeyCredentialCreationOptionsJSON) -> PendingRegistration {
        let rpID = options.rp.id ?? Self.host(of: self.origin)
        let clientData = ClientData(type: .create, challenge: options.challenge.bytes, origin: self.origin)
        let selection = options.authenticatorSelection
        let residentKey = selection?.residentKey == "required" || selection?.requireResidentKey == true
        let request = MakeCredentialRequest(
            clientDataHash: clientData.hash,
            rp: PublicKeyCredentialRPEntity(id: rpID, name: options.rp.name),
            user: PublicKeyCredentialUserEntity(
                id: options.user.id.bytes,
                name: options.user.name,
                displayName: options.user.displayName
            ),
            publicKeyCredentialParameters: options.pubKeyCredParams.filter { $0.type == "public-key" }.map {
                PublicKeyCredentialParameters(algorithm: COSEAlgorithm(rawValue: $0.alg))
            },
            excludeList: options.excludeCredentials.flatMap { list in
                list.isEmpty ? nil : list.map { PublicKeyCredentialDescriptor(id: $0.id.bytes) }
            },
            options: AuthenticatorOptions(
                residentKey: residentKey ? true : nil,
                userVerification: Self.requestsUserVerification(selection?.userVerification) ? true : nil
            )
        )
        return PendingRegistration(request: request, clientDataJSON: clientData.json)
    }

    /// `navigator.credentials.get()` up to the authenticator: client data, then getAssertion (an empty allow
    /// list asks for a discoverable credential).
    public func getAssertion(_ options: PublicKeyCredentialRequestOptionsJSON) -> PendingAuthentication {
        let rpID = options.rpId ?? Self.host(of: self.origin)
        let clientData = ClientData(type: .get, challenge: options.challenge.bytes, origin: self.origin)
        let allowList = options.allowCredentials.flatMap { list in
            list.isEmpty ? nil : list.map { PublicKeyCredentialDescriptor(id: $0.id.bytes) }
        }
        let request = GetAssertionRequest(
            rpID: rpID,
            clientDataHash: clientData.hash,
            allowList: allowList,
            options: AuthenticatorOptions(
                userVerification: Self.requestsUserVerification(options.userVerification) ? true : nil
            )
        )
        return PendingAuthentication(request: request, clientDataJSON: clientData.json)
    }

    /// The phone's makeCredential response as `PublicKeyCredential.toJSON()` gives it: the attestation
    /// object re-keyed as WebAuthn defines it, the client data bytes, `hybrid` transport.
    public func registrationResponse(
        _ response: MakeCredentialResponse,
        for pending: PendingRegistration
    ) throws(CeremonyError) -> RegistrationResponseJSON {
        guard let credential = response.authenticatorData.attestedCredentialData else {
            throw CeremonyError(.malformedResponse, "the phone's makeCredential response carries no credential")
        }
        let object = AttestationObject(response)
        return RegistrationResponseJSON(
            rawId: credential.credentialID,
            response: AuthenticatorAttestationResponseJSON(
                clientDataJSON: pending.clientDataJSON,
                attestationObject: object.encoded,
                authenticatorData: response.rawAuthenticatorData,
                transports: ["hybrid", "internal"],
                publicKeyAlgorithm: credential.publicKey.algorithm.rawValue
            ),
            authenticatorAttachment: "cross-platform"
        )
    }

    /// The phone's getAssertion response as `PublicKeyCredential.toJSON()` gives it. CTAP lets the phone
    /// omit the credential when the allow list had one entry (CTAP 2.1 §6.2.2); that entry is then used.
    public func authenticationResponse(
        _ response: GetAssertionResponse,
        for pending: PendingAuthentication
    ) throws(CeremonyError) -> AuthenticationResponseJSON {
        let credentialID: [UInt8]
        if let credential = response.credential {
            credentialID = credential.id
        } else if let allowList = pending.request.allowList, allowList.count == 1 {
            credentialID = allowList[0].id
        } else {
            throw CeremonyError(
                .malformedResponse,
                "the phone's getAssertion response names no credential and the allow list did not have exactly one entry"
            )
        }
        return AuthenticationResponseJSON(
            rawId: credentialID,
            response: AuthenticatorAssertionResponseJSON(
                clientDataJSON: pending.clientDataJSON,
                authenticatorData: response.rawAuthenticatorData,
                signature: response.signature,
                userHandle: response.user?.id
            ),
            authenticatorAttachment: "cross-platform"
        )
    }

    /// A phone always verifies its user (screen lock); only `discouraged` leaves UV out of the request.
    static func requestsUserVerification(_ requirement: String?) -> Bool { requirement != "discouraged" }

    static func host(of origin: String) -> String {
        var rest = Substring(origin)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        return String(rest.prefix { $0 != "/" && $0 != ":" })
    }
}
