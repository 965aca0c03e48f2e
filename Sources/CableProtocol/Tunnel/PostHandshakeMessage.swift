public import CableCBOR

extension CableProtocolError.Code {
    /// The post-handshake message parsed as CBOR but was not a map.
    public static let postHandshakeNotMap = Self(rawValue: "postHandshakeNotMap")
    /// The post-handshake message was neither canonical CBOR (revision 1) nor a padded map (revision 0).
    public static let postHandshakeMalformed = Self(rawValue: "postHandshakeMalformed")
    /// Post-handshake key 3 (features) was present but not an array.
    public static let postHandshakeFeaturesNotArray = Self(rawValue: "postHandshakeFeaturesNotArray")
    /// The session needs CTAP but the phone's features list omits `"ctap"`.
    public static let postHandshakeCTAPNotSupported = Self(rawValue: "postHandshakeCTAPNotSupported")
    /// The phone supports CTAP but key 1 (getInfo) is missing or not a byte string.
    public static let postHandshakeMissingGetInfo = Self(rawValue: "postHandshakeMissingGetInfo")
    /// Key 1 (getInfo) was present although the phone did not advertise CTAP.
    public static let postHandshakeUnexpectedGetInfo = Self(rawValue: "postHandshakeUnexpectedGetInfo")
    /// Key 2 (linking info) was present but not a map.
    public static let postHandshakeLinkingNotMap = Self(rawValue: "postHandshakeLinkingNotMap")
}

/// The phone's first encrypted message (hybrid-protocol.md §7.3–7.4, Chromium
/// `FidoTunnelDevice::OnTunnelData` in `kWaitingForPostHandshakeMessage`, `TunnelTransport::OnTunnelData`).
///
/// | Key | Type | Meaning |
/// | --- | --- | --- |
/// | 1 | bstr | CBOR-encoded getInfo response, required iff the phone supports CTAP |
/// | 2 | map | linking info (QR flow, see ``DecodingOptions/linking``); revision 1 uses an ``UpdateMessage`` |
/// | 3 | array | features: `"ctap"`, `"dc"`; absent ⇒ CTAP; unknown or non-string entries ignored |
///
/// `description` shows sizes and features only.
public struct PostHandshakeMessage: Sendable, Hashable, CustomStringConvertible {
    /// What a phone can do over the tunnel (Chromium `cablev2::Feature`).
    public enum Feature: String, Sendable, Hashable, CaseIterable, Comparable {
        /// CTAP2 (`"ctap"`).
        case ctap = "ctap"
        /// Digital credentials, e.g. mobile driving licences (`"dc"`).
        case digitalCredentials = "dc"

        /// Chromium sorts the features list by string.
        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// How the desktop reads the message.
    public struct DecodingOptions: Sendable {
        /// Fail unless the phone supports CTAP (Chromium `must_support_ctap_`; linked sessions always do).
        public var requiresCTAP: Bool
        /// What to do with key 2. Chromium verifies it in the QR flow (``LinkingHandling/verify(_:)``) and
        /// ignores it in the linked flow (``LinkingHandling/ignore``).
        public var linking: LinkingHandling

        /// Options for a session.
        public init(requiresCTAP: Bool = true, linking: LinkingHandling = .parse) {
            self.requiresCTAP = requiresCTAP
            self.linking = linking
        }
    }

    /// The CBOR keys (protocol constants).
    enum Key: Int64 {
        case getInfo = 1
        case linkingInfo = 2
        case features = 3

        /// The key as a CBOR integer.
        var cbor: CBORValue { .integer(self.rawValue) }
    }

    /// Key 1: the phone's CBOR-encoded getInfo response (no status byte), carried opaquely; the desktop
    /// answers a local getInfo from it. `nil` when the phone does not support CTAP.
    public let getInfo: [UInt8]?
    /// Key 2 as received, structurally parsed; `nil` when absent or ignored.
    public let linkingInfo: LinkingInfo?
    /// Key 2 with its signature verified for this session; set only when decoding with
    /// ``LinkingHandling/verify(_:)``.
    public let verifiedLinkingInfo: VerifiedLinkingInfo?
    /// Key 3 as understood: unknown strings dropped; `[.ctap]` when the key is absent.
    public let features: Set<Feature>

    /// A message to send. Including `.ctap` in `features` requires `getInfo`, and vice versa.
    ///
    /// - Precondition: `getInfo != nil` exactly when `features` contains `.ctap`.
    public init(getInfo: [UInt8]?, features: Set<Feature> = [.ctap], linkingInfo: LinkingInfo? = nil) {
        precondition((getInfo != nil) == features.contains(.ctap), "getInfo is present exactly when CTAP is")
        self.getInfo = getInfo
        self.features = features
        self.linkingInfo = linkingInfo
        self.verifiedLinkingInfo = nil
    }

    /// Decodes the first decrypted frame of a session and detects its protocol revision as Chromium
    /// does: if the plaintext is one canonical CBOR item it is revision 1 (and must be a map); otherwise
    /// it must be a revision-0 padded CBOR map.
    ///
    /// - Throws: ``CableProtocolError/Code/postHandshakeNotMap``, ``CableProtocolError/Code/postHandshakeMalformed``,
    ///   ``CableProtocolError/Code/postHandshakeFeaturesNotArray``,
    ///   ``CableProtocolError/Code/postHandshakeCTAPNotSupported``,
    ///   ``CableProtocolError/Code/postHandshakeMissingGetInfo``,
    ///   ``CableProtocolError/Code/postHandshakeUnexpectedGetInfo``,
    ///   ``CableProtocolError/Code/postHandshakeLinkingNotMap``, a ``LinkingInfo`` parsing code, or
    ///   ``CableProtocolError/Code/linkingSignatureInvalid`` when verifying.
    public static func decode(
        _ plaintext: [UInt8],
        options: DecodingOptions = DecodingOptions()
    ) throws(CableProtocolError) -> (message: PostHandshakeMessage, revision: ProtocolRevision) {
        let map: CBORMap
        let revision: ProtocolRevision
        if let value = try? CBORValue(decoding: plaintext) {
            guard let parsed = value.mapValue else {
                throw CableProtocolError(.postHandshakeNotMap, "post-handshake message is CBOR but not a map")
            }
            (map, revision) = (parsed, .one)
        } else if let parsed = try? PaddedCBORMap.decode(plaintext) {
            // Revision-0 padding makes the strict reader fail (trailing bytes), which is how Chromium
            // tells the revisions apart.
            (map, revision) = (parsed, .zero)
        } else {
            throw CableProtocolError(
                .postHandshakeMalformed,
                "post-handshake message is neither canonical CBOR nor a padded map"
            )
        }
        return (try PostHandshakeMessage(map: map, options: options), revision)
    }

    /// Applies Chromium's checks, in its order, to a decoded map.
    init(map: CBORMap, options: DecodingOptions) throws(CableProtocolError) {
        var features: Set<Feature> = []
        if let value = map[Key.features.cbor] {
            guard let array = value.arrayValue else {
                throw CableProtocolError(.postHandshakeFeaturesNotArray, "post-handshake key 3 is not an array")
            }
            for element in array {
                if let name = element.textValue, let feature = Feature(rawValue: name) {
                    features.insert(feature)
                }
            }
        } else {
            // A phone that lists no features is assumed to speak CTAP.
            features = [.ctap]
        }
        if options.requiresCTAP, !features.contains(.ctap) {
            throw CableProtocolError(.postHandshakeCTAPNotSupported, "phone does not support CTAP")
        }

        let getInfo = map[Key.getInfo.cbor]
        if features.contains(.ctap) {
            guard let bytes = getInfo?.bytesValue else {
                throw CableProtocolError(.postHandshakeMissingGetInfo, "post-handshake key 1 is missing or not bytes")
            }
            self.getInfo = bytes
        } else {
            guard getInfo == nil else {
                throw CableProtocolError(.postHandshakeUnexpectedGetInfo, "getInfo present without CTAP support")
            }
            self.getInfo = nil
        }

        if let linking = map[Key.linkingInfo.cbor] {
            guard linking.mapValue != nil else {
                throw CableProtocolError(.postHandshakeLinkingNotMap, "post-handshake key 2 is not a map")
            }
            (self.linkingInfo, self.verifiedLinkingInfo) = try options.linking.apply(to: linking)
        } else {
            (self.linkingInfo, self.verifiedLinkingInfo) = (nil, nil)
        }
        self.features = features
    }

    /// The map as Chromium's phone builds it: key 3 always (features sorted), key 1 when CTAP is
    /// supported, key 2 when linking info is included (revision 0 phones only).
    public var map: CBORMap {
        var map = CBORMap()
        map[Key.features.cbor] = .array(self.features.sorted().map { .textString($0.rawValue) })
        if let getInfo = self.getInfo {
            map[Key.getInfo.cbor] = .byteString(getInfo)
        }
        if let linkingInfo = self.linkingInfo {
            map[Key.linkingInfo.cbor] = linkingInfo.cbor
        }
        return map
    }

    /// The crypter plaintext: canonical CBOR in revision 1 (`{1: getInfo, 3: ["ctap"]}` for a CTAP phone),
    /// a padded CBOR map in the current padding format in revision 0.
    public func encoded(revision: ProtocolRevision = .one) -> [UInt8] {
        switch revision {
        case .one: return CBORValue.map(self.map).encoded
        case .zero: return PaddedCBORMap.encode(self.map, format: .current)
        }
    }

    /// Sizes and features only; the getInfo bytes and linking fields are not printed.
    public var description: String {
        let features = self.features.sorted().map(\.rawValue).joined(separator: ",")
        return "PostHandshakeMessage(getInfo: \(self.getInfo.map { "\($0.count) bytes" } ?? "none"), "
            + "features: [\(features)], linking: \(self.linkingInfo == nil ? "no" : "yes"))"
    }
}
