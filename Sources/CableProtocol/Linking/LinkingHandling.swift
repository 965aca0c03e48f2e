internal import CableCBOR
package import CableCrypto

/// What the QR-flow desktop needs to check a linking signature: this session's handshake hash and its
/// own QR key (hybrid-protocol.md §9.2).
public struct LinkingVerifier: Sendable, CustomStringConvertible {
    package let handshakeHash: HandshakeHash
    package let desktopIdentity: P256.PrivateKey

    /// A verifier for one session.
    package init(handshakeHash: HandshakeHash, desktopIdentity: P256.PrivateKey) {
        self.handshakeHash = handshakeHash
        self.desktopIdentity = desktopIdentity
    }

    /// Checks `info`'s signature for this session.
    ///
    /// - Throws: ``CableProtocolError/Code/linkingSignatureInvalid``.
    package func verify(_ info: LinkingInfo) throws(CableProtocolError) -> VerifiedLinkingInfo {
        try info.verified(handshakeHash: self.handshakeHash, desktopIdentity: self.desktopIdentity)
    }

    /// Always redacted.
    public var description: String { "LinkingVerifier(redacted)" }
}

/// How a desktop treats linking info arriving in a post-handshake or update message.
public enum LinkingHandling: Sendable {
    /// The linked flow (and Chromium without a pairing callback): the field must be a map, its content
    /// is ignored.
    case ignore
    /// Parse it with `Pairing::Parse`'s structural rules and leave the signature to the caller
    /// (`LinkingInfo.verified(handshakeHash:desktopIdentity:)`).
    case parse
    /// The QR flow exactly as Chromium does it: parse, then verify the handshake signature; a bad
    /// signature rejects the whole message.
    case verify(LinkingVerifier)

    /// Applies the handling to a value already known to be a CBOR map.
    func apply(
        to value: CBORValue
    ) throws(CableProtocolError) -> (info: LinkingInfo?, verified: VerifiedLinkingInfo?) {
        switch self {
        case .ignore:
            return (nil, nil)
        case .parse:
            return (try LinkingInfo(cbor: value), nil)
        case .verify(let verifier):
            let info = try LinkingInfo(cbor: value)
            return (info, try verifier.verify(info))
        }
    }
}
