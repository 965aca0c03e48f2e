internal import CableCBOR
@_spi(Fuzzing) internal import CableProtocol

/// Deliberate mistakes the desktop role can be told to make, so that the conformance kit's `desktop.*`
/// scenarios can be shown to catch them (mutation tests). Package-only: no command, flag or public API
/// reaches it, and an empty set (the default) changes nothing.
///
/// Each fault is one realistic bug of a desktop implementation; the hooks below are called from small,
/// marked places in ``HybridDesktop`` and ``DesktopSession``.
package struct DesktopFaults: Sendable, Hashable {
    package enum Fault: String, Sendable, Hashable, CaseIterable {
        /// The QR URL starts with `fido:/` instead of `FIDO:/`.
        case lowercaseQRPrefix
        /// The QR URL's last digit is missing (an invalid digit-group length).
        case truncatedQRDigits
        /// The QR CBOR announces its map length with a non-minimal header (`b8 06` for `a6`).
        case nonCanonicalQRCBOR
        /// QR key 0 carries the 65-byte uncompressed key.
        case uncompressedQRKey
        /// QR key 1 carries 15 bytes.
        case shortQRSecret
        /// QR key 2 (assigned tunnel-server domains known) is left out.
        case qrWithoutKnownDomains
        /// QR key 4 (linking) is the integer 0 instead of a boolean.
        case qrLinkingFlagNotBool
        /// Reads adverts only from service data for 0xFFF9, not for the legacy 0xFDE2.
        case ignoresLegacyAdvertUUID
        /// Joins the tunnel with a tunnel ID that is not derived from the QR secret.
        case wrongTunnelID
        /// Joins the tunnel with a routing ID other than the advert's.
        case wrongRoutingID
        /// Noise message 1 has its last byte (the tag's) flipped.
        case corruptHandshakeMessage
        /// Takes the first 81 bytes of a longer handshake response instead of refusing it.
        case truncatesLongHandshakeResponse
        /// Refuses a revision-0 (padded) post-handshake message.
        case rejectsRevisionZero
        /// Refuses a revision-0 post-handshake message in the old padding (256-byte granularity, one count byte).
        case rejectsLegacyPaddedMap
        /// Refuses a post-handshake message without the features list (key 3).
        case requiresFeatureList
        /// Refuses a post-handshake message that lists features it does not know.
        case rejectsUnknownFeatures
        /// Sends the CTAP request without the message-type byte in revision 1.
        case omitsRequestTypeByte
        /// Ends the transaction without the encrypted shutdown frame.
        case omitsShutdown
        /// Skips a frame whose padding count exceeds its length instead of ending the transaction.
        case skipsFramesWithBadPadding
        /// Ignores a shutdown frame from the phone (only desktops send those) and keeps waiting.
        case ignoresPhoneShutdown
        /// Takes a JSON reply as the answer to its CTAP request.
        case acceptsAnyReplyType
        /// After a protocol error, keeps the tunnel open (for up to a minute) instead of closing it.
        case lingersAfterError
    }

    /// The faults in effect.
    package var active: Set<Fault>

    /// No fault: the desktop behaves correctly.
    package init(_ faults: Set<Fault> = []) { self.active = faults }

    package func has(_ fault: Fault) -> Bool { self.active.contains(fault) }

    // MARK: - Hooks

    /// The URL the desktop shows for `payload`.
    func qrURL(_ payload: QRCodePayload) -> String {
        guard !self.active.isEmpty else { return payload.url }
        var map = payload.cbor.mapValue ?? CBORMap()
        if self.has(.uncompressedQRKey) { map[0] = .byteString(payload.uncompressedPublicKey) }
        if self.has(.shortQRSecret) { map[1] = .byteString(Array(payload.secret.bytes.dropLast())) }
        if self.has(.qrWithoutKnownDomains) { map[2] = nil }
        if self.has(.qrLinkingFlagNotBool) { map[4] = .integer(0) }
        var cbor = CBORValue.map(map).encoded
        if self.has(.nonCanonicalQRCBOR), let header = cbor.first, header >= 0xA0, header < 0xB8 {
            cbor.replaceSubrange(0..<1, with: [0xB8, header - 0xA0])
        }
        var digits = DigitEncoding.encode(cbor)
        if self.has(.truncatedQRDigits) { digits.removeLast() }
        return (self.has(.lowercaseQRPrefix) ? "fido:/" : QRCodePayload.urlPrefix) + digits
    }

    /// Whether the scanner looks at `advertisingData` at all.
    func scans(_ advertisingData: [UInt8]) -> Bool {
        guard self.has(.ignoresLegacyAdvertUUID) else { return true }
        return (try? AdvertisingData(bytes: advertisingData))?.serviceData(for: AdvertisingData.fidoServiceUUID) != nil
    }

    /// The path the desktop joins.
    func endpoint(_ endpoint: TunnelEndpoint) -> TunnelEndpoint {
        guard case .connect(let routingID, let tunnelID) = endpoint else { return endpoint }
        var routing = routingID.bytes
        var tunnel = tunnelID.bytes
        if self.has(.wrongRoutingID) { routing[0] ^= 0x01 }
        if self.has(.wrongTunnelID) { tunnel[15] ^= 0x01 }
        return .connect(RoutingID(unchecked: routing), TunnelID(unchecked: tunnel))
    }

    /// Noise message 1 as sent.
    func handshakeMessage(_ message: [UInt8]) -> [UInt8] {
        guard self.has(.corruptHandshakeMessage), !message.isEmpty else { return message }
        var corrupted = message
        corrupted[corrupted.count - 1] ^= 0x01
        return corrupted
    }

    /// The handshake response as processed.
    func handshakeResponse(_ message: [UInt8]) -> [UInt8] {
        guard self.has(.truncatesLongHandshakeResponse) else { return message }
        return Array(message.prefix(HandshakeMessageSize.message))
    }

    /// Refusals a faulty desktop adds after the post-handshake message decoded.
    func checkPostHandshake(_ plaintext: [UInt8], revision: ProtocolRevision) throws(CableProtocolError) {
        if self.has(.rejectsRevisionZero), revision == .zero {
            throw CableProtocolError(.postHandshakeMalformed, "fault: revision 0 refused")
        }
        // The current padded map is a multiple of 512 bytes; the old one of 256 only.
        if self.has(.rejectsLegacyPaddedMap), revision == .zero, plaintext.count % 512 != 0 {
            throw CableProtocolError(.postHandshakeMalformed, "fault: old padded map refused")
        }
        guard self.has(.requiresFeatureList) || self.has(.rejectsUnknownFeatures) else { return }
        let map: CBORMap?
        switch revision {
        case .one: map = (try? CBORValue(decoding: plaintext))?.mapValue
        case .zero: map = try? PaddedCBORMap.decode(plaintext)
        }
        let features = map?[3]?.arrayValue
        if self.has(.requiresFeatureList), features == nil {
            throw CableProtocolError(.postHandshakeMalformed, "fault: no features list")
        }
        if self.has(.rejectsUnknownFeatures),
            features?.contains(where: { $0.textValue.flatMap(PostHandshakeMessage.Feature.init(rawValue:)) == nil })
                == true
        {
            throw CableProtocolError(.postHandshakeMalformed, "fault: unknown feature")
        }
    }

    /// The revision the request is framed for.
    func requestRevision(_ revision: ProtocolRevision) -> ProtocolRevision {
        self.has(.omitsRequestTypeByte) ? .zero : revision
    }

    /// Waits (until cancelled, at most a minute) before the tunnel is closed after an error.
    func lingerAfterError() async {
        guard self.has(.lingersAfterError) else { return }
        try? await Task.sleep(for: .seconds(60))
    }
}
