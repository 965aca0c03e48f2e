internal import CableCBOR

extension CableProtocolError.Code {
    /// An update message's payload was not a canonical CBOR map.
    public static let updateNotMap = Self(rawValue: "updateNotMap")
    /// An update message's key 1 (linking info) was present but not a map.
    public static let updateLinkingNotMap = Self(rawValue: "updateLinkingNotMap")
    /// A desktop → phone update payload was not canonical CBOR.
    public static let updateMalformed = Self(rawValue: "updateMalformed")
}

/// The update message a revision-1 phone sends right after the post-handshake message in the QR flow
/// (hybrid-protocol.md §7.5, §8.4; Chromium `TunnelTransport::OnTunnelData`,
/// `EstablishedConnection::ProcessUpdate`).
///
/// Frame: `[0x02] ‖ {0: bstr of zeros, 1: linking map?}`. Chromium's phone always sends it, linking or
/// not, and sizes the zero string so the crypter-padded plaintext is exactly ``paddingTarget`` bytes
/// (a 528-byte ciphertext): an observer cannot tell whether the phone linked. The desktop must accept
/// it at any time, even after it sent shutdown ("late linking").
///
/// `description` says only whether linking info is present.
public struct UpdateMessage: Sendable, Hashable, CustomStringConvertible {
    /// The CBOR keys (protocol constants).
    enum Key: Int64 {
        case padding = 0
        case linkingInfo = 1

        /// The key as a CBOR integer.
        var cbor: CBORValue { .integer(self.rawValue) }
    }

    /// The crypter plaintext size Chromium aims for (`kPaddingTarget`).
    public static let paddingTarget = 512

    /// Key 1 as received, structurally parsed; `nil` when absent or ignored.
    public let linkingInfo: LinkingInfo?
    /// Key 1 with its signature verified for this session; set only when decoding with
    /// ``LinkingHandling/verify(_:)``.
    public let verifiedLinkingInfo: VerifiedLinkingInfo?

    /// An update to send, carrying linking info or not.
    public init(linkingInfo: LinkingInfo? = nil) {
        self.linkingInfo = linkingInfo
        self.verifiedLinkingInfo = nil
    }

    /// Decodes the payload of an update frame (after the type byte), as the desktop does
    /// (`EstablishedConnection::ProcessUpdate`).
    ///
    /// Key 0 (padding) is not checked. Key 1, when present, must be a map; `linking` says whether it is
    /// then ignored (no linking expected, e.g. the linked flow), parsed, or parsed and verified.
    ///
    /// - Throws: ``CableProtocolError/Code/updateNotMap``, ``CableProtocolError/Code/updateLinkingNotMap``,
    ///   a ``LinkingInfo`` parsing code or ``CableProtocolError/Code/linkingSignatureInvalid``.
    public init(decoding payload: [UInt8], linking: LinkingHandling = .parse) throws(CableProtocolError) {
        guard let map = (try? CBORValue(decoding: payload))?.mapValue else {
            throw CableProtocolError(.updateNotMap, "update payload is not a canonical CBOR map")
        }
        guard let value = map[Key.linkingInfo.cbor] else {
            (self.linkingInfo, self.verifiedLinkingInfo) = (nil, nil)
            return
        }
        guard value.mapValue != nil else {
            throw CableProtocolError(.updateLinkingNotMap, "update key 1 is not a map")
        }
        (self.linkingInfo, self.verifiedLinkingInfo) = try linking.apply(to: value)
    }

    /// Checks a desktop → phone update as Chromium's phone does: the payload must be canonical CBOR (of
    /// any type); its content is otherwise ignored.
    ///
    /// - Throws: ``CableProtocolError/Code/updateMalformed``.
    public static func validateDesktopUpdate(_ payload: [UInt8]) throws(CableProtocolError) {
        guard (try? CBORValue(decoding: payload)) != nil else {
            throw CableProtocolError(.updateMalformed, "desktop update payload is not canonical CBOR")
        }
    }

    /// The CBOR payload (without the type byte), padded as Chromium's phone pads it.
    ///
    /// Chromium computes the zero-string length as `512 − 16 − 1 − 3` (aiming 16 bytes short of the target,
    /// one byte for key 0, three for a two-byte-length bstr header) minus the size of the encoded
    /// `{1: linking}` map when linking info is present and smaller than that; `Crypter` padding then
    /// rounds the frame up to exactly 512 bytes.
    public var payload: [UInt8] {
        var paddingLength = Self.paddingTarget - 16 - 1 - 3
        var map = CBORMap()
        if let linkingInfo = self.linkingInfo {
            var measurement = CBORMap()
            measurement[Key.linkingInfo.cbor] = linkingInfo.cbor
            let linkingSize = CBORValue.map(measurement).encoded.count
            // Chromium only shrinks the padding when the linking map fits (it DCHECKs otherwise).
            if linkingSize < paddingLength {
                paddingLength -= linkingSize
            }
            map[Key.linkingInfo.cbor] = linkingInfo.cbor
        }
        map[Key.padding.cbor] = .byteString([UInt8](repeating: 0, count: paddingLength))
        return CBORValue.map(map).encoded
    }

    /// The whole crypter plaintext: the update type byte then ``payload``.
    public var frame: [UInt8] { TunnelMessage.update(self.payload).encoded() }

    /// Whether linking info is present; nothing else.
    public var description: String { "UpdateMessage(linking: \(self.linkingInfo == nil ? "no" : "yes"))" }
}
