public import CableCBOR
package import CableCrypto

extension CableProtocolError.Code {
    /// Linking info was not a CBOR map.
    public static let linkingInfoNotMap = Self(rawValue: "linkingInfoNotMap")
    /// Linking info lacked a required field, or one had the wrong CBOR type (keys 1–4 and 6 byte strings,
    /// key 5 a text string).
    public static let linkingInfoMissingField = Self(rawValue: "linkingInfoMissingField")
    /// Linking info key 4 was not a 65-byte uncompressed P-256 point.
    public static let linkingInfoInvalidPublicKey = Self(rawValue: "linkingInfoInvalidPublicKey")
}

/// The linking information a phone sends so the desktop can reach it later without a QR code
/// (hybrid-protocol.md §9.1, Chromium `Pairing::Parse` and `PairingDataGenerator`).
///
/// This type is *structurally* valid linking info: every field is present with the right type and the
/// public key is on the curve. Whether it belongs to this session is a separate question, answered by
/// `verified(handshakeHash:desktopIdentity:)`, which yields a ``VerifiedLinkingInfo``.
///
/// `description` shows field sizes only; the link secret (and every other field) is never printed.
public struct LinkingInfo: Sendable, Hashable, CustomStringConvertible {
    /// The CBOR keys (protocol constants).
    enum Key: Int64 {
        case contactID = 1
        case linkID = 2
        case linkSecret = 3
        case authenticatorPublicKey = 4
        case authenticatorName = 5
        case handshakeSignature = 6
        /// Google Play services' tag: `true` means the "new" (GMS) phone implementation.
        case playServicesTag = 999

        /// The key as a CBOR integer.
        var cbor: CBORValue { .integer(self.rawValue) }
    }

    /// Key 1: opaque contact ID with which the tunnel service reaches the phone (e.g. a push token).
    public let contactID: [UInt8]
    /// Key 2: the link ("pairing") ID, 8 bytes from Chromium (length not checked, as in Chromium).
    public let linkID: [UInt8]
    /// Key 3: the link secret (32 bytes from Chromium; not checked). Secret: package access only.
    package let linkSecret: SecretBytes
    /// Key 4: the phone's identity key, 65 bytes uncompressed.
    public let authenticatorPublicKey: [UInt8]
    /// Key 5: a name for the phone to show the user (e.g. "Pixel 7").
    public let authenticatorName: String
    /// Key 6: the handshake signature (`LinkingSignature`).
    public let handshakeSignature: [UInt8]
    /// Key 999 is `true`: sent by the Google Play services implementation.
    public let isFromPlayServices: Bool

    /// All fields, as given (tests and hand-built values). The phone side uses the initialiser that signs.
    ///
    /// - Precondition: `authenticatorPublicKey` is 65 bytes (programmer input).
    package init(
        contactID: [UInt8],
        linkID: [UInt8],
        linkSecret: SecretBytes,
        authenticatorPublicKey: [UInt8],
        authenticatorName: String,
        handshakeSignature: [UInt8],
        isFromPlayServices: Bool = false
    ) {
        precondition(authenticatorPublicKey.count == CableConstants.uncompressedPublicKeySize)
        self.contactID = contactID
        self.linkID = linkID
        self.linkSecret = linkSecret
        self.authenticatorPublicKey = authenticatorPublicKey
        self.authenticatorName = authenticatorName
        self.handshakeSignature = handshakeSignature
        self.isFromPlayServices = isFromPlayServices
    }

    /// Builds linking info on the phone, signing this session's handshake hash with the identity key
    /// (Chromium `PairingDataGenerator::Generate`).
    ///
    /// - Throws: ``CableProtocolError/Code/linkingCryptoFailure`` only if ECDH fails in OpenSSL.
    package init(
        contactID: [UInt8],
        linkID: [UInt8],
        linkSecret: SecretBytes,
        identity: P256.PrivateKey,
        authenticatorName: String,
        desktopIdentity: P256.PublicKey,
        handshakeHash: HandshakeHash,
        isFromPlayServices: Bool = false
    ) throws(CableProtocolError) {
        self.init(
            contactID: contactID,
            linkID: linkID,
            linkSecret: linkSecret,
            authenticatorPublicKey: identity.publicKey.uncompressedRepresentation,
            authenticatorName: authenticatorName,
            handshakeSignature: try LinkingSignature.compute(
                identity: identity,
                desktopIdentity: desktopIdentity,
                handshakeHash: handshakeHash
            ),
            isFromPlayServices: isFromPlayServices
        )
    }

    /// Parses a linking map with Chromium's `Pairing::Parse` rules (except the signature, see
    /// `verified(handshakeHash:desktopIdentity:)`). Unknown keys are ignored; key 999 counts only if
    /// it is `true`.
    ///
    /// - Throws: ``CableProtocolError/Code/linkingInfoNotMap``,
    ///   ``CableProtocolError/Code/linkingInfoMissingField``,
    ///   ``CableProtocolError/Code/linkingInfoInvalidPublicKey``.
    public init(cbor: CBORValue) throws(CableProtocolError) {
        guard let map = cbor.mapValue else {
            throw CableProtocolError(.linkingInfoNotMap, "linking info is not a CBOR map")
        }
        func bytes(_ key: Key) throws(CableProtocolError) -> [UInt8] {
            guard let value = map[key.cbor]?.bytesValue else {
                throw CableProtocolError(.linkingInfoMissingField, "linking key \(key.rawValue) is not a byte string")
            }
            return value
        }
        guard let name = map[Key.authenticatorName.cbor]?.textValue else {
            throw CableProtocolError(.linkingInfoMissingField, "linking key 5 is not a text string")
        }
        let contactID = try bytes(.contactID)
        let linkID = try bytes(.linkID)
        let linkSecret = try bytes(.linkSecret)
        let publicKey = try bytes(.authenticatorPublicKey)
        let signature = try bytes(.handshakeSignature)
        // Chromium checks the length here and the point in VerifyPairingSignature; both are properties
        // of the data, so both are checked before the session is consulted.
        guard publicKey.count == CableConstants.uncompressedPublicKeySize,
            (try? P256.PublicKey(x962Representation: publicKey)) != nil
        else {
            throw CableProtocolError(
                .linkingInfoInvalidPublicKey,
                "linking key 4 is not a 65-byte P-256 point (\(publicKey.count) bytes)"
            )
        }
        self.init(
            contactID: contactID,
            linkID: linkID,
            linkSecret: SecretBytes(linkSecret),
            authenticatorPublicKey: publicKey,
            authenticatorName: name,
            handshakeSignature: signature,
            isFromPlayServices: map[Key.playServicesTag.cbor]?.boolValue == true
        )
    }

    /// The linking map as Chromium's phone writes it: keys 1–6, plus `999: true` when set.
    public var cbor: CBORValue {
        var map = CBORMap()
        map[Key.contactID.cbor] = .byteString(self.contactID)
        map[Key.linkID.cbor] = .byteString(self.linkID)
        map[Key.linkSecret.cbor] = .byteString(self.linkSecret.bytes)
        map[Key.authenticatorPublicKey.cbor] = .byteString(self.authenticatorPublicKey)
        map[Key.authenticatorName.cbor] = .textString(self.authenticatorName)
        map[Key.handshakeSignature.cbor] = .byteString(self.handshakeSignature)
        if self.isFromPlayServices {
            map[Key.playServicesTag.cbor] = .bool(true)
        }
        return .map(map)
    }

    /// Checks the handshake signature against this session (QR flow only: the desktop's QR key and this
    /// handshake's hash), in constant time.
    ///
    /// - Throws: ``CableProtocolError/Code/linkingSignatureInvalid``.
    package func verified(
        handshakeHash: HandshakeHash,
        desktopIdentity: P256.PrivateKey
    ) throws(CableProtocolError) -> VerifiedLinkingInfo {
        // The key was validated when parsing, so this only fails for hand-built values.
        guard let authenticatorIdentity = try? P256.PublicKey(x962Representation: self.authenticatorPublicKey),
            LinkingSignature.isValid(
                self.handshakeSignature,
                desktopIdentity: desktopIdentity,
                authenticatorIdentity: authenticatorIdentity,
                handshakeHash: handshakeHash
            )
        else {
            throw CableProtocolError(.linkingSignatureInvalid, "linking signature does not match this session")
        }
        return VerifiedLinkingInfo(self)
    }

    /// Field sizes only.
    public var description: String {
        // Everything here arrived encrypted, the name included: sizes only.
        "LinkingInfo(contactID: \(self.contactID.count) bytes, linkID: \(self.linkID.count) bytes, "
            + "name: \(self.authenticatorName.utf8.count) bytes, secret redacted)"
    }
}

/// Linking info whose handshake signature verified for the session it arrived in: safe to store.
/// Obtain it only through `LinkingInfo.verified(handshakeHash:desktopIdentity:)`.
public struct VerifiedLinkingInfo: Sendable, Hashable, CustomStringConvertible {
    /// The verified fields.
    public let info: LinkingInfo

    fileprivate init(_ info: LinkingInfo) { self.info = info }

    /// Field sizes only, marked verified.
    public var description: String { "Verified\(self.info)" }
}
