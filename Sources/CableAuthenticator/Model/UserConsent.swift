/// What the phone asks its user before it acts: the prompt a real phone shows with a biometric check.
///
/// The model treats an approval as user presence **and** user verification (UP and UV set), because
/// hybrid phones only serve requests with a screen lock configured and verify the user with it
/// (Chromium `v2_authenticator.cc`: "the 'uv' option is unconditionally true").
public protocol UserConsent: Sendable {
    /// Asks the user; `true` when they approve (and were verified), `false` when they decline.
    func approve(_ request: ConsentRequest) async -> Bool
}

/// One question put to the user.
///
/// It carries what a phone's prompt shows: the relying party and the account. Nothing in it is secret.
public struct ConsentRequest: Sendable, Hashable, CustomStringConvertible {
    /// Why the user is asked.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Create a passkey (authenticatorMakeCredential).
        case makeCredential
        /// Sign in with a passkey (authenticatorGetAssertion).
        case getAssertion
        /// The exclude list names a passkey that already exists here. The answer does not matter: CTAP 2.1
        /// §6.1.2 asks for user presence and then returns `CTAP2_ERR_CREDENTIAL_EXCLUDED` either way,
        /// so that a site cannot probe for credentials without the user noticing.
        case credentialExcluded
        /// authenticatorSelection: "use this phone?".
        case selection
    }

    /// Why the user is asked.
    public let kind: Kind
    /// The relying party ID (`example.com`); empty for ``Kind/selection``.
    public let rpID: String
    /// The relying party's display name, when the request carried one.
    public let rpName: String?
    /// The account name (`alice@example.com`), when known.
    public let userName: String?
    /// The account display name (`Alice`), when known.
    public let userDisplayName: String?
    /// How many passkeys matched (sign-in only); the phone signs with the most recently created one.
    public let credentialCount: Int

    /// Creates a request.
    public init(
        kind: Kind,
        rpID: String,
        rpName: String? = nil,
        userName: String? = nil,
        userDisplayName: String? = nil,
        credentialCount: Int = 0
    ) {
        self.kind = kind
        self.rpID = rpID
        self.rpName = rpName
        self.userName = userName
        self.userDisplayName = userDisplayName
        self.credentialCount = credentialCount
    }

    /// The prompt, e.g. `Create a passkey for alice on example.com?`.
    public var description: String {
        let account = self.userName.map { " for \($0)" } ?? ""
        switch self.kind {
        case .makeCredential: return "Create a passkey\(account) on \(self.rpID)?"
        case .getAssertion: return "Sign in\(account) on \(self.rpID)?"
        case .credentialExcluded: return "A passkey\(account) for \(self.rpID) already exists on this phone."
        case .selection: return "Use this phone?"
        }
    }
}

/// Approves every request (the model phone's default: a user who always says yes).
public struct AlwaysApprove: UserConsent {
    /// Creates the policy.
    public init() {}

    /// Always `true`.
    public func approve(_ request: ConsentRequest) async -> Bool { true }
}

/// Declines every request (`cable phone --deny`: the user taps "Cancel").
public struct AlwaysDeny: UserConsent {
    /// Creates the policy.
    public init() {}

    /// Always `false`.
    public func approve(_ request: ConsentRequest) async -> Bool { false }
}
