import CableCBOR
import CableCrypto
@_spi(Fuzzing) import CableProtocol
import CableTestSupport
import Testing

/// `UpdateMessage`: Chromium's 512-byte sizing and the desktop's checks.
@Suite struct PostHandshakeUpdateMessageTests {
    static let hash = HandshakeHash([UInt8](repeating: 0x31, count: 32))

    @Test func withoutLinkingTheFramePadsToExactly512Bytes() {
        let frame = UpdateMessage().frame
        #expect(frame.first == TunnelMessage.MessageType.update.rawValue)
        // [02] a1 00 59 01ec <492 zeros>: 498 bytes, padded to 512, sealed to 528.
        #expect(frame.count == 498)
        #expect(MessagePadding.pad(frame).count == UpdateMessage.paddingTarget)
    }

    /// Chromium subtracts the size of `{1: linking}` from the zero string; the frame still pads to 512
    /// as long as the linking map is smaller than the 492-byte budget, and is simply larger after that
    /// (where Chromium's DCHECK would fire).
    @Test func withLinkingTheFramePadsTo512WhileTheLinkingMapFits() throws {
        for contactIDLength in stride(from: 0, through: 600, by: 7) {
            let info = try NoiseFixture.linkingInfo(
                handshakeHash: Self.hash,
                contactID: [UInt8](repeating: 0xC1, count: contactIDLength)
            )
            let frame = UpdateMessage(linkingInfo: info).frame
            let linkingMapSize = ([1: info.cbor] as CBORValue).encoded.count
            if linkingMapSize < 492 {
                #expect(MessagePadding.pad(frame).count == 512, "contact ID \(contactIDLength) bytes")
            } else {
                #expect(MessagePadding.pad(frame).count > 512)
            }
            #expect(try UpdateMessage(decoding: Array(frame.dropFirst())).linkingInfo == info)
        }
    }

    @Test func theDesktopParsesAndVerifiesLinkingFromARealSession() throws {
        let run = try NoiseFixture.handshake(.knpsk0)
        var phone = run.phone.crypter
        var desktop = run.desktop.crypter
        let info = try NoiseFixture.linkingInfo(handshakeHash: run.phone.handshakeHash)
        let ciphertext = try phone.seal(UpdateMessage(linkingInfo: info).frame)
        #expect(ciphertext.count == 528)
        guard case .update(let payload) = try TunnelMessage(decoding: desktop.open(ciphertext)) else {
            Issue.record("not an update")
            return
        }
        let verifier = LinkingVerifier(
            handshakeHash: run.desktop.handshakeHash,
            desktopIdentity: NoiseFixture.desktopIdentity
        )
        let update = try UpdateMessage(decoding: payload, linking: .verify(verifier))
        #expect(update.verifiedLinkingInfo?.info == info)
        #expect(update.linkingInfo == info)
    }

    /// Chromium's `Pairing::Parse` includes the signature: in the QR flow a linking map signed for another
    /// session rejects the whole update.
    @Test func verifyingRejectsLinkingSignedForAnotherSession() throws {
        let run = try NoiseFixture.handshake(.knpsk0)
        let stale = try NoiseFixture.linkingInfo(handshakeHash: Self.hash)
        let payload = Array(UpdateMessage(linkingInfo: stale).frame.dropFirst())
        let verifier = LinkingVerifier(
            handshakeHash: run.desktop.handshakeHash,
            desktopIdentity: NoiseFixture.desktopIdentity
        )
        #expect(throws: CableProtocolError(.linkingSignatureInvalid, "")) {
            try UpdateMessage(decoding: payload, linking: .verify(verifier))
        }
        #expect(try UpdateMessage(decoding: payload, linking: .parse).linkingInfo == stale)
        #expect(try UpdateMessage(decoding: payload, linking: .ignore).linkingInfo == nil)
    }

    @Test func thePaddingValueIsNotChecked() throws {
        let payload = ([0: "anything"] as CBORValue).encoded
        #expect(try UpdateMessage(decoding: payload).linkingInfo == nil)
        #expect(try UpdateMessage(decoding: [0xA0]).linkingInfo == nil)
    }

    @Test func aPayloadThatIsNotACanonicalMapIsRejected() {
        for payload: [UInt8] in [[], [0x80], [0x01, 0x02, 0x03, 0x04], [0xA0, 0x00], [0xB8, 0x00]] {
            #expect(throws: CableProtocolError(.updateNotMap, "")) { try UpdateMessage(decoding: payload) }
        }
    }

    @Test func linkingThatIsNotAMapIsRejectedEvenWhenIgnored() {
        let payload = ([1: .byteString([1])] as CBORValue).encoded
        for handling in [LinkingHandling.parse, .ignore] {
            #expect(throws: CableProtocolError(.updateLinkingNotMap, "")) {
                try UpdateMessage(decoding: payload, linking: handling)
            }
        }
    }

    @Test func malformedLinkingIsRejectedOnlyWhenParsed() throws {
        let payload = ([1: .map(CBORMap())] as CBORValue).encoded
        #expect(throws: CableProtocolError(.linkingInfoMissingField, "")) { try UpdateMessage(decoding: payload) }
        #expect(try UpdateMessage(decoding: payload, linking: .ignore).linkingInfo == nil)
    }

    /// The phone checks a desktop's update only for being CBOR.
    @Test func aDesktopUpdateNeedsOnlyToBeCBOR() throws {
        try UpdateMessage.validateDesktopUpdate([0x82, 0x01, 0x02])
        try UpdateMessage.validateDesktopUpdate([0xA0])
        for payload: [UInt8] in [[], [0xFF], [0xA0, 0xA0]] {
            #expect(throws: CableProtocolError(.updateMalformed, "")) {
                try UpdateMessage.validateDesktopUpdate(payload)
            }
        }
    }

    @Test func descriptionRevealsNoLinkingSecret() throws {
        let info = try NoiseFixture.linkingInfo(handshakeHash: Self.hash)
        let text = String(describing: UpdateMessage(linkingInfo: info))
        expectRedacted(text, hiding: [NoiseFixture.linkSecret, info.contactID])
    }
}
