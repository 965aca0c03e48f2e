import CableCBOR
import CableCrypto
@_spi(Fuzzing) import CableProtocol
import CableTestSupport
import Testing

/// `PostHandshakeMessage`: Chromium's phone encoding, the desktop's checks and revision detection.
@Suite struct PostHandshakeMessageTests {
    static let getInfo: [UInt8] = ([1: ["FIDO_2_0"]] as CBORValue).encoded

    @Test func aCTAPPhoneWritesGetInfoAndTheFeaturesList() throws {
        let bytes = PostHandshakeMessage(getInfo: Self.getInfo).encoded()
        let expected = ([1: .byteString(Self.getInfo), 3: ["ctap"]] as CBORValue).encoded
        #expect(bytes == expected)
        #expect(bytes.first == 0xA2)
    }

    @Test func featuresAreWrittenSortedAndGetInfoOnlyWithCTAP() throws {
        let both = PostHandshakeMessage(getInfo: Self.getInfo, features: [.digitalCredentials, .ctap])
        #expect(both.map[.integer(3)] == ["ctap", "dc"])
        let dcOnly = PostHandshakeMessage(getInfo: nil, features: [.digitalCredentials])
        #expect(dcOnly.map[.integer(1)] == nil)
        #expect(dcOnly.map[.integer(3)] == ["dc"])
        let decoded = try PostHandshakeMessage.decode(dcOnly.encoded(), options: .init(requiresCTAP: false)).message
        #expect(decoded == dcOnly)
    }

    @Test func revisionOneIsPlainCBORAndRevisionZeroIsAPaddedMap() throws {
        let message = PostHandshakeMessage(getInfo: Self.getInfo)
        let (one, revisionOne) = try PostHandshakeMessage.decode(message.encoded(revision: .one))
        #expect(revisionOne == .one)
        #expect(one == message)
        let padded = message.encoded(revision: .zero)
        #expect(padded.count == 512)
        let (zero, revisionZero) = try PostHandshakeMessage.decode(padded)
        #expect(revisionZero == .zero)
        #expect(zero == message)
    }

    @Test func aLegacyPaddedMapIsRevisionZeroToo() throws {
        let message = PostHandshakeMessage(getInfo: Self.getInfo)
        let padded = PaddedCBORMap.encode(message.map, format: .legacy)
        #expect(padded.count == 256)
        #expect(try PostHandshakeMessage.decode(padded).revision == .zero)
    }

    /// Revision-0 phones put linking info in the post-handshake message; the QR-flow desktop parses it
    /// and the linked-flow desktop only checks that it is a map.
    @Test func linkingInfoInKey2IsParsedOnlyWhenAsked() throws {
        let run = try NoiseFixture.handshake(.knpsk0)
        let info = try NoiseFixture.linkingInfo(handshakeHash: run.phone.handshakeHash)
        let bytes = PostHandshakeMessage(getInfo: Self.getInfo, linkingInfo: info).encoded(revision: .zero)
        let parsed = try PostHandshakeMessage.decode(bytes).message
        #expect(parsed.linkingInfo == info)
        #expect(parsed.verifiedLinkingInfo == nil)
        let verifier = LinkingVerifier(
            handshakeHash: run.desktop.handshakeHash,
            desktopIdentity: NoiseFixture.desktopIdentity
        )
        let verified = try PostHandshakeMessage.decode(bytes, options: .init(linking: .verify(verifier))).message
        #expect(verified.verifiedLinkingInfo?.info == info)
        let linked = try PostHandshakeMessage.decode(bytes, options: .init(linking: .ignore)).message
        #expect(linked.linkingInfo == nil)
    }

    @Test func verifyingRejectsLinkingSignedForAnotherSession() throws {
        let run = try NoiseFixture.handshake(.knpsk0)
        let stale = try NoiseFixture.linkingInfo(handshakeHash: HandshakeHash([UInt8](repeating: 9, count: 32)))
        let bytes = PostHandshakeMessage(getInfo: Self.getInfo, linkingInfo: stale).encoded()
        let verifier = LinkingVerifier(
            handshakeHash: run.desktop.handshakeHash,
            desktopIdentity: NoiseFixture.desktopIdentity
        )
        #expect(throws: CableProtocolError(.linkingSignatureInvalid, "")) {
            try PostHandshakeMessage.decode(bytes, options: .init(linking: .verify(verifier)))
        }
        expectRedacted(String(describing: verifier), hiding: [run.desktop.handshakeHash.bytes])
    }

    @Test func nonCanonicalCBORIsNeitherRevision() throws {
        // {1: h'', 3: ["ctap"]} with the map length written in two bytes (0xB8 0x02).
        let nonMinimal: [UInt8] = [0xB8, 0x02, 0x01, 0x40, 0x03, 0x81, 0x64] + Array("ctap".utf8)
        #expect(throws: CableProtocolError(.postHandshakeMalformed, "")) { try PostHandshakeMessage.decode(nonMinimal) }
        // Keys out of canonical order.
        let unordered: [UInt8] = [0xA2, 0x03, 0x81, 0x64] + Array("ctap".utf8) + [0x01, 0x40]
        #expect(throws: CableProtocolError(.postHandshakeMalformed, "")) { try PostHandshakeMessage.decode(unordered) }
    }

    /// Random and bit-flipped inputs never crash; they decode or fail with a post-handshake or linking code.
    @Test func hostileInputsFailWithTypedErrors() throws {
        var rng = DeterministicRNG(seed: 0x9057)
        let valid = PostHandshakeMessage(getInfo: Self.getInfo).encoded()
        var inputs: [[UInt8]] = (0..<400).map { _ in rng.bytes(count: Int.random(in: 0...64, using: &rng)) }
        for index in valid.indices {
            var flipped = valid
            flipped[index] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
            inputs.append(flipped)
        }
        inputs.append([UInt8](repeating: 0x81, count: 40))  // deep nesting
        inputs.append([0x5A, 0xFF, 0xFF, 0xFF, 0xFF])  // a 4 GiB byte string header
        for input in inputs {
            do {
                _ = try PostHandshakeMessage.decode(input)
            } catch {
                #expect(
                    error.code.rawValue.hasPrefix("postHandshake") || error.code.rawValue.hasPrefix("linking"),
                    "\(error)"
                )
            }
        }
    }

    @Test func descriptionShowsSizesNotBytes() {
        let getInfo: [UInt8] = [0xA1, 0x01, 0x81, 0x68] + Array("FIDO_2_1".utf8)
        let text = String(describing: PostHandshakeMessage(getInfo: getInfo))
        #expect(text.contains("12 bytes"))
        expectRedacted(text, hiding: [getInfo])
    }
}
