import CableAuthenticator
import CableCrypto
import CableDesktop
import CableProtocol
import CableTestSupport
import Testing

/// Runs the desktop and phone state machines against each other with the keys and nonces of the
/// derived whole-session vector, and checks every byte they put on the wire: advert, both handshake
/// messages, post-handshake, update, the CTAP frames and the shutdown (`Spec/vectors/session-qr.json`,
/// `qr-payload.json` `session_qr_from_generator_key`, `eid-advert.json` `session_advert`).
@Suite struct RoleTranscriptTests {
    struct Fixture: ~Copyable {
        var desktop: DesktopSession
        var phone: PhoneSession
        let vector: SpecVector
        let advert: SpecVector
    }

    static func fixture() throws -> Fixture {
        let session = SpecVectorFile.load("session-qr").vectors[0]
        let qr = try #require(
            SpecVectorFile.load("qr-payload").vectors.first { $0.id == "session_qr_from_generator_key" }
        )
        let advert = try #require(SpecVectorFile.load("eid-advert").vectors.first { $0.id == "session_advert" })
        let key = try QRGeneratorKey(bytes: session.input["qrKey"]!.bytes)
        let desktop = try DesktopSession(
            key: key,
            requestType: .makeCredential,
            timestamp: qr.input["timestamp"]!.int64!,
            ephemeral: try P256.PrivateKey(rawScalar: session.input["initiatorEphemeralPrivate"]!.bytes)
        )
        // The phone scans the desktop's QR code.
        let scanned = try QRCodePayload(url: desktop.qrPayload.url)
        let post = session.expected!["messages"]!.array![0]
        let getInfo = try #require(PostHandshakeMessage.decode(post["plaintext"]!.bytes).message.getInfo)
        let phone = PhoneSession(
            payload: scanned,
            getInfo: getInfo,
            ephemeral: try P256.PrivateKey(rawScalar: session.input["responderEphemeralPrivate"]!.bytes)
        )
        return Fixture(desktop: desktop, phone: phone, vector: session, advert: advert)
    }

    @Test func desktopAndPhoneProduceTheSessionByteForByte() throws {
        var f = try Self.fixture()
        let expected = f.vector.expected!
        let messages = expected["messages"]!.array!

        // Phone: tunnel registered on /cable/new/, advert built from the routing ID.
        #expect(f.phone.newTunnelEndpoint == .new(try TunnelID(bytes: f.desktop.qrPayload.secret.tunnelID.bytes)))
        let advertisingData = try f.phone.tunnelOpened(
            routingID: try RoutingID(bytes: f.advert.input["routingID"]!.bytes),
            domainID: .google,
            nonce: f.advert.input["nonce"]!.bytes
        )
        #expect(AdvertisingData.phoneAdvert(f.advert.expected!["advert"]!.bytes).bytes == advertisingData)

        // Desktop: matches the advert, connects, sends Noise message 1.
        let matched = f.desktop.matchAdvert(advertisingData: advertisingData)
        let match = try #require(matched)
        #expect(try match.endpoint.url(domainID: match.domainID) == f.advert.expected!["connectURLs"]!["0"]!.string)
        #expect(f.desktop.matchAdvert(advertisingData: advertisingData) == nil, "later adverts are ignored")
        let m1 = try f.desktop.makeHandshakeMessage()
        #expect(m1 == expected["initiatorMessage"]!.bytes)

        // Phone: answers with message 2, the post-handshake message and the update.
        guard case .send(let phoneFrames) = try f.phone.receive(m1) else {
            Issue.record("phone did not answer")
            return
        }
        #expect(phoneFrames.count == 3)
        #expect(phoneFrames[0] == expected["responderMessage"]!.bytes)
        #expect(phoneFrames[1] == messages[0]["ciphertext"]!.bytes)
        #expect(phoneFrames[2] == messages[1]["ciphertext"]!.bytes)
        #expect(phoneFrames[2].count == 528)

        #expect(try f.desktop.receive(phoneFrames[0]) == .handshakeComplete)
        guard case .postHandshake(let info, let revision, _) = try f.desktop.receive(phoneFrames[1]) else {
            Issue.record("no post-handshake message")
            return
        }
        #expect(revision == .one)
        #expect(info != nil)
        #expect(try f.desktop.receive(phoneFrames[2]) == .update(linking: nil))

        // makeCredential, its opaque reply, getAssertion, its reply, shutdown.
        for (request, reply) in [(2, 3), (4, 5)] {
            let req = messages[request]
            let plaintext = req["plaintext"]!.bytes
            #expect(plaintext.first == 0x01)
            let c = try f.desktop.sendCTAP(Array(plaintext.dropFirst()))
            #expect(c == req["ciphertext"]!.bytes, "\(req["label"]!.string!)")
            #expect(try f.phone.receive(c) == .ctapRequest(Array(plaintext.dropFirst())))
            let rep = messages[reply]
            let r = try f.phone.respond(Array(rep["plaintext"]!.bytes.dropFirst()))
            #expect(r == rep["ciphertext"]!.bytes)
            #expect(try f.desktop.receive(r) == .ctapResponse(Array(rep["plaintext"]!.bytes.dropFirst())))
        }
        let frame = try f.desktop.shutdown()
        let shutdown = try #require(frame)
        #expect(shutdown == messages[6]["ciphertext"]!.bytes)
        #expect(try f.phone.receive(shutdown) == .finished)
        let finished = f.phone.isFinished
        #expect(finished)
    }

    @Test func strangersAdvertsAndTamperedFramesAreHandled() throws {
        var f = try Self.fixture()
        // A stranger's advert (another QR secret) and garbage are ignored.
        let stranger = try QRSecret(bytes: [UInt8](repeating: 9, count: 16))
        let plaintext = try AdvertPlaintext(
            nonce: [UInt8](repeating: 1, count: 10),
            routingID: try RoutingID(hex: "010203"),
            domainID: .google
        )
        let strangerAdvert = AdvertisingData.phoneAdvert(try AdvertCrypter.encrypt(plaintext, key: stranger.eidKey))
            .bytes
        #expect(f.desktop.matchAdvert(advertisingData: strangerAdvert) == nil)
        #expect(f.desktop.matchAdvert(advertisingData: [0xFF, 0x00]) == nil)
        let hasMatched = f.desktop.hasMatchedAdvert
        #expect(!hasMatched)

    }

    /// A fresh fixture driven through the advert and Noise message 1, with the phone's three answers.
    /// The sessions are `~Copyable`, so each check below starts from its own fixture; the fixed keys and
    /// nonces make every fixture's transcript identical.
    struct Started: ~Copyable {
        var f: Fixture
        var m1: [UInt8]
        let frames: [[UInt8]]
    }

    static func started(tamper: Bool = false) throws -> Started {
        var f = try Self.fixture()
        let advertisingData = try f.phone.tunnelOpened(
            routingID: try RoutingID(hex: "2A0000"),
            domainID: .google,
            nonce: [UInt8](repeating: 3, count: 10)
        )
        let matched = f.desktop.matchAdvert(advertisingData: advertisingData)
        _ = try #require(matched)
        let m1 = try f.desktop.makeHandshakeMessage()
        guard case .send(let frames) = try f.phone.receive(m1) else {
            throw SetupFailure("no answer")
        }
        return Started(f: f, m1: m1, frames: frames)
    }

    @Test func aTamperedHandshakeMessageIsRefusedByThePhone() throws {
        var f = try Self.fixture()
        let advertisingData = try f.phone.tunnelOpened(
            routingID: try RoutingID(hex: "2A0000"),
            domainID: .google,
            nonce: [UInt8](repeating: 3, count: 10)
        )
        let matched = f.desktop.matchAdvert(advertisingData: advertisingData)
        _ = try #require(matched)
        var m1 = try f.desktop.makeHandshakeMessage()
        m1[70] ^= 1
        expectPhoneViolation(.handshakeAuthenticationFailed, at: .awaitHandshake) { _ = try f.phone.receive(m1) }
    }

    @Test func aTruncatedHandshakeResponseIsRefused() throws {
        var s = try Self.started()
        expectDesktopViolation(.handshakeInvalidMessageLength, at: .handshake) {
            _ = try s.f.desktop.receive(Array(s.frames[0].dropLast()))
        }
    }

    /// A replayed handshake response is not a valid post-handshake message.
    @Test func aReplayedHandshakeResponseIsRefused() throws {
        var s = try Self.started()
        _ = try s.f.desktop.receive(s.frames[0])
        expectDesktopViolation(.crypterAuthenticationFailed, at: .postHandshake) {
            _ = try s.f.desktop.receive(s.frames[0])
        }
    }

    /// Reordered: the update before the post-handshake message fails to decrypt (wrong counter).
    @Test func anUpdateBeforeThePostHandshakeMessageIsRefused() throws {
        var s = try Self.started()
        _ = try s.f.desktop.receive(s.frames[0])
        expectDesktopViolation(.crypterAuthenticationFailed, at: .postHandshake) {
            _ = try s.f.desktop.receive(s.frames[2])
        }
    }

    /// An unsolicited reply from the phone is an error. The reply comes from a twin fixture (same
    /// transcript) whose desktop did send a request.
    @Test func anUnsolicitedReplyIsRefused() throws {
        var twin = try Self.started()
        for frame in twin.frames { _ = try twin.f.desktop.receive(frame) }
        let request = try twin.f.desktop.sendCTAP([0x02, 0xA0])
        _ = try twin.f.phone.receive(request)
        let reply = try twin.f.phone.respond([0x2E])
        #expect(try twin.f.desktop.receive(reply) == .ctapResponse([0x2E]))

        var s = try Self.started()
        for frame in s.frames { _ = try s.f.desktop.receive(frame) }
        #expect(throws: DesktopError(.unsolicitedReply, step: .response, "")) { _ = try s.f.desktop.receive(reply) }
    }
}
