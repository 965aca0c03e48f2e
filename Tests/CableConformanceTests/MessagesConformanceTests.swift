import CableCBOR
import CableCrypto
@_spi(Fuzzing) import CableProtocol
import CableTestSupport
import Testing

/// Runs `Spec/vectors/post-handshake.json` (webauthn-rs' captured Android and iOS plaintexts, Chromium's
/// rejection rules), `post-handshake-padding.json` (Chromium's padded-map sizes), `framing.json`
/// (webauthn-rs framing), `linking-signature.json` (Chromium's `HandshakeSignatures` fixture) and
/// `session-qr.json` (a whole QR session, every ciphertext byte for byte).
@Suite struct PostHandshakeConformance {
    static let file = SpecVectorFile.load("post-handshake")

    @Test(arguments: file.vectors.map(\.id))
    func vector(_ id: String) throws {
        let v = try #require(Self.file.vectors.first { $0.id == id })
        let plaintext = v.input["plaintext"]!.bytes
        let options = PostHandshakeMessage.DecodingOptions(
            requiresCTAP: v.input["requiresCTAP"]?.bool ?? true,
            linking: v.input["parsesLinkingInfo"]?.bool == false ? .ignore : .parse
        )
        guard v.isValid else {
            let error = try #require(throws: CableProtocolError.self) {
                try PostHandshakeMessage.decode(plaintext, options: options)
            }
            #expect(error.code.rawValue == v.errorCode, "\(error)")
            return
        }
        let e = try #require(v.expected)
        let (message, revision) = try PostHandshakeMessage.decode(plaintext, options: options)
        #expect(revision.rawValue == e["revision"]!.int)
        #expect(Set(message.features.map(\.rawValue)) == Set(e["features"]!.array!.map { $0.string! }))
        #expect((message.linkingInfo != nil) == e["linking"]!.bool)
        if let getInfo = e["getInfo"] {
            let decoded = try CBORValue(decoding: try #require(message.getInfo))
            #expect(cbor(decoded, matches: getInfo), "getInfo differs from the captured phone's")
        }
        if e["roundTrips"]?.bool == true {
            let rebuilt = PostHandshakeMessage(getInfo: message.getInfo, features: message.features)
            #expect(rebuilt.encoded() == plaintext)
        }
    }
}

@Suite struct PaddedCBORMapConformance {
    static let file = SpecVectorFile.load("post-handshake-padding")

    @Test(arguments: file.vectors.map(\.id))
    func vector(_ id: String) throws {
        let v = try #require(Self.file.vectors.first { $0.id == id })
        guard v.isValid else {
            let error = try #require(throws: CableProtocolError.self) {
                try PaddedCBORMap.decode(v.input["padded"]!.bytes)
            }
            #expect(error.code.rawValue == v.errorCode)
            return
        }
        let map = try #require(try CBORValue(decoding: v.input["map"]!.bytes).mapValue)
        let format: PaddedCBORMap.Format = v.input["format"]!.string == "legacy" ? .legacy : .current
        let padded = PaddedCBORMap.encode(map, format: format)
        let e = try #require(v.expected)
        #expect(padded.count == e["length"]!.int)
        if let prefix = e["prefix"] { #expect(hexString(padded.prefix(prefix.bytes.count)) == prefix.string) }
        if let suffix = e["suffix"] { #expect(hexString(padded.suffix(suffix.bytes.count)) == suffix.string) }
        if let zeros = e["zeroCount"]?.int {
            let encodedCount = CBORValue.map(map).encoded.count
            #expect(padded[encodedCount..<(encodedCount + zeros)].allSatisfy { $0 == 0 })
        }
        #expect(try PaddedCBORMap.decode(padded) == map)
    }
}

@Suite struct FramingConformance {
    static let file = SpecVectorFile.load("framing")

    @Test(arguments: file.vectors.map(\.id))
    func vector(_ id: String) throws {
        let v = try #require(Self.file.vectors.first { $0.id == id })
        let frame = v.input["frame"]!.bytes
        guard v.isValid else {
            let error = try #require(throws: CableProtocolError.self) { try TunnelMessage(decoding: frame) }
            #expect(error.code.rawValue == v.errorCode)
            return
        }
        let message = try TunnelMessage(decoding: frame)
        let payload = v.expected!["payload"]!.bytes
        let expected: TunnelMessage
        switch v.expected!["type"]!.string {
        case "shutdown": expected = .shutdown
        case "ctap": expected = .ctap(payload)
        case "update": expected = .update(payload)
        case "json": expected = .json(payload)
        case let other: throw VectorError("unknown type \(String(describing: other))")
        }
        #expect(message == expected)
        #expect(message.encoded() == frame)
    }
}

@Suite struct LinkingSignatureConformance {
    static let file = SpecVectorFile.load("linking-signature")

    @Test(arguments: file.vectors.map(\.id))
    func vector(_ id: String) throws {
        let v = try #require(Self.file.vectors.first { $0.id == id })
        let authenticator = try P256.PrivateKey(derivedFromSeed: v.input["authenticatorSeed"]!.bytes)
        let client = try P256.PrivateKey(derivedFromSeed: v.input["clientSeed"]!.bytes)
        let hash = HandshakeHash(v.input["handshakeHash"]!.bytes)
        if v.isValid {
            let e = try #require(v.expected)
            #expect(authenticator.publicKey.uncompressedRepresentation == e["authenticatorPublic"]!.bytes)
            #expect(client.publicKey.uncompressedRepresentation == e["clientPublic"]!.bytes)
            let signature = try LinkingSignature.compute(
                identity: authenticator,
                desktopIdentity: client.publicKey,
                handshakeHash: hash
            )
            #expect(hexString(signature) == e["signature"]!.string)
            #expect(
                LinkingSignature.isValid(
                    signature,
                    desktopIdentity: client,
                    authenticatorIdentity: authenticator.publicKey,
                    handshakeHash: hash
                )
            )
        } else {
            let info = LinkingInfo(
                contactID: [1],
                linkID: [2],
                linkSecret: SecretBytes([UInt8](repeating: 3, count: 32)),
                authenticatorPublicKey: authenticator.publicKey.uncompressedRepresentation,
                authenticatorName: "fixture",
                handshakeSignature: v.input["signature"]!.bytes
            )
            let error = try #require(throws: CableProtocolError.self) {
                try info.verified(handshakeHash: hash, desktopIdentity: client)
            }
            #expect(error.code.rawValue == v.errorCode)
        }
    }
}

/// The whole derived QR session: handshake, post-handshake message, the 528-byte update, CTAP frames
/// both ways and shutdown, each checked byte for byte with its direction's sequence number.
@Suite struct SessionConformance {
    static let file = SpecVectorFile.load("session-qr")

    @Test(arguments: file.vectors.map(\.id))
    func wholeSessionMatchesByteForByte(_ id: String) throws {
        let v = try #require(Self.file.vectors.first { $0.id == id })
        let e = try #require(v.expected)
        let qrKey = v.input["qrKey"]!.bytes
        #expect(Array(qrKey[32...]) == v.input["qrSecret"]!.bytes)
        let identity = try P256.PrivateKey(derivedFromSeed: qrKey[0..<32])
        #expect(identity.publicKey.uncompressedRepresentation == e["desktopIdentityPublic"]!.bytes)
        let psk = try PreSharedKey(bytes: v.input["psk"]!.bytes)

        var initiator = HandshakeInitiator(
            qrFlowWith: psk,
            identity: identity,
            ephemeral: try P256.PrivateKey(rawScalar: v.input["initiatorEphemeralPrivate"]!.bytes)
        )
        var responder = HandshakeResponder(
            qrFlowWith: psk,
            desktopIdentity: identity.publicKey,
            ephemeral: try P256.PrivateKey(rawScalar: v.input["responderEphemeralPrivate"]!.bytes)
        )
        let message1 = try initiator.makeInitialMessage()
        #expect(hexString(message1) == e["initiatorMessage"]!.string)
        let message2Answer = try responder.respond(to: message1)
        let message2 = message2Answer.response
        let phoneResult = message2Answer.result
        #expect(hexString(message2) == e["responderMessage"]!.string)
        let desktopResult = try initiator.receiveResponse(message2)
        #expect(desktopResult.handshakeHash.bytes == e["handshakeHash"]!.bytes)
        #expect(phoneResult.handshakeHash == desktopResult.handshakeHash)

        // The public, byte-level initialisers (QR key, compressed QR public key) give the same transcript.
        let qrGeneratorKey = try QRGeneratorKey(bytes: qrKey)
        var publicInitiator = try HandshakeInitiator(
            qrFlowWith: psk,
            qrKey: qrGeneratorKey,
            ephemeralScalar: v.input["initiatorEphemeralPrivate"]!.bytes
        )
        var publicResponder = try HandshakeResponder(
            qrFlowWith: psk,
            desktopIdentity: identity.publicKey.compressedRepresentation,
            ephemeralScalar: v.input["responderEphemeralPrivate"]!.bytes
        )
        #expect(try publicInitiator.makeInitialMessage() == message1)
        #expect(try publicResponder.respond(to: message1).response == message2)

        var desktop = desktopResult.crypter
        var phone = phoneResult.crypter
        // The vector's desktop write key, independently: it opens every desktop message in turn.
        var writeProbe = try Crypter(readKey: e["desktopWriteKey"]!.bytes, writeKey: e["desktopReadKey"]!.bytes)

        for (index, m) in e["messages"]!.array!.enumerated() {
            let plaintext = m["plaintext"]!.bytes
            let fromPhone = m["direction"]!.string == "phone->desktop"
            let sequenceNumber = UInt32(m["sequenceNumber"]!.int!)
            let ciphertext: [UInt8]
            let received: [UInt8]
            if fromPhone {
                #expect(phone.writeSequenceNumber == sequenceNumber, "message \(index)")
                ciphertext = try phone.seal(plaintext)
                received = try desktop.open(ciphertext)
            } else {
                #expect(desktop.writeSequenceNumber == sequenceNumber, "message \(index)")
                ciphertext = try desktop.seal(plaintext)
                received = try phone.open(ciphertext)
                #expect(try writeProbe.open(ciphertext) == plaintext, "message \(index)")
            }
            #expect(hexString(ciphertext) == m["ciphertext"]!.string, "message \(index) \(m["label"]!)")
            #expect(received == plaintext)
            try Self.checkContent(label: m["label"]!.string!, plaintext: plaintext, ciphertext: ciphertext)
        }
        #expect(desktop.construction == .current)
    }

    /// Each message decodes to the typed model, and building the model reproduces Chromium's bytes.
    static func checkContent(label: String, plaintext: [UInt8], ciphertext: [UInt8]) throws {
        switch label {
        case "post_handshake":
            let (message, revision) = try PostHandshakeMessage.decode(plaintext)
            #expect(revision == .one)
            #expect(message.features == [.ctap])
            #expect(PostHandshakeMessage(getInfo: message.getInfo).encoded() == plaintext)
        case "update":
            guard case .update(let payload) = try TunnelMessage(decoding: plaintext) else {
                Issue.record("not an update frame")
                return
            }
            #expect(try UpdateMessage(decoding: payload).linkingInfo == nil)
            #expect(UpdateMessage().frame == plaintext, "Chromium's padding computation")
            #expect(ciphertext.count == UpdateMessage.paddingTarget + 16)
        case "shutdown":
            #expect(try TunnelMessage(decoding: plaintext) == .shutdown)
            #expect(TunnelMessage.shutdown.encoded() == plaintext)
        default:
            let message = try TunnelMessage(decoding: plaintext)
            #expect(message == .ctap(Array(plaintext.dropFirst())))
            #expect(message.encoded() == plaintext)
        }
    }
}

/// Whether a decoded CBOR value equals a JSON rendering of it: maps with integer keys written as strings,
/// byte strings as hex.
func cbor(_ value: CBORValue, matches json: JSONValue) -> Bool {
    switch (value, json) {
    case (.textString(let s), .string(let t)): return s == t
    case (.byteString(let b), .string(let t)): return hexString(b) == t
    case (.bool(let b), .bool(let c)): return b == c
    case (.integer(let i), .number(let n)): return Double(i) == n
    case (.array(let a), .array(let b)):
        return a.count == b.count && zip(a, b).allSatisfy { cbor($0, matches: $1) }
    case (.map(let m), .object(let o)):
        guard m.count == o.count else { return false }
        return o.allSatisfy { key, expected in
            let cborKey: CBORValue = Int64(key).map { .integer($0) } ?? .textString(key)
            return m[cborKey].map { cbor($0, matches: expected) } ?? false
        }
    default: return false
    }
}
