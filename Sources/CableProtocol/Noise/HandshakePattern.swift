/// The two Noise handshakes of caBLE v2 (hybrid-protocol.md §6.1, Chromium `Noise::HandshakeType`).
///
/// Both are standard Noise patterns with the `psk0` modifier over P-256, AES-256-GCM and SHA-256
/// (<https://noiseprotocol.org/noise.html#handshake-patterns>). Public keys travel as 65-byte
/// uncompressed X9.62 points. The desktop is always the initiator.
///
/// | Pattern | Flow | Prologue | Pre-message | Messages |
/// | --- | --- | --- | --- | --- |
/// | ``knpsk0`` | QR code | `0x01` | initiator static (the QR key) | → psk, e ; ← e, ee, se |
/// | ``nkpsk0`` | linked phone | `0x00` | responder static (the phone's identity key) | → psk, e, es ; ← e, ee |
public enum HandshakePattern: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// `Noise_KNpsk0_P256_AESGCM_SHA256`: the QR flow. The phone learned the desktop's static key from
    /// the QR code; the PSK comes from the QR secret and the advert.
    case knpsk0
    /// `Noise_NKpsk0_P256_AESGCM_SHA256`: the linked ("contact") flow. The desktop stored the phone's
    /// identity key when linking, so other holders of the link secret cannot impersonate the phone.
    case nkpsk0

    /// The Noise protocol name, which initialises the chaining key and handshake hash.
    public var protocolName: String {
        switch self {
        case .knpsk0: return "Noise_KNpsk0_P256_AESGCM_SHA256"
        case .nkpsk0: return "Noise_NKpsk0_P256_AESGCM_SHA256"
        }
    }

    /// The one-byte prologue Chromium mixes in right after initialisation (1 for QR, 0 for linked).
    public var prologue: UInt8 {
        switch self {
        case .knpsk0: return 1
        case .nkpsk0: return 0
        }
    }

    /// The Noise protocol name.
    public var description: String { self.protocolName }
}

/// Sizes of the handshake messages (hybrid-protocol.md §6.4).
public enum HandshakeMessageSize {
    /// An uncompressed P-256 ephemeral key (`kP256X962Length`).
    public static let ephemeralKey = CableConstants.uncompressedPublicKeySize
    /// The AES-GCM tag that encrypts the empty payload.
    public static let tag = 16
    /// Both handshake messages: ephemeral key then tag (Chromium `kResponseSize` = 65 + 16 = 81).
    public static let message = ephemeralKey + tag
}
