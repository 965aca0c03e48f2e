import CableProtocol
import CableTestSupport
import Testing

@Suite struct AdvertTests {
    static let secret = try! QRSecret(bytes: hex("01fea6f7c4807493dc256f9eacf756c9"))
    static let advert = hex("027d84ed6076b55e247c830f82955e4d126e7f43")

    @Test func everyBitFlipIsRejected() throws {
        for i in 0..<20 {
            for bit in 0..<8 {
                var a = Self.advert
                a[i] ^= 1 << bit
                let e = try #require(throws: CableProtocolError.self) {
                    try AdvertCrypter.decrypt(a, key: Self.secret.eidKey)
                }
                #expect(e.code == .advertNotForUs)
            }
        }
    }

    @Test func everyOtherLengthIsRejected() throws {
        for n in [0, 1, 16, 19, 21, 24, 40] {
            let a = [UInt8](repeating: 0, count: n)
            let e = try #require(throws: CableProtocolError.self) {
                try AdvertCrypter.decrypt(a, key: Self.secret.eidKey)
            }
            #expect(e.code == .invalidAdvertLength)
        }
    }

    @Test func wrongKeyIsNotForUs() throws {
        let other = try QRSecret(bytes: [UInt8](repeating: 0, count: 16))
        let e = try #require(throws: CableProtocolError.self) {
            try AdvertCrypter.decrypt(Self.advert, key: other.eidKey)
        }
        #expect(e.code == .advertNotForUs)
    }

    @Test func checksReservedByteAndDomainAfterTheTag() throws {
        let key = Self.secret.eidKey
        var reserved = [UInt8](repeating: 0, count: 16)
        reserved[0] = 1
        let e1 = try #require(throws: CableProtocolError.self) {
            try AdvertCrypter.decrypt(try AdvertCrypter.encrypt(rawPlaintext: reserved, key: key), key: key)
        }
        #expect(e1.code == .advertReservedBitsSet)
        for domain in [2, 3, 100, 255] as [UInt16] {
            var p = [UInt8](repeating: 0, count: 16)
            p[14] = UInt8(domain & 0xFF)
            p[15] = UInt8(domain >> 8)
            let e = try #require(throws: CableProtocolError.self) {
                try AdvertCrypter.decrypt(try AdvertCrypter.encrypt(rawPlaintext: p, key: key), key: key)
            }
            #expect(e.code == .advertUnknownDomain)
        }
        for domain in [0, 1, 256, 0x0102, 0xFFFF] as [UInt16] {
            let p = try AdvertPlaintext(
                nonce: [UInt8](repeating: 7, count: 10),
                routingID: try RoutingID(hex: "2A0000"),
                domainID: TunnelServiceDomainID(rawValue: domain)
            )
            #expect(try AdvertCrypter.decrypt(try AdvertCrypter.encrypt(p, key: key), key: key) == p)
        }
    }

    @Test func everyHashedDomainHasAName() {
        // webauthn-rs check_all_hashed_tunnel_servers.
        for id in UInt16(256)...UInt16.max {
            let d = TunnelServiceDomainID(rawValue: id).domain
            #expect(d != nil && d!.hasPrefix("cable."), "\(id)")
            if id == UInt16.max { break }
        }
    }

    @Test func phoneAdvertisingDataIsTheFullLegacyPayloadAndParsesBack() throws {
        let data = AdvertisingData.phoneAdvert(Self.advert)
        #expect(data.bytes.count == 31)
        #expect(Array(data.bytes.prefix(3)) == [0x02, 0x01, 0x1A])
        let parsed = try AdvertisingData(bytes: data.bytes)
        #expect(parsed.cableAdvert == Self.advert)
    }

    @Test func scannerRulesMatchChromium() throws {
        // Service data must be exactly 20 bytes.
        let long = AdvertisingData(structures: [.init(type: 0x16, data: [0xF9, 0xFF] + Self.advert + [0])])
        #expect(long.cableAdvert == nil)
        // FDE2 is preferred when both are present.
        let other = [UInt8](repeating: 1, count: 20)
        let both = AdvertisingData(structures: [
            .init(type: 0x16, data: [0xF9, 0xFF] + other), .init(type: 0x16, data: [0xE2, 0xFD] + Self.advert),
        ])
        #expect(try AdvertisingData(bytes: both.bytes).cableAdvert == Self.advert)
    }

    @Test func malformedAdvertisingDataIsATypedError() throws {
        for bad: [UInt8] in [[0x05, 0x16, 0xF9], [0xFF], [0x02, 0x01]] {
            let e = try #require(throws: CableProtocolError.self) { try AdvertisingData(bytes: bad) }
            #expect(e.code == .malformedAdvertisingData)
        }
        #expect(try AdvertisingData(bytes: [0x02, 0x01, 0x1A, 0x00, 0xFF, 0xFF]).structures.count == 1)
        let e = try #require(throws: CableProtocolError.self) {
            try AdvertisingData(bytes: [UInt8](repeating: 1, count: 255))
        }
        #expect(e.code == .malformedAdvertisingData)
        var rng = DeterministicRNG(seed: 9)
        for _ in 0..<2000 {
            let b = (0..<Int.random(in: 0...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if let d = try? AdvertisingData(bytes: b), let a = d.cableAdvert {
                _ = try? AdvertCrypter.decrypt(a, key: Self.secret.eidKey)
            }
        }
    }
}
