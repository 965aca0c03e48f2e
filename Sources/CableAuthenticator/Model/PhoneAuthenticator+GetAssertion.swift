internal import CableCTAP
internal import CableCrypto

extension PhoneAuthenticator {
    /// authenticatorGetAssertion (CTAP 2.1 §6.2.2), in the specification's order of checks.
    ///
    /// - With an allow list, the credentials it names for this RP are candidates; without one (absent or
    ///   empty) every credential for the RP is, most recently created first.
    /// - The user approves one account, the most recent candidate; the phone signs with it and answers
    ///   once (no authenticatorGetNextAssertion, as hybrid phones answer one request per tunnel).
    /// - Discoverable answers carry what Chromium's phone sends (§8.2): `user` with the user handle and
    ///   empty `name`/`displayName`, `userSelected: true`, plus `numberOfCredentials` when more than one
    ///   credential matched. Every answer names the credential with transports `["internal", "cable"]`.
    /// - `up: false` is a silent assertion (CTAP 2.1): no prompt, UP and UV clear. Relying parties reject
    ///   such assertions; platforms use them to probe long exclude lists.
    /// - The counter is advanced in the store before signing, so the first assertion reports 1.
    func getAssertion(_ request: GetAssertionRequest) async throws(CTAPError) -> CTAPResponse {
        try Self.checkListLength(request.allowList, field: "getAssertion.allowList")
        try Self.checkNoPinUvAuth(request.pinUvAuthParam, protocol: request.pinUvAuthProtocol, command: "getAssertion")
        // rk is meaningless for an assertion, and CTAP 2.1 says to refuse it.
        if request.options?.residentKey != nil {
            throw CTAPError(
                .residentKeyOptionUnsupported,
                field: "getAssertion.options.rk",
                "rk is not an option of getAssertion"
            )
        }
        let userPresence = request.options?.userPresence ?? true

        let isDiscoverable = request.allowList?.isEmpty ?? true
        let forRP = try self.storedCredentials(forRP: request.rpID)
        let candidates: [StoredCredential]
        if isDiscoverable {
            candidates = forRP
        } else {
            // Descriptors of another type than public-key are skipped (WebAuthn §5.8.3).
            let allowed = Set(
                (request.allowList ?? []).filter { $0.type == PublicKeyCredentialDescriptor.publicKeyType }.map(\.id)
            )
            candidates = forRP.filter { allowed.contains($0.id) }
        }
        guard let chosen = candidates.first else {
            throw CTAPError(
                .noMatchingCredential,
                field: "getAssertion.allowList",
                isDiscoverable ? "no discoverable credential for this RP" : "no listed credential is stored for this RP"
            )
        }

        if userPresence {
            let consent = ConsentRequest(
                kind: .getAssertion,
                rpID: request.rpID,
                userName: chosen.userName,
                userDisplayName: chosen.userDisplayName,
                credentialCount: candidates.count
            )
            guard await self.consent.approve(consent) else {
                throw CTAPError(.userDeclined, field: "getAssertion", "the user declined to sign in")
            }
        }

        let credential: StoredCredential
        do {
            credential = try self.store.incrementCounter(id: chosen.id)
        } catch {
            throw self.storeFailed(error)
        }
        let authenticatorData = AuthenticatorData(
            rpIDHash: SHA256.hash(Array(request.rpID.utf8)),
            flags: userPresence ? [.userPresent, .userVerified] : [],
            signCount: credential.signCount
        )
        let signature = try Self.sign(authenticatorData.bytes + request.clientDataHash, with: credential.privateKey)
        let response = GetAssertionResponse(
            credential: PublicKeyCredentialDescriptor(id: credential.id, transports: Self.credentialTransports),
            authenticatorData: authenticatorData,
            signature: signature,
            user: isDiscoverable
                ? PublicKeyCredentialUserEntity(id: credential.userHandle, name: "", displayName: "") : nil,
            numberOfCredentials: isDiscoverable && candidates.count > 1 ? UInt64(candidates.count) : nil,
            // Only a user who saw the prompt can have selected the account.
            userSelected: isDiscoverable && userPresence ? true : nil
        )
        self.logger.debug(
            "assertion signed",
            metadata: [
                "rp.id": "\(request.rpID)", "credential": Self.logPrefix(credential),
                "signCount": "\(credential.signCount)", "discoverable": "\(isDiscoverable)",
            ]
        )
        return .success(response.cbor)
    }
}

extension CTAPError.Code {
    /// getAssertion with the `rk` option (CTAP 2.1 §6.2.2).
    static let residentKeyOptionUnsupported = Self("residentKeyOptionUnsupported", status: .unsupportedOption)
    /// No stored credential for the RP matches the allow list (or none at all, for discoverable requests).
    static let noMatchingCredential = Self("noMatchingCredential", status: .noCredentials)
}
