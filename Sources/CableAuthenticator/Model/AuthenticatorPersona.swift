public import CableCTAP

/// Which authenticator model the phone presents itself as: a name for the command line, the AAGUID it
/// reports in getInfo and in every credential it creates, and the attestation format it uses by default.
///
/// Enterprise identity providers allow or refuse authenticators by AAGUID (WebAuthn §6.5.1), so the
/// persona is what decides whether a registration from this model phone passes such a policy.
///
/// | Persona | AAGUID | Default attestation |
/// |---|---|---|
/// | `authenticator-ios` | `90a3ccdf-635c-4729-a248-9b709135078f` (Microsoft Authenticator for iOS) | `packed` |
/// | `authenticator-android` | `de1e552d-db1d-4423-a619-566b625cdc84` (Authenticator for Android) | `packed` |
/// | `generic` | all zero, as Chrome on Android sends (hybrid-protocol.md §7.3) | `none` |
///
/// `packed` here is **self attestation**: the statement is signed by the new credential's own key
/// (WebAuthn §8.2, "self attestation"). It proves possession of the key and binds the AAGUID into signed
/// data, but not that the model is genuine; a real Microsoft Authenticator's attestation chains to a
/// vendor root that this model cannot produce. It exists so that a relying party that enforces
/// attestation (`cable register --enforce-attestation`) can be exercised.
public struct AuthenticatorPersona: Sendable, Hashable, CustomStringConvertible {
    /// The attestation statement format the persona puts in makeCredential responses.
    public enum AttestationFormat: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// `fmt: "none"`, `attStmt: {}` (WebAuthn §8.7).
        case none
        /// `fmt: "packed"`, self attestation `attStmt: {alg: -7, sig}` (WebAuthn §8.2).
        case packed

        /// The WebAuthn format identifier.
        public var description: String { self.rawValue }
    }

    /// The command-line name, e.g. `authenticator-ios`.
    public var name: String
    /// A human name, e.g. `Microsoft Authenticator (iOS)`.
    public var displayName: String
    /// The model identifier put in getInfo and in the attested credential data.
    public var aaguid: AAGUID
    /// The attestation format of new credentials (a persona's default can be overridden per run).
    public var attestation: AttestationFormat
    /// An attestation key and chain: `packed` is then full attestation with `x5c` instead of self attestation.
    public var attestationIdentity: AttestationIdentity? = nil

    /// Creates a persona.
    public init(name: String, displayName: String, aaguid: AAGUID, attestation: AttestationFormat) {
        self.name = name
        self.displayName = displayName
        self.aaguid = aaguid
        self.attestation = attestation
    }

    /// Microsoft Authenticator for iOS.
    public static let authenticatorIOS = Self(
        name: "authenticator-ios",
        displayName: "Microsoft Authenticator (iOS)",
        aaguid: .microsoftAuthenticatorIOS,
        attestation: .packed
    )

    /// Microsoft Authenticator for Android.
    public static let authenticatorAndroid = Self(
        name: "authenticator-android",
        displayName: "Microsoft Authenticator (Android)",
        aaguid: .microsoftAuthenticatorAndroid,
        attestation: .packed
    )

    /// A phone that does not disclose its model: the all-zero AAGUID and `none` attestation, which is what
    /// Chrome on Android reports as a hybrid authenticator (Chromium `v2_authenticator.cc`,
    /// `BuildGetInfoResponse`).
    public static let generic = Self(
        name: "generic",
        displayName: "Generic phone (model not disclosed)",
        aaguid: .zero,
        attestation: .none
    )

    /// The built-in personas, in the order the command line lists them.
    public static let all: [Self] = [.authenticatorIOS, .authenticatorAndroid, .generic]

    /// The built-in persona called `name` (case-insensitive), or `nil`.
    public static func named(_ name: String) -> Self? {
        let wanted = name.lowercased()
        return self.all.first { $0.name == wanted }
    }

    /// A persona for an AAGUID that has no built-in name (`cable phone --aaguid UUID`).
    public static func custom(aaguid: AAGUID, attestation: AttestationFormat = .packed) -> Self {
        Self(
            name: "custom",
            displayName: "Custom authenticator \(aaguid.uuidString)",
            aaguid: aaguid,
            attestation: attestation
        )
    }

    /// For example `authenticator-ios (90a3ccdf-…, packed)`.
    public var description: String { "\(self.name) (\(self.aaguid.uuidString), \(self.attestation))" }
}
