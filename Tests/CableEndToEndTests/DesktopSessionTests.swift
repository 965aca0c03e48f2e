import CableCrypto
import CableDesktop
@_spi(Fuzzing) import CableProtocol
import CableTestSupport
import Testing

/// A phone played by hand: the Noise responder and a crypter, so a test can send the desktop any frame,
/// well-formed or not, in any order.
struct HandPlayedPhone: ~Copyable {
    var crypter: Crypter
    let handshakeResponse: [UInt8]
    let handshakeHash: HandshakeHash

    /// Seals a revision-1 frame.
    mutating func seal(_ message: TunnelMessage) throws -> [UInt8] { try self.crypter.seal(message.encoded()) }

    /// Seals raw plaintext (a frame that may be malformed).
    mutating func seal(plaintext: [UInt8]) throws -> [UInt8] { try self.crypter.seal(plaintext) }
}

/// A desktop session and the hand-played phone it is talking to.
struct DesktopUnderTest: ~Copyable {
    var desktop: DesktopSession
    var phone: HandPlayedPhone
    let key: QRGeneratorKey
}

/// `DesktopSession`, one rule per test (as swift-nio-ssh tests its state machines): each test drives a
/// fresh session to the state the rule is about and asserts the exact `DesktopError` code and step
/// (for a broken rule of the core, the exact underlying `CableProtocolError` code), or the exact
/// output. Frames arrive back to back (several before the desktop acts) and drip-fed
/// (interleaved with the desktop's own actions).
@Suite struct DesktopSessionTests {
    static let advertPlaintext: AdvertPlaintext = {
        do {
            return try AdvertPlaintext(
                nonce: [UInt8](repeating: 1, count: 10),
                routingID: try RoutingID(hex: "0A0B0C"),
                domainID: .google
            )
        } catch {
            preconditionFailure("fixture advert: \(error)")
        }
    }()

    /// A QR key (seeded, so failures reproduce).
    static func key(seed: UInt64 = 1) throws -> QRGeneratorKey {
        var rng = DeterministicRNG(seed: seed)
        return try QRGeneratorKey.random(using: &rng)
    }

    /// A fresh desktop session for `key`.
    static func session(_ key: QRGeneratorKey) throws -> DesktopSession {
        try DesktopSession(key: key, requestType: .getAssertion, timestamp: 1_700_000_000)
    }

    /// The phone's advert for `key`, as BLE advertising data.
    static func advert(for key: QRGeneratorKey) throws -> [UInt8] {
        AdvertisingData.phoneAdvert(try AdvertCrypter.encrypt(Self.advertPlaintext, key: key.secret.eidKey)).bytes
    }

    /// A session that has matched the advert and sent Noise message 1, with the phone's answer ready
    /// but not yet delivered.
    static func handshakeSent(phoneConstruction: Crypter.Construction = .current) throws -> DesktopUnderTest {
        let key = try Self.key()
        var desktop = try Self.session(key)
        let matched = desktop.matchAdvert(advertisingData: try Self.advert(for: key))
        try #require(matched != nil)
        let message1 = try desktop.makeHandshakeMessage()
        var responder = HandshakeResponder(
            qrFlowWith: key.secret.psk(advert: Self.advertPlaintext),
            desktopIdentity: key.privateKey.publicKey,
            ephemeral: try P256.PrivateKey(),
            crypterPolicy: .fixed(phoneConstruction)
        )
        let answer = try responder.respond(to: message1)
        let hash = answer.result.handshakeHash
        let phone = HandPlayedPhone(
            crypter: answer.result.crypter,
            handshakeResponse: answer.response,
            handshakeHash: hash
        )
        return DesktopUnderTest(desktop: desktop, phone: phone, key: key)
    }

    /// The phone's revision-1 post-handshake message (getInfo `{}`, CTAP).
    static let postHandshake = PostHandshakeMessage(getInfo: [0xA0], features: [.ctap]).encoded(revision: .one)

    /// A session that has finished the handshake and read the post-handshake message: ready for a request.
    static func ready() throws -> DesktopUnderTest {
        var t = try Self.handshakeSent()
        #expect(try t.desktop.receive(t.phone.handshakeResponse) == .handshakeComplete)
        let post = try t.phone.seal(plaintext: Self.postHandshake)
        #expect(try t.desktop.receive(post) == .postHandshake(getInfo: [0xA0], revision: .one, linking: nil))
        return t
    }

    // MARK: - Before the handshake

    @Test func aMessageBeforeAnyAdvertIsAnUnexpectedFrame() throws {
        var desktop = try Self.session(try Self.key())
        #expect(throws: DesktopError(.unexpectedFrame, step: .advert, "")) { _ = try desktop.receive([0x00]) }
    }

    @Test func aMessageAfterTheAdvertButBeforeMessage1IsAnUnexpectedFrame() throws {
        let key = try Self.key()
        var desktop = try Self.session(key)
        _ = desktop.matchAdvert(advertisingData: try Self.advert(for: key))
        #expect(throws: DesktopError(.unexpectedFrame, step: .handshake, "")) {
            _ = try desktop.receive([UInt8](repeating: 4, count: 81))
        }
    }

    @Test func anotherQRCodesAdvertIsNotAMatch() throws {
        var desktop = try Self.session(try Self.key(seed: 1))
        let otherKey = try Self.key(seed: 2)
        #expect(desktop.matchAdvert(advertisingData: try Self.advert(for: otherKey)) == nil)
        #expect(desktop.matchAdvert(advertisingData: [0x02, 0x01, 0x06]) == nil, "not an advert at all")
        let matched = desktop.hasMatchedAdvert
        #expect(!matched)
    }

    @Test func onlyTheFirstMatchingAdvertCounts() throws {
        let key = try Self.key()
        var desktop = try Self.session(key)
        let advert = try Self.advert(for: key)
        let first = desktop.matchAdvert(advertisingData: advert)
        #expect(first?.plaintext.routingID == Self.advertPlaintext.routingID)
        #expect(desktop.matchAdvert(advertisingData: advert) == nil)
    }

    /// The matcher a scanning task holds finds the same match, and accepting it needs no second decryption.
    @Test func theAdvertMatcherFindsWhatMatchAdvertFinds() throws {
        let key = try Self.key()
        var desktop = try Self.session(key)
        let advert = try Self.advert(for: key)
        let match = try #require(desktop.advertMatcher.match(advertisingData: advert))
        #expect(match.endpoint == .connect(Self.advertPlaintext.routingID, key.secret.tunnelID))
        desktop.acceptAdvert(match)
        let matched = desktop.hasMatchedAdvert
        #expect(matched)
        #expect(try desktop.makeHandshakeMessage().count == HandshakeMessageSize.message)
    }

    // MARK: - The handshake response

    @Test func aShortHandshakeResponseFailsTheSessionForGood() throws {
        var t = try Self.handshakeSent()
        expectDesktopViolation(.handshakeInvalidMessageLength, at: .handshake) {
            _ = try t.desktop.receive(Array(t.phone.handshakeResponse.dropLast()))
        }
        #expect(throws: DesktopError(.unexpectedFrame, step: .handshake, "")) {
            _ = try t.desktop.receive(t.phone.handshakeResponse)
        }
    }

    @Test func aTamperedHandshakeResponseDoesNotAuthenticate() throws {
        var t = try Self.handshakeSent()
        var tampered = t.phone.handshakeResponse
        tampered[80] ^= 1
        expectDesktopViolation(.handshakeAuthenticationFailed, at: .handshake) { _ = try t.desktop.receive(tampered) }
    }

    // MARK: - The post-handshake message

    /// The phone's three opening frames arrive back to back, before the desktop does anything else.
    @Test func responsePostHandshakeAndUpdateBackToBack() throws {
        var t = try Self.handshakeSent()
        let post = try t.phone.seal(plaintext: Self.postHandshake)
        let update = try t.phone.seal(plaintext: UpdateMessage().frame)
        #expect(try t.desktop.receive(t.phone.handshakeResponse) == .handshakeComplete)
        #expect(try t.desktop.receive(post) == .postHandshake(getInfo: [0xA0], revision: .one, linking: nil))
        #expect(try t.desktop.receive(update) == .update(linking: nil))
    }

    @Test func anUpdateInPlaceOfThePostHandshakeMessageDoesNotDecode() throws {
        var t = try Self.handshakeSent()
        _ = try t.desktop.receive(t.phone.handshakeResponse)
        let update = try t.phone.seal(plaintext: UpdateMessage().frame)
        #expect(throws: DesktopError(.protocolViolation, step: .postHandshake, "")) {
            _ = try t.desktop.receive(update)
        }
    }

    /// A legacy-construction phone: the desktop's default policy switches on the first read.
    @Test func aLegacyPhonesPostHandshakeMessageIsReadAfterTheFallback() throws {
        var t = try Self.handshakeSent(phoneConstruction: .legacy)
        _ = try t.desktop.receive(t.phone.handshakeResponse)
        let post = try t.phone.seal(plaintext: Self.postHandshake)
        #expect(try t.desktop.receive(post) == .postHandshake(getInfo: [0xA0], revision: .one, linking: nil))
    }

    /// Chromium parses and verifies linking data in a QR flow's post-handshake message whether or not
    /// the QR code offered linking (fido_tunnel_device.cc `OnTunnelData`,
    /// `kWaitingForPostHandshakeMessage`: `Pairing::Parse` failure → `OnError`), so an empty linking map
    /// there still ends the session. (Contrast the update message below.)
    @Test func aMalformedLinkingMapInThePostHandshakeMessageEndsTheSession() throws {
        var t = try Self.handshakeSent()
        _ = try t.desktop.receive(t.phone.handshakeResponse)
        // {1: h'A0', 2: {}}: getInfo, and linking data that is a map but not linking info.
        let post = try t.phone.seal(plaintext: [0xA2, 0x01, 0x41, 0xA0, 0x02, 0xA0])
        expectDesktopViolation(.linkingInfoMissingField, at: .postHandshake) { _ = try t.desktop.receive(post) }
    }

    // MARK: - Frames once ready

    @Test func aShutdownFromThePhoneIsAnError() throws {
        var t = try Self.ready()
        let shutdown = try t.phone.seal(.shutdown)
        #expect(throws: DesktopError(.receivedShutdown, step: .response, "")) { _ = try t.desktop.receive(shutdown) }
    }

    @Test func aReplyWithNoRequestOutstandingIsUnsolicited() throws {
        var t = try Self.ready()
        let reply = try t.phone.seal(.ctap([0x00]))
        #expect(throws: DesktopError(.unsolicitedReply, step: .response, "")) { _ = try t.desktop.receive(reply) }
    }

    @Test func aJSONReplyWithNoRequestOutstandingIsUnsolicited() throws {
        var t = try Self.ready()
        let reply = try t.phone.seal(.json(Array("{}".utf8)))
        #expect(throws: DesktopError(.unsolicitedReply, step: .response, "")) { _ = try t.desktop.receive(reply) }
    }

    /// Chromium: a reply whose type differs from the request's is an error ("incorrect message type").
    @Test func aJSONReplyToACTAPRequestIsRefused() throws {
        var t = try Self.ready()
        _ = try t.desktop.sendCTAP([0x02, 0xA0])
        let reply = try t.phone.seal(.json(Array("{}".utf8)))
        #expect(throws: DesktopError(.unsolicitedReply, step: .response, "")) { _ = try t.desktop.receive(reply) }
    }

    @Test func aSecondReplyToOneRequestIsUnsolicited() throws {
        var t = try Self.ready()
        _ = try t.desktop.sendCTAP([0x02, 0xA0])
        let first = try t.phone.seal(.ctap([0x00, 0xA0]))
        let second = try t.phone.seal(.ctap([0x00, 0xA0]))
        #expect(try t.desktop.receive(first) == .ctapResponse([0x00, 0xA0]))
        #expect(throws: DesktopError(.unsolicitedReply, step: .response, "")) { _ = try t.desktop.receive(second) }
    }

    @Test func anUnknownFrameTypeIsRefused() throws {
        var t = try Self.ready()
        let frame = try t.phone.seal(plaintext: [0x04, 0x00])
        expectDesktopViolation(.tunnelMessageUnknownType, at: .response) { _ = try t.desktop.receive(frame) }
    }

    @Test func anEmptyFrameIsRefused() throws {
        var t = try Self.ready()
        let frame = try t.phone.seal(plaintext: [])
        expectDesktopViolation(.tunnelMessageEmpty, at: .response) { _ = try t.desktop.receive(frame) }
    }

    @Test func aTamperedFrameFailsTheSessionForGood() throws {
        var t = try Self.ready()
        var frame = try t.phone.seal(.ctap([0x00]))
        frame[0] ^= 1
        expectDesktopViolation(.crypterAuthenticationFailed, at: .response) { _ = try t.desktop.receive(frame) }
        frame[0] ^= 1
        #expect(throws: DesktopError(.unexpectedFrame, step: .response, "")) { _ = try t.desktop.receive(frame) }
    }

    @Test func aReplayedFrameDoesNotAuthenticate() throws {
        var t = try Self.ready()
        _ = try t.desktop.sendCTAP([0x02])
        let reply = try t.phone.seal(.ctap([0x00]))
        _ = try t.desktop.receive(reply)
        _ = try t.desktop.sendCTAP([0x02])
        expectDesktopViolation(.crypterAuthenticationFailed, at: .response) { _ = try t.desktop.receive(reply) }
    }

    // MARK: - Update messages (linking not offered: QR key 4 false)

    /// The desktop never offers linking, so, as Chromium's `ProcessUpdate` without a pairing callback,
    /// linking data that is a map is discarded whatever it holds: an empty map is not an error.
    @Test func aMalformedLinkingMapInAnUpdateIsIgnored() throws {
        var t = try Self.ready()
        #expect(t.desktop.qrPayload.supportsLinking != true)
        let update = try t.phone.seal(.update([0xA1, 0x01, 0xA0]))  // {1: {}}
        #expect(try t.desktop.receive(update) == .update(linking: nil))
        _ = try t.desktop.sendCTAP([0x02])
        let reply = try t.phone.seal(.ctap([0x00]))
        #expect(try t.desktop.receive(reply) == .ctapResponse([0x00]), "the session carries on")
    }

    /// Even correctly signed linking information is discarded when linking was not offered.
    @Test func wellFormedLinkingInfoInAnUpdateIsDiscarded() throws {
        var t = try Self.ready()
        let info = try LinkingInfo(
            contactID: Array("push".utf8),
            linkID: [1, 2, 3, 4, 5, 6, 7, 8],
            linkSecret: SecretBytes([UInt8](repeating: 7, count: 32)),
            identity: try P256.PrivateKey(),
            authenticatorName: "Pixel",
            desktopIdentity: t.key.privateKey.publicKey,
            handshakeHash: t.phone.handshakeHash
        )
        let update = try t.phone.seal(plaintext: UpdateMessage(linkingInfo: info).frame)
        #expect(try t.desktop.receive(update) == .update(linking: nil))
    }

    /// Chromium `ProcessUpdate` still requires linking data to be a map (`!is_map()` → error).
    @Test func linkingDataThatIsNotAMapStillEndsTheSession() throws {
        var t = try Self.ready()
        let update = try t.phone.seal(.update([0xA1, 0x01, 0x01]))  // {1: 1}
        expectDesktopViolation(.updateLinkingNotMap, at: .response) { _ = try t.desktop.receive(update) }
    }

    @Test func anUpdateThatIsNotAMapEndsTheSession() throws {
        var t = try Self.ready()
        let update = try t.phone.seal(.update([0x01]))
        expectDesktopViolation(.updateNotMap, at: .response) { _ = try t.desktop.receive(update) }
    }

    /// Updates drip-fed between the desktop's own steps leave each phase as it was.
    @Test func updatesDripFedAtEveryPhaseKeepThatPhase() throws {
        var t = try Self.ready()
        #expect(try t.desktop.receive(try t.phone.seal(.update([0xA0]))) == .update(linking: nil))
        _ = try t.desktop.sendCTAP([0x02])
        #expect(try t.desktop.receive(try t.phone.seal(.update([0xA0]))) == .update(linking: nil))
        #expect(
            try t.desktop.receive(try t.phone.seal(.ctap([0x00]))) == .ctapResponse([0x00]),
            "still awaiting the reply"
        )
        #expect(try t.desktop.shutdown() != nil)
        #expect(try t.desktop.receive(try t.phone.seal(.update([0xA0]))) == .update(linking: nil), "late linking")
    }

    // MARK: - Shutdown

    @Test func shutdownSealsTheShutdownFrameForRevisionOne() throws {
        var t = try Self.ready()
        let frame = try #require(try t.desktop.shutdown())
        #expect(try TunnelMessage(decoding: t.phone.crypter.open(frame)) == .shutdown)
        #expect(try t.desktop.shutdown() == nil, "a second shutdown sends nothing")
    }

    @Test func aLateReplyAfterShutdownIsDroppedSilently() throws {
        var t = try Self.ready()
        _ = try t.desktop.sendCTAP([0x02])
        _ = try t.desktop.shutdown()
        #expect(try t.desktop.receive(try t.phone.seal(.ctap([0x00]))) == DesktopSession.Output.none)
        #expect(try t.desktop.receive(try t.phone.seal(.json([0x7B, 0x7D]))) == DesktopSession.Output.none)
    }

    @Test func aShutdownFromThePhoneAfterOursIsStillAnError() throws {
        var t = try Self.ready()
        _ = try t.desktop.shutdown()
        #expect(throws: DesktopError(.receivedShutdown, step: .response, "")) {
            _ = try t.desktop.receive(try t.phone.seal(.shutdown))
        }
    }

    @Test func shutdownBeforeTheHandshakeSendsNothing() throws {
        var desktop = try Self.session(try Self.key())
        #expect(try desktop.shutdown() == nil)
    }
}
