import CableAuthenticator
import CableCrypto
@_spi(Fuzzing) import CableProtocol
import CableTestSupport
import Testing

/// A desktop played by hand: its QR key, the Noise initiator's crypter once the handshake is done, so a
/// test can send the phone any frame in any order.
struct HandPlayedDesktop: ~Copyable {
    var crypter: Crypter

    mutating func seal(_ message: TunnelMessage) throws -> [UInt8] { try self.crypter.seal(message.encoded()) }
    mutating func seal(plaintext: [UInt8]) throws -> [UInt8] { try self.crypter.seal(plaintext) }
    mutating func open(_ ciphertext: [UInt8]) throws -> TunnelMessage {
        try TunnelMessage(decoding: self.crypter.open(ciphertext))
    }
}

/// A phone session and the hand-played desktop it is talking to.
struct PhoneUnderTest: ~Copyable {
    var phone: PhoneSession
    var desktop: HandPlayedDesktop
    /// The phone's answer to message 1: handshake response, post-handshake message, update message.
    let opening: [[UInt8]]
    /// The last two as the desktop read them.
    let postHandshakePlaintext: [UInt8]
    let update: TunnelMessage
}

/// `PhoneSession`, one rule per test: each test drives a fresh session to the state the rule is about
/// and asserts the exact `PhoneError` code and step (for a broken rule of the core, the exact
/// underlying `CableProtocolError` code) or output, with frames back to back and drip-fed.
@Suite struct PhoneSessionTests {
    static let getInfo: [UInt8] = [0xA1, 0x01, 0x81, 0x68] + Array("FIDO_2_1".utf8)

    static func key() throws -> QRGeneratorKey {
        var rng = DeterministicRNG(seed: 11)
        return try QRGeneratorKey.random(using: &rng)
    }

    /// A phone that scanned `key`'s QR code.
    static func scanned(_ key: QRGeneratorKey) throws -> PhoneSession {
        let payload = try key.payload(timestamp: 1_700_000_000, requestType: .makeCredential, supportsLinking: false)
        return PhoneSession(payload: try QRCodePayload(url: payload.url), getInfo: Self.getInfo)
    }

    /// A phone that advertises, and the desktop's handshake for it.
    struct Advertising: ~Copyable {
        var phone: PhoneSession
        var initiator: HandshakeInitiator
        let message1: [UInt8]
    }

    /// A phone that registered its tunnel and advertises; with the desktop's message 1 for it.
    static func advertising() throws -> Advertising {
        let key = try Self.key()
        var phone = try Self.scanned(key)
        let advertisingData = try phone.tunnelOpened(
            routingID: try RoutingID(hex: "010203"),
            domainID: .google,
            nonce: [UInt8](repeating: 5, count: 10)
        )
        let advert = try #require(try AdvertisingData(bytes: advertisingData).cableAdvert)
        let plaintext = try AdvertCrypter.decrypt(advert, key: key.secret.eidKey)
        var initiator = HandshakeInitiator(
            qrFlowWith: key.secret.psk(advert: plaintext),
            identity: key.privateKey,
            ephemeral: try P256.PrivateKey(),
            crypterPolicy: .fixed(.current)
        )
        let message1 = try initiator.makeInitialMessage()
        return Advertising(phone: phone, initiator: initiator, message1: message1)
    }

    /// A phone that answered the handshake: ready for a request.
    static func ready() throws -> PhoneUnderTest {
        var a = try Self.advertising()
        guard case .send(let frames) = try a.phone.receive(a.message1) else {
            throw SetupFailure("the phone did not answer message 1")
        }
        let result = try a.initiator.receiveResponse(frames[0])
        var desktop = HandPlayedDesktop(crypter: result.crypter)
        let post = try desktop.crypter.open(frames[1])
        let update = try desktop.open(frames[2])
        return PhoneUnderTest(
            phone: a.phone,
            desktop: desktop,
            opening: frames,
            postHandshakePlaintext: post,
            update: update
        )
    }

    /// A phone answering a request (`[0x01] ‖ {}`).
    static func answering() throws -> PhoneUnderTest {
        var t = try Self.ready()
        #expect(try t.phone.receive(try t.desktop.seal(.ctap([0x01, 0xA0]))) == .ctapRequest([0x01, 0xA0]))
        return t
    }

    // MARK: - Before the handshake

    @Test func aMessageBeforeTheTunnelIsRegisteredIsAnUnexpectedFrame() throws {
        var phone = try Self.scanned(try Self.key())
        #expect(throws: PhoneError(.unexpectedFrame, step: .registerTunnel, "")) {
            _ = try phone.receive([UInt8](repeating: 4, count: 81))
        }
    }

    @Test func thePhoneAdvertisesUntilTheHandshakeArrives() throws {
        var a = try Self.advertising()
        let message1 = a.message1
        let advertising = a.phone.isAdvertising
        #expect(advertising)
        _ = try a.phone.receive(message1)
        let stillAdvertising = a.phone.isAdvertising
        #expect(!stillAdvertising)
    }

    @Test func aShortHandshakeMessageFailsTheSessionForGood() throws {
        var a = try Self.advertising()
        let message1 = a.message1
        expectPhoneViolation(.handshakeInvalidMessageLength, at: .awaitHandshake) {
            _ = try a.phone.receive(Array(message1.prefix(64)))
        }
        #expect(throws: PhoneError(.unexpectedFrame, step: .awaitHandshake, "")) { _ = try a.phone.receive(message1) }
    }

    @Test func aTamperedHandshakeMessageDoesNotAuthenticate() throws {
        var a = try Self.advertising()
        let message1 = a.message1
        var tampered = message1
        tampered[80] ^= 1
        expectPhoneViolation(.handshakeAuthenticationFailed, at: .awaitHandshake) { _ = try a.phone.receive(tampered) }
    }

    // MARK: - The opening frames

    /// Chromium's phone sends the handshake response, the post-handshake message and an update padded
    /// so that linking or not cannot be told apart; the desktop reads them back to back.
    @Test func theHandshakeIsAnsweredWithResponsePostHandshakeAndUpdate() throws {
        let t = try Self.ready()
        #expect(t.opening.count == 3)
        #expect(t.opening[0].count == HandshakeMessageSize.message)
        let (post, revision) = try PostHandshakeMessage.decode(t.postHandshakePlaintext)
        #expect(post.getInfo == Self.getInfo)
        #expect(revision == .one)
        guard case .update(let payload) = t.update else {
            Issue.record("the third frame is not an update")
            return
        }
        #expect(try UpdateMessage(decoding: payload).linkingInfo == nil)
        #expect(t.opening[2].count >= 512, "padded to hide whether it links")
    }

    // MARK: - Requests

    @Test func aRequestIsHandedOutAndItsReplySealed() throws {
        var t = try Self.answering()
        let reply = try t.phone.respond([0x00, 0xA0])
        #expect(try t.desktop.open(reply) == .ctap([0x00, 0xA0]))
    }

    /// Requests drip-fed one after another, each answered before the next.
    @Test func requestsAreServedOneAfterAnother() throws {
        var t = try Self.ready()
        for command in [UInt8(0x01), 0x02, 0x02] {
            #expect(try t.phone.receive(try t.desktop.seal(.ctap([command]))) == .ctapRequest([command]))
            #expect(try t.desktop.open(try t.phone.respond([0x00, command])) == .ctap([0x00, command]))
        }
    }

    @Test func aSecondRequestWhileAnsweringIsAnUnexpectedFrame() throws {
        var t = try Self.answering()
        let second = try t.desktop.seal(.ctap([0x02]))
        #expect(throws: PhoneError(.unexpectedFrame, step: .serveRequests, "")) { _ = try t.phone.receive(second) }
    }

    @Test func anUpdateWhileAnsweringIsAnUnexpectedFrame() throws {
        var t = try Self.answering()
        let update = try t.desktop.seal(.update([0xA0]))
        #expect(throws: PhoneError(.unexpectedFrame, step: .serveRequests, "")) { _ = try t.phone.receive(update) }
    }

    @Test func aShutdownWhileAnsweringFinishesTheTransaction() throws {
        var t = try Self.answering()
        #expect(try t.phone.receive(try t.desktop.seal(.shutdown)) == .finished)
        let finished = t.phone.isFinished
        #expect(finished)
    }

    @Test func aJSONFrameIsAnUnexpectedFrame() throws {
        var t = try Self.ready()
        let json = try t.desktop.seal(.json(Array("{}".utf8)))
        #expect(throws: PhoneError(.unexpectedFrame, step: .serveRequests, "")) { _ = try t.phone.receive(json) }
    }

    @Test func anUnknownFrameTypeIsRefused() throws {
        var t = try Self.ready()
        let frame = try t.desktop.seal(plaintext: [0x09])
        expectPhoneViolation(.tunnelMessageUnknownType, at: .serveRequests) { _ = try t.phone.receive(frame) }
    }

    // MARK: - Desktop updates and shutdown

    /// Chromium's phone checks a desktop update is CBOR and otherwise ignores it.
    @Test func aDesktopUpdateIsCheckedAndIgnored() throws {
        var t = try Self.ready()
        #expect(try t.phone.receive(try t.desktop.seal(.update([0xA0]))) == PhoneSession.Output.none)
        #expect(try t.phone.receive(try t.desktop.seal(.ctap([0x02]))) == .ctapRequest([0x02]), "still ready")
    }

    @Test func aDesktopUpdateThatIsNotCBORIsRefused() throws {
        var t = try Self.ready()
        let update = try t.desktop.seal(.update([0xFF, 0xFF]))
        expectPhoneViolation(.updateMalformed, at: .serveRequests) { _ = try t.phone.receive(update) }
    }

    @Test func aShutdownFinishesTheTransactionAndNothingMayFollow() throws {
        var t = try Self.ready()
        #expect(try t.phone.receive(try t.desktop.seal(.shutdown)) == .finished)
        let late = try t.desktop.seal(.ctap([0x02]))
        #expect(throws: PhoneError(.unexpectedFrame, step: .serveRequests, "")) { _ = try t.phone.receive(late) }
        let finished = t.phone.isFinished
        #expect(finished)
    }

    @Test func aTamperedFrameFailsTheSessionForGood() throws {
        var t = try Self.ready()
        var frame = try t.desktop.seal(.ctap([0x02]))
        frame[3] ^= 0x80
        expectPhoneViolation(.crypterAuthenticationFailed, at: .serveRequests) { _ = try t.phone.receive(frame) }
        frame[3] ^= 0x80
        #expect(throws: PhoneError(.unexpectedFrame, step: .serveRequests, "")) { _ = try t.phone.receive(frame) }
    }

    @Test func aReplayedRequestDoesNotAuthenticate() throws {
        var t = try Self.ready()
        let request = try t.desktop.seal(.ctap([0x02]))
        _ = try t.phone.receive(request)
        _ = try t.phone.respond([0x00])
        expectPhoneViolation(.crypterAuthenticationFailed, at: .serveRequests) { _ = try t.phone.receive(request) }
    }
}
