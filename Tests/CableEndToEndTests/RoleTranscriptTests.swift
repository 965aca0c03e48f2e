import CableAuthenticator
import CableClient
import CableCrypto
import CableProtocol
import CableTestSupport
import Testing

/// Runs the desktop and phone state machines against each other with the keys and nonces of the
/// derived whole-session vector, and checks every byte they put on the wire: advert, both handshake
/// messages, post-handshake, update, the CTAP frames and the shutdown (`Spec/vectors/session-qr.json`,
/// `qr-payload.json` `session_qr_from_generator_key`, `eid-advert.json` `session_advert`).
@Suite struct RoleTranscriptTests {
    struct Fixture {
        var desktop: DesktopSession
        var phone: PhoneSession
        let vector: SpecVector
        let advert: SpecVector
    }

    static func fixture() throws -> Fixture {
        let session = SpecVectorFile.load("session-qr").vectors[0]
        let qr = try #require(SpecVectorFile.load("qr-payload").vectors.first { $0.id == "session_qr_from_generator_key" })
        let advert = try #require(SpecVectorFile.load("eid-advert").vectors.first { $0.id == "session_advert" })
        let key = try QRGeneratorKey(bytes: session.input["qrKey"]!.bytes)
        let desktop = try DesktopSession(
            key: key, requestType: .makeCredential, timestamp: qr.input["timestamp"]!.int64!,
            ephemeral: try P256.PrivateKey(rawScalar: session.input["initiatorEphemeralPrivate"]!.bytes))
        // The phone scans the desktop's QR code.
        let scanned = try QRCodePayload(url: desktop.qrPayload.url)
        let post = session.expected!["messages"]!.array![0]
        let getInfo = try #require(PostHandshakeMessage.decode(post["plaintext"]!.bytes).message.getInfo)
        let phone = PhoneSession(
            payload: scanned, getInfo: getInfo,
            ephemeral: try P256.PrivateKey(rawScalar: session.input["responderEphemeralPrivate"]!.bytes))
        return Fixture(desktop: desktop, phone: phone, vector: session, advert: advert)
    }

    @Test func desktopAndPhoneProduceTheSessionByteForByte() throws {
        var f = try Self.fixture()
        let expected = f.vector.expected!
        let messages = expected["messages"]!.array!

        // Phone: tunnel registered on /cable/new/, advert built from the routing ID.
        #expect(f.phone.newTunnelEndpoint == .new(try TunnelID(bytes: f.desktop.qrPayload.secret.tunnelID.bytes)))
        let advertisingData = try f.phone.tunnelOpened(
            routingID: try RoutingID(bytes: f.advert.input["routingID"]!.bytes), domainID: .google,
            nonce: f.advert.input["nonce"]!.bytes)
        #expect(AdvertisingData.phoneAdvert(f.advert.expected!["advert"]!.bytes).bytes == advertisingData)

        // Desktop: matches the advert, connects, sends Noise message 1.
        let matched = f.desktop.matchAdvert(advertisingData: advertisingData)
        let match = try #require(matched)
        #expect(try match.endpoint.url(domainID: match.domainID) == f.advert.expected!["connectURLs"]!["0"]!.string)
        #expect(f.desktop.matchAdvert(advertisingData: advertisingData) == nil, "later adverts are ignored")
        let m1 = try f.desktop.makeHandshakeMessage()
        #expect(m1 == expected["initiatorMessage"]!.bytes)

        // Phone: answers with message 2, the post-handshake message and the update.
        guard case .send(let phoneFrames) = try f.phone.receive(m1) else { Issue.record("phone did not answer"); return }
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
        #expect(f.phone.isFinished)
    }

    @Test func strangersAdvertsAndTamperedFramesAreHandled() throws {
        var f = try Self.fixture()
        // A stranger's advert (another QR secret) and garbage are ignored.
        let stranger = try QRSecret(bytes: [UInt8](repeating: 9, count: 16))
        let plaintext = try AdvertPlaintext(nonce: [UInt8](repeating: 1, count: 10), routingID: try RoutingID(hex: "010203"), domainID: .google)
        let strangerAdvert = AdvertisingData.phoneAdvert(try AdvertCrypter.encrypt(plaintext, key: stranger.eidKey)).bytes
        #expect(f.desktop.matchAdvert(advertisingData: strangerAdvert) == nil)
        #expect(f.desktop.matchAdvert(advertisingData: [0xFF, 0x00]) == nil)
        #expect(!f.desktop.hasMatchedAdvert)

        let advertisingData = try f.phone.tunnelOpened(routingID: try RoutingID(hex: "2A0000"), domainID: .google, nonce: [UInt8](repeating: 3, count: 10))
        let matched = f.desktop.matchAdvert(advertisingData: advertisingData)
        #expect(matched != nil)
        var m1 = try f.desktop.makeHandshakeMessage()
        m1[70] ^= 1
        var tamperedPhone = f.phone
        #expect(throws: CableProtocolError.self) { try tamperedPhone.receive(m1) }
        m1[70] ^= 1
        guard case .send(let frames) = try f.phone.receive(m1) else { Issue.record("no answer"); return }
        var truncated = f.desktop
        #expect(throws: CableProtocolError.self) { try truncated.receive(Array(frames[0].dropLast())) }
        _ = try f.desktop.receive(frames[0])
        // A replayed handshake response is not a valid post-handshake message.
        var replay = f.desktop
        #expect(throws: CableProtocolError.self) { try replay.receive(frames[0]) }
        // Reordered: the update before the post-handshake message fails to decrypt (wrong counter).
        var reordered = f.desktop
        #expect(throws: CableProtocolError.self) { try reordered.receive(frames[2]) }
        _ = try f.desktop.receive(frames[1])
        _ = try f.desktop.receive(frames[2])
        // An unsolicited reply from the phone is an error.
        var unsolicited = f.desktop
        let c = try f.desktop.sendCTAP([0x02, 0xA0])
        _ = try f.phone.receive(c)
        let reply = try f.phone.respond([0x2E])
        _ = try f.desktop.receive(reply)
        #expect(throws: CableProtocolError(.desktopUnsolicitedReply, "")) { try unsolicited.receive(reply) }
    }
}
