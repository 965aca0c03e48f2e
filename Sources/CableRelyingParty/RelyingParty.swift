import CableCTAP
internal import CableCrypto
public import CableTrust
import Foundation

/// A relying party (an identity provider) that verifies registrations and assertions as WebAuthn §7
/// prescribes, and applies an enterprise ``Policy``.
///
/// Registration (§7.1): client data, then the attestation object: RP ID hash, UP (and UV if required),
/// attested credential data with an ES256 key, the AAGUID against the allow list, and the attestation
/// statement (`none`, or `packed` self attestation verified with the credential key). Assertion (§7.2):
/// known credential, user handle, client data, RP ID hash, flags, the signature with the stored key, and
/// the signature counter.
///
/// A web server uses the two-step API on WebAuthn Level 3's JSON forms:
/// ``generateRegistrationOptions(user:excludeCredentials:origins:allowedTopOrigins:timeout:now:challenge:)``
/// then ``verifyRegistrationResponse(_:expected:now:)``, and
/// ``generateAuthenticationOptions(allowCredentials:origins:allowedTopOrigins:timeout:now:challenge:)`` then
/// ``verifyAuthenticationResponse(_:expected:now:credential:)``. The
/// `…(clientDataJSON:…expectedChallenge:…)` entry points check the same rules on raw parts. Every public
/// entry point checks the client data (type, challenge, origin, cross-origin state); there is no public
/// path that verifies a bare client data hash.
public struct RelyingParty: Sendable {
    /// An identity provider's rules for which authenticators may register.
    public struct Policy: Hashable, Sendable {
        /// Authenticator models allowed to register; `nil` allows any model.
        public var allowedAAGUIDs: Set<AAGUID>?
        /// Authenticator models refused whatever the allow list says (an enterprise's "block" key
        /// restriction).
        public var blockedAAGUIDs: Set<AAGUID> = []
        /// Require attestation with a certificate chain that verifies up to a trust anchor for the AAGUID
        /// (``RelyingParty/trust``'s metadata or anchors); `none` and self attestation are refused.
        public var enforceAttestation: Bool
        /// Require the UV flag on registrations and assertions.
        public var requireUserVerification: Bool

        /// Creates a policy. The defaults allow any model, accept `none`, and require user verification
        /// (what passkey deployments ask for).
        public init(
            allowedAAGUIDs: Set<AAGUID>? = nil,
            blockedAAGUIDs: Set<AAGUID> = [],
            enforceAttestation: Bool = false,
            requireUserVerification: Bool = true
        ) {
            self.allowedAAGUIDs = allowedAAGUIDs
            self.blockedAAGUIDs = blockedAAGUIDs
            self.enforceAttestation = enforceAttestation
            self.requireUserVerification = requireUserVerification
        }
    }

    /// The RP ID, e.g. `login.example.com`.
    public let id: String
    /// The origin client data must name, `https://<id>` unless configured.
    public let origin: String
    /// The registration policy.
    public var policy: Policy

    /// Attestation trust (CableTrust): MDS metadata, trust anchors, block list; ``Policy`` is folded in.
    public var trust: TrustPolicy?
    /// The time (seconds since 1970) at which attestation certificates are judged.
    public var trustTime: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }

    /// Creates a relying party.
    public init(id: String, origin: String? = nil, policy: Policy = Policy(), trust: TrustPolicy? = nil) {
        self.id = id
        self.origin = origin ?? "https://\(id)"
        self.policy = policy
        self.trust = trust
    }

    /// SHA-256 of the RP ID, which every authenticator data must start with.
    public var rpIDHash: [UInt8] { SHA256.hash(Array(self.id.utf8)) }
}

// MARK: - Results

/// A registration the relying party accepted: everything needed for a ``CredentialRecord``.
public struct VerifiedRegistration: Hashable, Sendable {
    /// The new credential's ID.
    public let credentialID: [UInt8]
    /// The authenticator model (self-reported unless attested).
    public let aaguid: AAGUID
    /// The credential public key.
    public let publicKey: COSEKey
    /// The initial signature counter.
    public let signCount: UInt32
    /// The attestation format that was accepted.
    public let attestationFormat: String
    /// The authenticator data flags.
    public let flags: AuthenticatorData.Flags
    /// What the trust policy concluded: attestation type, MDS status and the model's name.
    public var trust: TrustVerdict?

    /// The record to store, named by the user.
    public func record(
        friendlyName: String,
        userName: String,
        userHandle: [UInt8],
        createdAt: Date = Date()
    ) -> CredentialRecord {
        CredentialRecord(
            credentialID: self.credentialID,
            friendlyName: friendlyName,
            aaguid: self.aaguid,
            publicKey: self.publicKey,
            signCount: self.signCount,
            userName: userName,
            userHandle: userHandle,
            attestationFormat: self.attestationFormat,
            backupEligible: self.flags.contains(.backupEligible),
            backedUp: self.flags.contains(.backedUp),
            createdAt: createdAt
        )
    }
}

/// The parts of an assertion the relying party verifies (WebAuthn `AuthenticatorAssertionResponse`).
public struct AssertionResponse: Hashable, Sendable {
    /// The credential that signed.
    public var credentialID: [UInt8]
    /// The authenticator data exactly as the authenticator produced it.
    public var authenticatorData: [UInt8]
    /// The DER ECDSA signature over `authenticatorData ‖ clientDataHash`.
    public var signature: [UInt8]
    /// The user handle, for discoverable credentials.
    public var userHandle: [UInt8]?

    /// Creates a response from its parts.
    public init(credentialID: [UInt8], authenticatorData: [UInt8], signature: [UInt8], userHandle: [UInt8]? = nil) {
        self.credentialID = credentialID
        self.authenticatorData = authenticatorData
        self.signature = signature
        self.userHandle = userHandle
    }

    /// Converts a CTAP2 getAssertion response. CTAP lets the authenticator omit the credential when the
    /// allow list had exactly one entry (CTAP 2.1 §6.2.2); that entry is then the credential.
    /// - Throws: ``RelyingPartyError/Code/credentialIDMissing`` when neither names the credential.
    public init(
        _ response: GetAssertionResponse,
        allowList: [PublicKeyCredentialDescriptor]? = nil
    ) throws(RelyingPartyError) {
        if let credential = response.credential {
            self.credentialID = credential.id
        } else if let allowList, allowList.count == 1 {
            self.credentialID = allowList[0].id
        } else {
            throw RelyingPartyError(
                .credentialIDMissing,
                field: "getAssertionResponse.credential",
                "the response names no credential and the allow list did not have exactly one entry"
            )
        }
        self.authenticatorData = response.rawAuthenticatorData
        self.signature = response.signature
        self.userHandle = response.user?.id
    }
}

/// An assertion the relying party accepted.
public struct VerifiedAssertion: Hashable, Sendable {
    /// The credential that signed in.
    public let credentialID: [UInt8]
    /// The counter to store for the credential.
    public let newSignCount: UInt32
    /// The authenticator data flags (UV, BS, …).
    public let flags: AuthenticatorData.Flags
}

extension RelyingPartyError.Code {
    /// An assertion that names no credential.
    public static let credentialIDMissing = Self(rawValue: "credentialIDMissing")
}
