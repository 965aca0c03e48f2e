public import CableCTAP

/// An enterprise's trust rules for registrations ("key restrictions" and "enforce attestation"), and the
/// verdict they give.
///
/// Order of the rules (the first that fails is the refusal): the block list; the allow list; with
/// metadata, a refused status in the AAGUID's latest status report; with ``enforceAttestation``: an
/// attestation type that carries a certificate chain (not `none`, not self), the AAGUID listed in the
/// metadata (when metadata is configured), a trust anchor for the AAGUID (the metadata's
/// `attestationRootCertificates` plus ``additionalAnchors``), and a chain that verifies up to one of them.
public struct TrustPolicy: Sendable {
    /// When set, only these models may register.
    public var allowedAAGUIDs: Set<AAGUID>?
    /// These models may never register.
    public var blockedAAGUIDs: Set<AAGUID>
    /// Whether attestation must verify up to a trust anchor for the AAGUID.
    public var enforceAttestation: Bool
    /// The verified MDS BLOB, if any.
    public var metadata: MetadataBLOB?
    /// Trust anchors for every AAGUID, beside the metadata's (`--attestation-root`).
    public var additionalAnchors: TrustAnchors
    /// Latest statuses that refuse a registration whatever its attestation.
    public var refusedStatuses: Set<AuthenticatorStatus>

    /// A policy; the defaults accept every authenticator.
    public init(
        allowedAAGUIDs: Set<AAGUID>? = nil,
        blockedAAGUIDs: Set<AAGUID> = [],
        enforceAttestation: Bool = false,
        metadata: MetadataBLOB? = nil,
        additionalAnchors: TrustAnchors = TrustAnchors(),
        refusedStatuses: Set<AuthenticatorStatus> = AuthenticatorStatus.refusedByDefault
    ) {
        self.allowedAAGUIDs = allowedAAGUIDs
        self.blockedAAGUIDs = blockedAAGUIDs
        self.enforceAttestation = enforceAttestation
        self.metadata = metadata
        self.additionalAnchors = additionalAnchors
        self.refusedStatuses = refusedStatuses
    }

    /// Verifies the attestation statement (``AttestationVerifier``) and then applies the policy.
    /// - Parameters:
    ///   - object: the attestation object of the registration.
    ///   - clientDataHash: SHA-256 of the client data JSON (32 bytes).
    ///   - time: seconds since 1970 (UTC) at which certificates are judged.
    public func evaluate(
        _ object: AttestationObject,
        clientDataHash: [UInt8],
        at time: Int64
    ) throws(TrustError) -> TrustVerdict {
        guard let aaguid = object.authenticatorData.attestedCredentialData?.aaguid else {
            throw TrustError(
                .attestationStatementMalformed,
                rule: "WebAuthn §6.5.1",
                "the authenticator data carries no attested credential data"
            )
        }
        // The AAGUID rules first: a blocked model is refused whatever it sends.
        try self.checkLists(aaguid)
        let attestation = try AttestationVerifier.verify(object, clientDataHash: clientDataHash)
        return try self.evaluate(attestation, aaguid: aaguid, at: time)
    }

    /// Applies the policy to an attestation that its format's procedure already verified.
    public func evaluate(
        _ attestation: VerifiedAttestation,
        aaguid: AAGUID,
        at time: Int64
    ) throws(TrustError) -> TrustVerdict {
        try self.checkLists(aaguid)
        let entry = self.metadata?.entry(for: aaguid)
        let latest = entry?.latestStatus
        if let latest, self.refusedStatuses.contains(latest.status) {
            throw TrustError(
                .authenticatorStatusRefused,
                aaguid: aaguid,
                rule: "mds-status",
                "the FIDO metadata reports authenticator model \(aaguid.uuidString)"
                    + (entry?.description.map { " (\($0))" } ?? "")
                    + " as \(latest.status.rawValue)"
                    + (latest.effectiveDate.map { " since \($0)" } ?? "")
                    + "; registrations from it are refused. Use another authenticator model"
            )
        }
        var pathVerified = false
        if self.enforceAttestation {
            guard attestation.type.hasCertificatePath else {
                throw TrustError(
                    .attestationRequired,
                    aaguid: aaguid,
                    rule: "enforce-attestation",
                    "attestation is enforced, but authenticator model \(aaguid.uuidString) sent "
                        + (attestation.type == .none
                            ? "'none' attestation" : "self attestation (\(attestation.format), no certificate chain)")
                        + "; it must attest with a certificate chain that verifies up to a trusted root"
                )
            }
            if self.metadata != nil, entry == nil {
                throw TrustError(
                    .aaguidNotInMetadata,
                    aaguid: aaguid,
                    rule: "enforce-attestation",
                    "attestation is enforced and authenticator model \(aaguid.uuidString) is not listed in the FIDO metadata (MDS BLOB no \(self.metadata!.number)); "
                        + "only models the metadata lists can register"
                )
            }
            var anchors = self.additionalAnchors
            if let entry { anchors = try entry.trustAnchors().adding(anchors) }
            guard anchors.count > 0 else {
                throw TrustError(
                    .noTrustAnchor,
                    aaguid: aaguid,
                    rule: "enforce-attestation",
                    "attestation is enforced but there is no trust anchor for authenticator model \(aaguid.uuidString); "
                        + "give its attestation root with --attestation-root or metadata that lists it with --mds"
                )
            }
            do throws(TrustError) {
                _ = try CertificateChain.verifyPath(
                    attestation.certificates,
                    anchors: anchors.certificates,
                    at: time,
                    aaguid: aaguid,
                    rule: "enforce-attestation"
                )
            } catch {
                throw TrustError(
                    error.code,
                    aaguid: aaguid,
                    rule: "enforce-attestation",
                    "the \(attestation.format) attestation of authenticator model \(aaguid.uuidString) does not verify up to a trust anchor for it: "
                        + error.reason
                )
            }
            pathVerified = true
        }
        return TrustVerdict(
            aaguid: aaguid,
            attestationFormat: attestation.format,
            attestationType: attestation.type,
            trustPathVerified: pathVerified,
            metadataStatus: latest?.status,
            authenticatorName: entry?.description
        )
    }

    private func checkLists(_ aaguid: AAGUID) throws(TrustError) {
        if self.blockedAAGUIDs.contains(aaguid) {
            throw TrustError(
                .aaguidBlocked,
                aaguid: aaguid,
                rule: "block-aaguid",
                "authenticator model AAGUID \(aaguid.uuidString) is on this relying party's block list; "
                    + "an administrator must remove it from the blocked AAGUIDs before this authenticator can register"
            )
        }
        if let allowed = self.allowedAAGUIDs, !allowed.contains(aaguid) {
            throw TrustError(
                .aaguidNotAllowed,
                aaguid: aaguid,
                rule: "allow-aaguid",
                "authenticator model AAGUID \(aaguid.uuidString) is not allowed by this relying party's policy; "
                    + "an administrator must add \(aaguid.uuidString) to the allowed AAGUIDs list before this authenticator can register"
            )
        }
    }
}

/// What the policy concluded about an accepted registration (the `--json` trust fields).
public struct TrustVerdict: Sendable, Hashable {
    /// The model.
    public let aaguid: AAGUID
    /// The attestation format (`none`, `packed` …).
    public let attestationFormat: String
    /// The attestation type.
    public let attestationType: AttestationType
    /// Whether the chain was verified up to a trust anchor (only under ``TrustPolicy/enforceAttestation``).
    public let trustPathVerified: Bool
    /// The latest MDS status for the AAGUID, with metadata.
    public let metadataStatus: AuthenticatorStatus?
    /// The MDS description of the model, with metadata.
    public let authenticatorName: String?
}
