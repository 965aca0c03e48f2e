import CableCBOR
import CableCrypto
import CableProtocol
import CableTestSupport
import Testing

/// `LinkingInfo` against Chromium's `Pairing::Parse` and the handshake signature.
@Suite struct LinkingInfoTests {
    static let hash = HandshakeHash([UInt8](repeating: 0x68, count: 32))

    static func map(_ info: LinkingInfo) throws -> CBORMap {
        try #require(info.cbor.mapValue)
    }

    @Test func itRoundTripsThroughCanonicalCBOR() throws {
        let info = try NoiseFixture.linkingInfo(handshakeHash: Self.hash)
        let bytes = info.cbor.encoded
        #expect(try LinkingInfo(cbor: CBORValue(decoding: bytes)) == info)
        let keys = try Self.map(info).entries.map(\.key)
        #expect(keys == [1, 2, 3, 4, 5, 6])
        #expect(info.authenticatorPublicKey == NoiseFixture.phoneIdentity.publicKey.uncompressedRepresentation)
    }

    @Test(arguments: [1, 2, 3, 4, 6] as [Int64])
    func eachByteStringFieldIsRequired(_ key: Int64) throws {
        var map = try Self.map(NoiseFixture.linkingInfo(handshakeHash: Self.hash))
        map[.integer(key)] = nil
        #expect(throws: CableProtocolError(.linkingInfoMissingField, "")) { try LinkingInfo(cbor: .map(map)) }
        map[.integer(key)] = .textString("not bytes")
        #expect(throws: CableProtocolError(.linkingInfoMissingField, "")) { try LinkingInfo(cbor: .map(map)) }
    }

    @Test func theNameIsARequiredTextString() throws {
        var map = try Self.map(NoiseFixture.linkingInfo(handshakeHash: Self.hash))
        map[.integer(5)] = .byteString(Array("Pixel".utf8))
        #expect(throws: CableProtocolError(.linkingInfoMissingField, "")) { try LinkingInfo(cbor: .map(map)) }
        map[.integer(5)] = nil
        #expect(throws: CableProtocolError(.linkingInfoMissingField, "")) { try LinkingInfo(cbor: .map(map)) }
    }

    @Test func thePublicKeyMustBeA65BytePoint() throws {
        let good = NoiseFixture.phoneIdentity.publicKey.uncompressedRepresentation
        var offCurve = good
        offCurve[64] ^= 1
        let candidates: [[UInt8]] = [
            Array(good.prefix(64)), good + [0], NoiseFixture.phoneIdentity.publicKey.compressedRepresentation,
            offCurve, [UInt8](repeating: 0, count: 65), [],
        ]
        var map = try Self.map(NoiseFixture.linkingInfo(handshakeHash: Self.hash))
        for key in candidates {
            map[.integer(4)] = .byteString(key)
            #expect(throws: CableProtocolError(.linkingInfoInvalidPublicKey, "")) { try LinkingInfo(cbor: .map(map)) }
        }
    }

    @Test func lengthsOfTheIDAndSecretAreNotChecked() throws {
        var map = try Self.map(NoiseFixture.linkingInfo(handshakeHash: Self.hash))
        map[.integer(2)] = .byteString([])
        map[.integer(3)] = .byteString([1])
        let info = try LinkingInfo(cbor: .map(map))
        #expect(info.linkID.isEmpty)
    }

    @Test func onlyATrueTag999MarksPlayServices() throws {
        var map = try Self.map(NoiseFixture.linkingInfo(handshakeHash: Self.hash))
        #expect(try LinkingInfo(cbor: .map(map)).isFromPlayServices == false)
        map[.integer(999)] = .bool(true)
        let tagged = try LinkingInfo(cbor: .map(map))
        #expect(tagged.isFromPlayServices)
        #expect(tagged.cbor.mapValue?[.integer(999)] == .bool(true))
        for value: CBORValue in [.bool(false), .integer(1), .textString("true")] {
            map[.integer(999)] = value
            #expect(try LinkingInfo(cbor: .map(map)).isFromPlayServices == false)
        }
    }

    @Test func unknownKeysAreIgnored() throws {
        var map = try Self.map(NoiseFixture.linkingInfo(handshakeHash: Self.hash))
        map[.integer(7)] = .array([])
        map[.textString("x")] = .null
        #expect(try LinkingInfo(cbor: .map(map)).authenticatorName == "Pixel 7")
    }

    @Test func anythingButAMapIsRejected() {
        for value: CBORValue in [.array([]), .byteString([0xA0]), .integer(2), .null] {
            #expect(throws: CableProtocolError(.linkingInfoNotMap, "")) { try LinkingInfo(cbor: value) }
        }
    }

    // MARK: - Signature

    @Test func linkingInfoFromARealHandshakeVerifiesForThatSessionOnly() throws {
        let run = try NoiseFixture.handshake(.knpsk0)
        let info = try NoiseFixture.linkingInfo(handshakeHash: run.phone.handshakeHash)
        let verified = try info.verified(
            handshakeHash: run.desktop.handshakeHash,
            desktopIdentity: NoiseFixture.desktopIdentity
        )
        #expect(verified.info == info)

        let other = try NoiseFixture.handshake(.nkpsk0)
        #expect(throws: CableProtocolError(.linkingSignatureInvalid, "")) {
            try info.verified(handshakeHash: other.desktop.handshakeHash, desktopIdentity: NoiseFixture.desktopIdentity)
        }
        #expect(throws: CableProtocolError(.linkingSignatureInvalid, "")) {
            try info.verified(handshakeHash: run.desktop.handshakeHash, desktopIdentity: NoiseFixture.privateKey(0x47))
        }
    }

    @Test func aSignatureForAnotherIdentityKeyIsRejected() throws {
        // A relay that swaps in its own identity key cannot produce the matching signature.
        var map = try Self.map(NoiseFixture.linkingInfo(handshakeHash: Self.hash))
        map[.integer(4)] = .byteString(NoiseFixture.privateKey(0x48).publicKey.uncompressedRepresentation)
        let swapped = try LinkingInfo(cbor: .map(map))
        #expect(throws: CableProtocolError(.linkingSignatureInvalid, "")) {
            try swapped.verified(handshakeHash: Self.hash, desktopIdentity: NoiseFixture.desktopIdentity)
        }
    }

    @Test func everyBitFlipOrTruncationOfTheSignatureIsRejected() throws {
        let info = try NoiseFixture.linkingInfo(handshakeHash: Self.hash)
        var map = try Self.map(info)
        let signature = info.handshakeSignature
        #expect(signature.count == 32)
        var variants = (0..<32).map { index -> [UInt8] in
            var flipped = signature
            flipped[index] ^= 0x01
            return flipped
        }
        variants += [Array(signature.prefix(31)), Array(signature.prefix(4)), signature + [0], []]
        for variant in variants {
            map[.integer(6)] = .byteString(variant)
            let tampered = try LinkingInfo(cbor: .map(map))
            #expect(throws: CableProtocolError(.linkingSignatureInvalid, "")) {
                try tampered.verified(handshakeHash: Self.hash, desktopIdentity: NoiseFixture.desktopIdentity)
            }
        }
    }

    @Test func descriptionShowsSizesButNoField() throws {
        let info = try NoiseFixture.linkingInfo(handshakeHash: Self.hash)
        let verified = try info.verified(handshakeHash: Self.hash, desktopIdentity: NoiseFixture.desktopIdentity)
        for text in [String(describing: info), String(reflecting: info), String(describing: verified)] {
            #expect(!text.contains("Pixel 7"))
            expectRedacted(
                text,
                hiding: [NoiseFixture.linkSecret, info.handshakeSignature, Self.hash.bytes, info.contactID]
            )
        }
    }
}
