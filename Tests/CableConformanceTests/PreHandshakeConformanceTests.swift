import CableCBOR
import CableProtocol
import CableTestSupport
import Testing

/// Runs every vector of the pre-handshake topics (`Spec/vectors/{digits,qr-payload,key-derivation,
/// eid-advert,tunnel-domains,tunnel-paths}.json`). Expected values come from Chromium, webauthn-rs,
/// libwebauthn and Firefox tests (provenance in each file).
@Suite struct DigitEncodingConformance {
    static let file = SpecVectorFile.load("digits")

    @Test(arguments: file.vectors.map(\.id))
    func vector(_ id: String) throws {
        let v = try #require(Self.file.vectors.first { $0.id == id })
        if v.isValid {
            let bytes = v.input["bytes"]!.bytes
            let digits = try #require(v.expected?["digits"]?.string)
            #expect(DigitEncoding.encode(bytes) == digits)
            #expect(try DigitEncoding.decode(digits) == bytes)
        } else {
            let digits = try #require(v.input["digits"]?.string)
            let error = try #require(throws: CableProtocolError.self) { try DigitEncoding.decode(digits) }
            #expect(error.code.rawValue == v.errorCode)
        }
    }
}

@Suite struct QRPayloadConformance {
    static let file = SpecVectorFile.load("qr-payload")

    @Test(arguments: file.vectors.map(\.id))
    func vector(_ id: String) throws {
        let v = try #require(Self.file.vectors.first { $0.id == id })
        if let generatorKey = v.input["qrGeneratorKey"] {
            let key = try QRGeneratorKey(bytes: generatorKey.bytes)
            let payload = try key.payload(
                timestamp: v.input["timestamp"]!.int64!,
                requestType: RequestTypeHint(wireValue: v.input["requestType"]!.string!),
                supportsLinking: v.input["supportsLinking"]!.bool
            )
            #expect(payload.url == v.expected!["url"]!.string)
            #expect(payload.uncompressedPublicKey == v.expected!["uncompressedPublicKey"]!.bytes)
            #expect(try QRCodePayload(url: payload.url) == payload)
            return
        }
        let url = try #require(v.input["url"]?.string)
        guard v.isValid else {
            let error = try #require(throws: CableProtocolError.self) { try QRCodePayload(url: url) }
            #expect(error.code.rawValue == v.errorCode, "\(error)")
            return
        }
        let payload = try QRCodePayload(url: url)
        let e = try #require(v.expected)
        #expect(payload.compressedPublicKey == e["publicKey"]!.bytes)
        #expect(payload.secret == (try QRSecret(bytes: e["secret"]!.bytes)))
        #expect(payload.knownDomainCount == e["knownDomainCount"]!.int64!)
        #expect(payload.supportsLinking == e["supportsLinking"]!.bool)
        #expect(payload.requestType.wireValue == e["requestType"]!.string)
        if let t = e["timestamp"] { #expect(payload.timestamp == t.int64) }
        if let cbor = e["cbor"] ?? v.input["cbor"] {
            #expect(try QRCodePayload(cbor: cbor.bytes) == payload)
        }
        if e["reencodesIdentically"]?.bool == true {
            #expect(payload.url == url)
            #expect(payload.cborBytes == e["cbor"]!.bytes)
        }
    }
}

@Suite struct KeyDerivationConformance {
    static let file = SpecVectorFile.load("key-derivation")

    @Test(arguments: file.vectors.map(\.id))
    func vector(_ id: String) throws {
        let v = try #require(Self.file.vectors.first { $0.id == id })
        let purpose = try #require(KeyPurpose(rawValue: UInt32(v.input["purpose"]!.int!)))
        let out = KeyDerivation.derive(
            secret: v.input["secret"]!.bytes,
            salt: v.input["salt"]!.bytes,
            purpose: purpose,
            outputByteCount: v.input["length"]!.int!
        )
        #expect(hexString(out) == v.expected!["output"]!.string)
        // The typed accessors must agree with the raw derivation for QR secrets.
        if v.input["secret"]!.bytes.count == 16, v.input["salt"]!.bytes.isEmpty {
            let secret = try QRSecret(bytes: v.input["secret"]!.bytes)
            switch purpose {
            case .tunnelID: #expect(secret.tunnelID.bytes == out)
            case .eidKey: #expect(secret.eidKey.bytes == out)
            default: break
            }
        }
    }
}

@Suite struct AdvertConformance {
    static let file = SpecVectorFile.load("eid-advert")

    @Test(arguments: file.vectors.map(\.id))
    func vector(_ id: String) throws {
        let v = try #require(Self.file.vectors.first { $0.id == id })
        let e = v.expected
        if let advert = v.input["advert"] {
            // Decrypt a captured advert with the key derived from the QR secret.
            let secret = try QRSecret(bytes: v.input["qrSecret"]!.bytes)
            let plaintext = try AdvertCrypter.decrypt(advert.bytes, key: secret.eidKey)
            #expect(plaintext.bytes == e!["plaintext"]!.bytes)
            #expect(Int(plaintext.domainID.rawValue) == e!["domainID"]!.int)
            #expect(plaintext.routingID.bytes == e!["routingID"]!.bytes)
            #expect(Array(plaintext.nonce) == e!["nonce"]!.bytes)
            let url = try TunnelEndpoint.connect(plaintext.routingID, secret.tunnelID).url(domainID: plaintext.domainID)
            #expect(url == e!["connectURL"]!.string)
        } else if let secretHex = v.input["qrSecret"] {
            // Build an EID from parts, encrypt it, and derive the URLs.
            let secret = try QRSecret(bytes: secretHex.bytes)
            let domain = TunnelServiceDomainID(rawValue: UInt16(v.input["domainID"]!.int!))
            let routing = try RoutingID(bytes: v.input["routingID"]!.bytes)
            let plaintext = try AdvertPlaintext(nonce: v.input["nonce"]!.bytes, routingID: routing, domainID: domain)
            #expect(plaintext.bytes == e!["plaintext"]!.bytes)
            let advert = try AdvertCrypter.encrypt(plaintext, key: secret.eidKey)
            #expect(advert == e!["advert"]!.bytes)
            #expect(try AdvertCrypter.decrypt(advert, key: secret.eidKey) == plaintext)
            #expect(try TunnelEndpoint.new(secret.tunnelID).url(domainID: domain) == e!["newURL"]!.string)
            for (id, url) in e!["connectURLs"]!.object! {
                let d = TunnelServiceDomainID(rawValue: UInt16(id)!)
                #expect(try TunnelEndpoint.connect(routing, secret.tunnelID).url(domainID: d) == url.string)
            }
        } else {
            let bytes = v.input["plaintext"]!.bytes
            if v.isValid {
                let p = try AdvertPlaintext(bytes: bytes)
                #expect(Int(p.domainID.rawValue) == e!["domainID"]!.int)
                #expect(p.routingID.bytes == e!["routingID"]!.bytes)
                #expect(Array(p.nonce) == e!["nonce"]!.bytes)
            } else {
                let error = try #require(throws: CableProtocolError.self) { try AdvertPlaintext(bytes: bytes) }
                #expect(error.code.rawValue == v.errorCode)
            }
        }
    }
}

@Suite struct TunnelServiceConformance {
    static let domains = SpecVectorFile.load("tunnel-domains")
    static let paths = SpecVectorFile.load("tunnel-paths")

    @Test(arguments: domains.vectors.map(\.id))
    func domain(_ id: String) throws {
        let v = try #require(Self.domains.vectors.first { $0.id == id })
        let domainID = TunnelServiceDomainID(rawValue: UInt16(v.input["domainID"]!.int!))
        if v.isValid {
            #expect(domainID.domain == v.expected!["domain"]!.string)
        } else {
            #expect(domainID.domain == nil)
            let error = try #require(throws: CableProtocolError.self) { try domainID.resolvedDomain() }
            #expect(error.code.rawValue == v.errorCode)
        }
    }

    @Test(arguments: paths.vectors.map(\.id))
    func path(_ id: String) throws {
        let v = try #require(Self.paths.vectors.first { $0.id == id })
        if let header = v.expected?["header"]?.string {
            let routing = try RoutingID(bytes: v.input["routingID"]!.bytes)
            #expect(routing.hex == header)
            #expect(try RoutingID(hex: header.lowercased()) == routing)
            return
        }
        let tunnel = try TunnelID(bytes: v.input["tunnelID"]!.bytes)
        let endpoint: TunnelEndpoint =
            if let r = v.input["routingID"] { .connect(try RoutingID(bytes: r.bytes), tunnel) } else { .new(tunnel) }
        let expected = try #require(v.expected?["path"]?.string)
        #expect(endpoint.path == expected)
        #expect(try TunnelEndpoint(path: expected) == endpoint)
        #expect(
            try TunnelEndpoint(path: expected.lowercased())
                == endpoint
        )
    }
}
