import CableCBOR
import CableProtocol
import CableTestSupport
import Testing

@Suite struct QRCodePayloadTests {
    /// Chromium's KnownQRs key (compressed) and a zero secret.
    static let key = hex("03364c15eec34331d2865757421d497e569e1eba6cff9a69d32e90f19e7f6fd15e")

    static func url(_ map: CBORMap) -> String { "FIDO:/" + DigitEncoding.encode(CBORValue.map(map).encoded) }
    static func baseMap() -> CBORMap {
        var m = CBORMap()
        m[0] = .byteString(key)
        m[1] = .byteString([UInt8](repeating: 0, count: 16))
        return m
    }

    @Test func prefixIsCaseInsensitiveAsInChromium() throws {
        let u = Self.url(Self.baseMap())
        for prefix in ["fido:/", "Fido:/", "fIdO:/"] {
            let p = try QRCodePayload(url: prefix + u.dropFirst(6))
            #expect(p.compressedPublicKey == Self.key)
        }
    }

    /// Chromium's `qr::Parse` hands the digits to `DigitsToBytes`, which reads each 17-digit chunk with
    /// `base::StringToUint64` (v2_handshake.cc): a `+` in place of a chunk's leading zero is accepted,
    /// a `-` or a space is not. The same URL parses to the same payload here.
    @Test func aPlusInPlaceOfAChunksLeadingZeroIsReadAsChromiumReadsIt() throws {
        let url = Array(Self.url(Self.baseMap()))
        let chunkStarts = stride(from: 6, to: url.count, by: 17).filter { url[$0] == "0" }
        try #require(!chunkStarts.isEmpty, "the fixture needs a chunk with a leading zero")
        var signed = url
        for index in chunkStarts { signed[index] = "+" }
        let p = try QRCodePayload(url: String(signed))
        #expect(p.compressedPublicKey == Self.key)
        #expect(p.url == (try QRCodePayload(url: String(url))).url, "the same payload as without the signs")
        for sign: Character in ["-", " "] {
            var refused = url
            refused[chunkStarts[0]] = sign
            #expect(throws: CableProtocolError.self, "\(sign)") { try QRCodePayload(url: String(refused)) }
        }
    }

    @Test func ignoresKey3WhateverItHolds() throws {
        var m = Self.baseMap()
        m[3] = .textString("not a time")
        let p = try QRCodePayload(url: Self.url(m))
        #expect(p.timestamp == nil)
        m[3] = .integer(1_700_000_000)
        #expect(try QRCodePayload(url: Self.url(m)).timestamp == 1_700_000_000)
    }

    @Test func ignoresUnknownKeysIncludingKey6() throws {
        var m = Self.baseMap()
        m[6] = .array([.integer(0), .integer(1)])
        m[.textString("x")] = .null
        #expect(try QRCodePayload(url: Self.url(m)).requestType == .getAssertion)
    }

    @Test func rejectsNonCanonicalCBOR() throws {
        // {1: secret, 0: key}: keys out of order.
        let secret: [UInt8] = [0xA2, 0x01, 0x50] + [UInt8](repeating: 0, count: 16)
        let bytes = secret + [0x00, 0x58, 0x21] + Self.key
        let e = try #require(throws: CableProtocolError.self) { try QRCodePayload(cbor: bytes) }
        #expect(e.code == .invalidQRCBOR)
        // Trailing byte after a valid map.
        let trailing = CBORValue.map(Self.baseMap()).encoded + [0x00]
        let e2 = try #require(throws: CableProtocolError.self) { try QRCodePayload(cbor: trailing) }
        #expect(e2.code == .invalidQRCBOR)
    }

    @Test func rejectsWrongSizesAndTypesOfKeys0And1() throws {
        var m = Self.baseMap()
        m[0] = .byteString(Array(Self.key.dropLast()))
        #expect(throws: CableProtocolError(.invalidQRPublicKey, "")) { try QRCodePayload(url: Self.url(m)) }
        m = Self.baseMap()
        m[0] = nil
        #expect(throws: CableProtocolError(.missingQRPublicKey, "")) { try QRCodePayload(url: Self.url(m)) }
        m = Self.baseMap()
        m[1] = .byteString([UInt8](repeating: 0, count: 15))
        #expect(throws: CableProtocolError(.invalidQRSecret, "")) { try QRCodePayload(url: Self.url(m)) }
        m = Self.baseMap()
        m[1] = .textString("0000000000000000")
        #expect(throws: CableProtocolError(.invalidQRSecret, "")) { try QRCodePayload(url: Self.url(m)) }
        m = Self.baseMap()
        m[1] = nil
        #expect(throws: CableProtocolError(.missingQRSecret, "")) { try QRCodePayload(url: Self.url(m)) }
        // An uncompressed key (65 bytes) is valid P-256 but not what the QR carries.
        m = Self.baseMap()
        m[0] = .byteString(
            hex(
                "04364c15eec34331d2865757421d497e569e1eba6cff9a69d32e90f19e7f6fd15e62a369549e704bffe8585a3b4b1e4d19eac60c76fd53243f07c8014c69009ce1"
            )
        )
        #expect(throws: CableProtocolError(.invalidQRPublicKey, "")) { try QRCodePayload(url: Self.url(m)) }
    }

    @Test func encodesLikeChromeAndRoundTrips() throws {
        var rng = DeterministicRNG(seed: 3)
        let key = try QRGeneratorKey.random(using: &rng)
        let payload = try key.payload(timestamp: 1_700_000_000, requestType: .makeCredential)
        // Chrome's QR: 69 bytes of CBOR, 168 digits, 174 characters.
        #expect(payload.cborBytes.count == 69)
        #expect(payload.url.utf8.count == 174)
        #expect(payload.supportsLinking == false)
        #expect(try QRCodePayload(url: payload.url) == payload)
    }

    @Test func oversizedURLIsRejectedBeforeDecoding() throws {
        let huge = "FIDO:/" + String(repeating: "0", count: 10_000)
        #expect(throws: CableProtocolError(.invalidQRPrefix, "")) { try QRCodePayload(url: huge) }
    }

    @Test func everyTruncationAndBitFlipIsATypedErrorOrValid() throws {
        var rng = DeterministicRNG(seed: 11)
        let key = try QRGeneratorKey.random(using: &rng)
        let cbor = try key.payload(timestamp: 1_700_000_000, requestType: .getAssertion).cborBytes
        for n in 0..<cbor.count {
            #expect(throws: CableProtocolError.self) { try QRCodePayload(cbor: cbor.prefix(n)) }
        }
        for i in 0..<cbor.count {
            for bit in 0..<8 {
                var flipped = cbor
                flipped[i] ^= 1 << bit
                _ = try? QRCodePayload(cbor: flipped)  // throws(CableProtocolError): typed by signature
            }
        }
        for _ in 0..<500 {
            let digits = String(
                (0..<Int.random(in: 0...200, using: &rng)).map { _ in
                    Character(String(Int.random(in: 0...9, using: &rng)))
                }
            )
            _ = try? QRCodePayload(url: "FIDO:/" + digits)
        }
    }

    @Test func descriptionsDoNotLeakTheSecret() throws {
        let secret = try QRSecret(bytes: [UInt8](repeating: 0xAB, count: 16))
        #expect(!String(describing: secret).lowercased().contains("abab"))
        #expect(!String(describing: secret.eidKey).contains("ab"))
        var rng = DeterministicRNG(seed: 5)
        let key = try QRGeneratorKey.random(using: &rng)
        #expect(String(describing: key) == "QRGeneratorKey(redacted)")
    }
}
