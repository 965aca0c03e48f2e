import CableCrypto
@_spi(Fuzzing) import CableProtocol
import CableTestSupport
import Testing

/// Runs `Spec/vectors/noise-knpsk0.json` and `noise-nkpsk0.json`: fixed-ephemeral transcripts (derived
/// from Chromium's `v2_handshake.cc`/`noise.cc`, cross-checked against textbook Noise), step-by-step
/// SymmetricState traces, and hostile mutations of each message with the error code they must raise.
@Suite struct NoiseConformance {
    static let files = ["noise-knpsk0", "noise-nkpsk0"].map { SpecVectorFile.load($0) }
    static let vectors = files.flatMap(\.vectors)

    @Test(arguments: vectors.filter(\.isValid).map(\.id))
    func transcriptMatches(_ id: String) throws {
        let v = try Self.vector(id)
        let e = try #require(v.expected)
        var pair = try HandshakePair(v)

        let message1 = try pair.initiator.makeInitialMessage()
        #expect(hexString(message1) == e["initiatorMessage"]!.string)

        let message2Answer = try pair.responder.respond(to: message1)

        let message2 = message2Answer.response

        let responderResult = message2Answer.result
        #expect(hexString(message2) == e["responderMessage"]!.string)

        let initiatorResult = try pair.initiator.receiveResponse(message2)
        #expect(initiatorResult.handshakeHash.bytes == e["handshakeHash"]!.bytes)
        #expect(responderResult.handshakeHash == initiatorResult.handshakeHash)

        // The keys are checked through their effect: the desktop's crypter writes with the write key.
        let writeKey = e["initiatorWriteKey"]!.bytes
        let readKey = e["initiatorReadKey"]!.bytes
        var desktop = initiatorResult.crypter
        var phone = responderResult.crypter
        var writeProbe = try Crypter(readKey: writeKey, writeKey: readKey)
        var readProbe = try Crypter(readKey: writeKey, writeKey: readKey)
        #expect(try writeProbe.open(desktop.seal([1, 2, 3])) == [1, 2, 3])
        #expect(try desktop.open(readProbe.seal([4, 5])) == [4, 5])
        if let responderWrite = e["responderWriteKey"] {
            #expect(responderWrite.bytes == readKey)
            #expect(e["responderReadKey"]!.bytes == writeKey)
        }
        var phoneProbe = try Crypter(readKey: readKey, writeKey: writeKey)
        #expect(try phoneProbe.open(phone.seal([6])) == [6])
    }

    /// Replays each trace operation by operation and compares ck, h and k after every step. The 16-byte
    /// `MixHash` entries are the tags of `EncryptAndHash(∅)`; they are produced, not just mixed, so the
    /// AEAD with `AD = h` is checked as well.
    @Test(arguments: vectors.filter { $0.expected?["initiatorTrace"] != nil }.map(\.id))
    func symmetricStateTraceMatchesStepByStep(_ id: String) throws {
        let v = try Self.vector(id)
        for role in ["initiatorTrace", "responderTrace"] {
            let steps = try #require(v.expected?[role]?.array)
            var state: SymmetricState?
            for (index, step) in steps.enumerated() {
                let input = step["input"]!.bytes
                switch step["op"]!.string! {
                case "init":
                    state = SymmetricState(protocolName: String(decoding: input, as: UTF8.self))
                case "MixHash":
                    if input.count == 16, state?.cipherKey != nil {
                        var copy = try #require(state)
                        let tag = try copy.encryptAndHash([])
                        #expect(tag == input, "\(role) step \(index): EncryptAndHash(∅) tag")
                    }
                    state?.mixHash(input)
                case "MixKey":
                    state?.mixKey(input)
                case "MixKeyAndHash":
                    state?.mixKeyAndHash(input)
                default:
                    Issue.record("unknown trace op \(step["op"]!)")
                }
                let s = try #require(state)
                #expect(s.chainingKey.bytes == step["ck"]!.bytes, "\(role) step \(index) ck")
                #expect(s.handshakeHash == step["h"]!.bytes, "\(role) step \(index) h")
                if step["k"]!.isNull {
                    #expect(s.cipherKey == nil, "\(role) step \(index) k")
                } else {
                    #expect(s.cipherKey?.bytes == step["k"]!.bytes, "\(role) step \(index) k")
                }
            }
            let final = try #require(state)
            #expect(final.handshakeHash == v.expected!["handshakeHash"]!.bytes)
            let keys = final.split()
            #expect(keys.first.bytes == v.expected!["initiatorWriteKey"]!.bytes)
            #expect(keys.second.bytes == v.expected!["initiatorReadKey"]!.bytes)
        }
    }

    /// The static key of the KN vectors is Chromium's `EC_KEY_derive_from_secret(seed)`: the carried
    /// scalar and public key must agree with that derivation.
    @Test(arguments: vectors.filter { $0.input["initiatorStaticSeed"] != nil }.map(\.id))
    func staticKeyIsDerivedFromSeed(_ id: String) throws {
        let v = try Self.vector(id)
        let derived = try P256.PrivateKey(derivedFromSeed: v.input["initiatorStaticSeed"]!.bytes)
        #expect(derived.rawScalar.bytes == v.input["initiatorStaticPrivate"]!.bytes)
        #expect(derived.publicKey.uncompressedRepresentation == v.input["initiatorStaticPublic"]!.bytes)
    }

    @Test(arguments: vectors.filter { !$0.isValid }.map(\.id))
    func hostileMessageIsRejectedWithItsCode(_ id: String) throws {
        let v = try Self.vector(id)
        let base = try Self.vector(v.input["baseVectorId"]!.string!)
        var pair = try HandshakePair(base)
        let message = v.input["message"]!.bytes
        let error: CableProtocolError
        switch v.input["role"]!.string! {
        case "initiator":
            _ = try pair.initiator.makeInitialMessage()
            error = try #require(throws: CableProtocolError.self) { _ = try pair.initiator.receiveResponse(message) }
            // The failure is final: even the genuine response is now refused.
            let genuine = base.expected!["responderMessage"]!.bytes
            #expect(throws: CableProtocolError(.handshakeUnexpectedMessage, "")) {
                _ = try pair.initiator.receiveResponse(genuine)
            }
        default:
            error = try #require(throws: CableProtocolError.self) { _ = try pair.responder.respond(to: message) }
        }
        #expect(error.code.rawValue == v.errorCode, "\(error)")
    }

    static func vector(_ id: String) throws -> SpecVector {
        try #require(Self.vectors.first { $0.id == id })
    }
}

/// An initiator and a responder configured from one vector's `input`.
struct HandshakePair: ~Copyable {
    var initiator: HandshakeInitiator
    var responder: HandshakeResponder

    init(_ v: SpecVector) throws {
        let input = v.input
        let psk = try PreSharedKey(bytes: input["psk"]!.bytes)
        let initiatorEphemeral = try P256.PrivateKey(rawScalar: input["initiatorEphemeralPrivate"]!.bytes)
        let responderEphemeral = try P256.PrivateKey(rawScalar: input["responderEphemeralPrivate"]!.bytes)
        if let scalar = input["initiatorStaticPrivate"] {
            let identity = try P256.PrivateKey(rawScalar: scalar.bytes)
            #expect(identity.publicKey.uncompressedRepresentation == input["initiatorStaticPublic"]!.bytes)
            self.initiator = HandshakeInitiator(qrFlowWith: psk, identity: identity, ephemeral: initiatorEphemeral)
            self.responder = HandshakeResponder(
                qrFlowWith: psk,
                desktopIdentity: identity.publicKey,
                ephemeral: responderEphemeral
            )
        } else {
            let identity = try P256.PrivateKey(rawScalar: input["responderStaticPrivate"]!.bytes)
            #expect(identity.publicKey.uncompressedRepresentation == input["responderStaticPublic"]!.bytes)
            self.initiator = HandshakeInitiator(
                linkedFlowWith: psk,
                phoneIdentity: identity.publicKey,
                ephemeral: initiatorEphemeral
            )
            self.responder = HandshakeResponder(linkedFlowWith: psk, identity: identity, ephemeral: responderEphemeral)
        }
        #expect(self.initiator.pattern.protocolName == input["pattern"]!.string)
        #expect(hexString([self.initiator.pattern.prologue]) == input["prologue"]!.string)
    }
}
