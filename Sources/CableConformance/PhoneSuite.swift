internal import CableCBOR
internal import CableCTAP
internal import CableCrypto
@_spi(Fuzzing) internal import CableProtocol
internal import CableRelyingParty
import Foundation

extension ConformanceSuites {
    /// The `phone.*` suite: the kit plays the desktop and judges a phone-side implementation.
    package static var phone: [ConformanceScenario<PhoneUnderTest>] { PhoneSuite.scenarios }
}

/// The `phone.*` scenarios. Each starts the phone under test on a fresh QR code, plays Chromium's
/// desktop (hybrid-protocol.md; Chromium `device/fido/cable`), and judges one rule.
enum PhoneSuite {
    /// The relying party ID the kit's CTAP requests name.
    static let rpID = "conformance.swift-cable.example"

    static var scenarios: [ConformanceScenario<PhoneUnderTest>] {
        qrScenarios + advertScenarios + handshakeScenarios + postHandshakeScenarios + crypterScenarios + ctapScenarios
            + endingScenarios + refusalScenarios
    }

    private typealias Scenario = ConformanceScenario<PhoneUnderTest>

    private static func scenario(
        _ id: String,
        _ summary: String,
        _ source: String,
        _ judge: @escaping @Sendable (PhoneUnderTest, ScenarioContext) async throws -> String
    ) -> Scenario {
        Scenario(id: id, summary: summary, source: source, judge: judge)
    }

    /// Runs `body` against a fresh run of the phone under test.
    private static func converse<T>(
        _ subject: PhoneUnderTest,
        _ context: ScenarioContext,
        qr: PhoneQRVariant = .standard,
        _ body: (PhoneConversation) async throws -> T
    ) async throws -> T {
        try await PhoneConversation.run(subject, context, qr: qr, body)
    }

    // MARK: - QR codes

    private static let qrSource =
        "Chromium v2_handshake.cc qr::Parse (unknown keys ignored, key 4 optional, key 5 unknown ⇒ getAssertion); CTAP 2.2 §11.5; hybrid-protocol.md §1.2"

    private static var qrScenarios: [Scenario] {
        let variants: [(String, String, PhoneQRVariant)] = [
            (
                "phone.qr.linking-absent", "a QR code without key 4 (linking support) is accepted",
                PhoneQRVariant(linking: nil)
            ),
            (
                "phone.qr.linking-false", "a QR code with key 4 false (current Chrome desktops) is accepted",
                PhoneQRVariant(linking: false)
            ),
            (
                "phone.qr.linking-true", "a QR code with key 4 true (Chrome 2022–2025) is accepted",
                PhoneQRVariant(linking: true)
            ),
            (
                "phone.qr.request-ga", "a QR code with request type \"ga\" is accepted",
                PhoneQRVariant(requestType: "ga")
            ),
            (
                "phone.qr.request-mc", "a QR code with request type \"mc\" is accepted",
                PhoneQRVariant(requestType: "mc")
            ),
            (
                "phone.qr.request-unknown", "a QR code with an unknown request type is accepted (read as getAssertion)",
                PhoneQRVariant(requestType: "zz")
            ),
            (
                "phone.qr.unknown-keys", "a QR code with keys the phone does not know (7, 65, a text key) is accepted",
                PhoneQRVariant(unknownKeys: true)
            ),
        ]
        return variants.map { id, summary, variant in
            scenario(id, summary, qrSource) { subject, context in
                try await converse(subject, context, qr: variant) { c in try await basicSession(c) }
            }
        }
    }

    /// Advert, handshake, post-handshake message, shutdown: what every QR code must lead to.
    private static func basicSession(_ c: PhoneConversation) async throws -> String {
        let (map, revision) = try await postHandshakeMap(c)
        _ = try decodePostHandshake(map)
        if revision == .one { try await c.send(TunnelMessage.shutdown.encoded()) }
        return "scanned: advert, KNpsk0 handshake and a revision-\(revision.rawValue) post-handshake message followed"
    }

    // MARK: - Advert

    private static var advertScenarios: [Scenario] {
        [
            scenario(
                "phone.advert.layout",
                "the advert is BLE service data for UUID 0xFFF9 (or legacy 0xFDE2) of exactly 20 bytes",
                "Chromium fido_cable_discovery.cc (service data length must be 20), BLEAdvert.java; hybrid-protocol.md §3.4"
            ) { subject, context in
                try await converse(subject, context) { c in
                    let advert = try await c.awaitAdvert()
                    guard advert.serviceDataCount == CableConstants.advertSize else {
                        throw ScenarioFailure(
                            "service data for 0x\(hex(advert.serviceUUID)) holds \(advert.serviceDataCount) bytes; Chromium's desktop reads only exactly 20 (16-byte encrypted EID ‖ 4-byte tag)"
                        )
                    }
                    return
                        "service data 0x\(hex(advert.serviceUUID)) with 20 bytes in \(advert.datagram.count) bytes of advertising data"
                }
            },
            scenario(
                "phone.advert.eid-key",
                "the advert is AES-256 encrypted and tagged (HMAC-SHA256, 4 bytes) with the EID key derived from the QR secret",
                "Chromium v2_handshake.cc eid::Encrypt / eid::Decrypt, Derive(kEIDKey); hybrid-protocol.md §2, §3.2"
            ) { subject, context in
                try await converse(subject, context) { c in
                    try await c.awaitAdvert()
                    return
                        "the advert's tag verifies and its block decrypts under the EID key (HKDF purpose 1 of the QR secret)"
                }
            },
            scenario(
                "phone.advert.reserved-byte",
                "byte 0 of the advert plaintext (reserved) is zero",
                "Chromium v2_handshake.cc eid::Decrypt (reserved bits must be zero); hybrid-protocol.md §3.1, §3.3"
            ) { subject, context in
                try await converse(subject, context) { c in
                    let advert = try await c.awaitAdvert()
                    guard advert.plaintext[0] == 0 else {
                        throw ScenarioFailure(
                            "the plaintext's reserved byte is 0x\(hex(advert.plaintext[0])); Chromium's desktop drops adverts with reserved bits set"
                        )
                    }
                    return "reserved byte is zero"
                }
            },
            scenario(
                "phone.advert.domain",
                "the advert names a tunnel-service domain a desktop can decode (assigned 0–1, or hashed ≥ 256)",
                "Chromium v2_handshake.cc eid::Decrypt, tunnelserver::DecodeDomain; hybrid-protocol.md §3.3, §4"
            ) { subject, context in
                try await converse(subject, context) { c in
                    let advert = try await c.awaitAdvert()
                    let domain = advert.domainID
                    guard domain.isAcceptedInAdvert, let name = domain.domain else {
                        throw ScenarioFailure(
                            "the advert names domain ID \(domain.rawValue), an unassigned ID (2–255) that Chromium's desktop rejects"
                        )
                    }
                    return "domain ID \(domain.rawValue) (\(name))"
                }
            },
            scenario(
                "phone.advert.routing-id",
                "the advert carries the routing ID the tunnel service assigned (X-caBLE-Routing-ID of /cable/new)",
                "Chromium v2_authenticator.cc OnTunnelReady (routing ID into the EID); websocket_adapter.cc; hybrid-protocol.md §3.1, §5.2"
            ) { subject, context in
                try await converse(subject, context) { c in
                    let advert = try await c.awaitAdvert()
                    let assigned = try await c.probeRoutingID()
                    guard advert.routingID == assigned else {
                        throw ScenarioFailure(
                            "the advert names routing ID \(advert.routingID.hex) but the tunnel service assigns \(assigned.hex)"
                        )
                    }
                    return "routing ID \(assigned.hex)"
                }
            },
            scenario(
                "phone.tunnel-id",
                "the phone registers /cable/new/<tunnel ID derived from the QR secret>, where the desktop joins it",
                "Chromium v2_handshake.cc Derive(kTunnelID), tunnelserver::GetNewTunnelURL / GetConnectURL; hybrid-protocol.md §2, §5.1"
            ) { subject, context in
                try await converse(subject, context) { c in
                    try await c.connect()
                    try await c.establishTunnel()
                    return
                        "joined /cable/connect/<routing ID>/\(c.key.secret.tunnelID.hex) and the phone answered the handshake there"
                }
            },
        ]
    }

    // MARK: - Handshake

    private static var handshakeScenarios: [Scenario] {
        [
            scenario(
                "phone.handshake.response-size",
                "the handshake response is exactly 81 bytes (65-byte uncompressed point ‖ 16-byte tag)",
                "Chromium v2_handshake.cc HandshakeInitiator::ProcessResponse (kResponseSize); hybrid-protocol.md §6.4"
            ) { subject, context in
                try await converse(subject, context) { c in
                    do { try await c.establishTunnel() } catch {
                        guard c.response?.count == HandshakeMessageSize.message else { throw error }
                    }
                    return "the response is 81 bytes"
                }
            },
            scenario(
                "phone.handshake.knpsk0",
                "the handshake response completes Noise KNpsk0 (PSK from the QR secret and advert, the QR key as static key)",
                "Chromium v2_handshake.cc RespondToHandshake / HandshakeInitiator::ProcessResponse; hybrid-protocol.md §6.3"
            ) { subject, context in
                try await converse(subject, context) { c in
                    try await c.establishTunnel()
                    return "the response's point is on P-256 and its tag authenticates; traffic keys split"
                }
            },
        ]
    }

    // MARK: - Post-handshake message

    /// The post-handshake map and the revision its encoding shows (Chromium's detection rule).
    private static func postHandshakeMap(_ c: PhoneConversation) async throws -> (CBORMap, ProtocolRevision) {
        let frame = try await c.establish()
        guard let message = frame.message else {
            throw ScenarioFailure(frame.openingProblem ?? "the post-handshake frame's padding count exceeds its length")
        }
        do {
            let value = try CBORValue(decoding: message)
            guard let map = value.mapValue else {
                throw ScenarioFailure("the post-handshake message is CBOR but not a map")
            }
            return (map, .one)
        } catch let failure as ScenarioFailure {
            throw failure
        } catch {
            if let map = try? PaddedCBORMap.decode(message) { return (map, .zero) }
            throw ScenarioFailure(
                "the post-handshake plaintext (\(message.count) bytes) is neither one canonical CBOR map (revision 1) nor a padded map (revision 0): \(error)"
            )
        }
    }

    /// Chromium's desktop checks of the post-handshake map (CTAP required, linking ignored).
    private static func decodePostHandshake(_ map: CBORMap) throws -> PostHandshakeMessage {
        do {
            return try PostHandshakeMessage.decode(
                CBORValue.map(map).encoded,
                options: .init(requiresCTAP: true, linking: .ignore)
            ).message
        } catch {
            throw ScenarioFailure("Chromium's desktop refuses the post-handshake message: \(error)")
        }
    }

    private static var postHandshakeScenarios: [Scenario] {
        let source =
            "Chromium v2_authenticator.cc TunnelTransport::OnTunnelData; fido_tunnel_device.cc OnTunnelData (kWaitingForPostHandshakeMessage); hybrid-protocol.md §7.3"
        return [
            scenario(
                "phone.post-handshake.canonical",
                "the post-handshake message is one canonical CBOR map (or, revision 0, a padded canonical map)",
                source + ", §7.4"
            ) { subject, context in
                try await converse(subject, context) { c in
                    let (map, revision) = try await postHandshakeMap(c)
                    return
                        "a canonical CBOR map with keys \(map.map { "\($0.key)" }.joined(separator: ", ")) (revision \(revision.rawValue))"
                }
            },
            scenario(
                "phone.post-handshake.revision",
                "the phone speaks protocol revision 1: a plain CBOR post-handshake message, typed frames, shutdown",
                "Chromium v2_authenticator.cc (revision 1 since 2022), fido_tunnel_device.cc revision detection; hybrid-protocol.md §7.4, §10.1"
            ) { subject, context in
                try await converse(subject, context) { c in
                    let (_, revision) = try await postHandshakeMap(c)
                    guard revision == .one else {
                        throw ScenarioFailure(
                            "the post-handshake message is a revision-0 padded map: no typed frames, no shutdown, no update message"
                        )
                    }
                    return "revision 1"
                }
            },
            scenario(
                "phone.post-handshake.features",
                "key 3 (features) is absent or an array that lists \"ctap\"",
                source
            ) { subject, context in
                try await converse(subject, context) { c in
                    let (map, _) = try await postHandshakeMap(c)
                    guard let value = map[3] else { return "key 3 absent: CTAP assumed" }
                    guard let array = value.arrayValue else {
                        throw ScenarioFailure("key 3 (features) is not an array")
                    }
                    let names = array.compactMap(\.textValue)
                    guard names.contains("ctap") else {
                        throw ScenarioFailure(
                            "key 3 (features) is [\(names.joined(separator: ", "))], without \"ctap\": Chromium's desktop cannot send a CTAP request"
                        )
                    }
                    _ = try decodePostHandshake(map)
                    return "features [\(names.joined(separator: ", "))]"
                }
            },
            scenario(
                "phone.post-handshake.get-info",
                "key 1 is the phone's authenticatorGetInfo: canonical CBOR with versions (FIDO_2_x) and a 16-byte aaguid",
                source + "; CTAP 2.2 §6.4 authenticatorGetInfo"
            ) { subject, context in
                try await converse(subject, context) { c in
                    let (map, _) = try await postHandshakeMap(c)
                    guard let bytes = map[1]?.bytesValue else {
                        throw ScenarioFailure("key 1 (getInfo) is missing or not a byte string")
                    }
                    let info: GetInfoResponse
                    do { info = try GetInfoResponse(encoded: bytes) } catch {
                        throw ScenarioFailure("key 1 is not a valid authenticatorGetInfo response: \(error)")
                    }
                    guard info.versions.contains(where: { $0.hasPrefix("FIDO_2_") }) else {
                        throw ScenarioFailure(
                            "getInfo versions [\(info.versions.joined(separator: ", "))] name no FIDO_2_x version"
                        )
                    }
                    return "versions [\(info.versions.joined(separator: ", "))], aaguid \(info.aaguid)"
                }
            },
        ]
    }

    // MARK: - Crypter and the update message

    /// A session that makes the phone send several frames: the post-handshake message, its update,
    /// and the reply to a getInfo request (which Chromium's phone answers).
    private static func framesSession(_ c: PhoneConversation) async throws -> [PhoneFrame] {
        try await c.establish()
        _ = try await c.request([CTAPCommand.getInfo.rawValue], named: "authenticatorGetInfo")
        try await c.send(TunnelMessage.shutdown.encoded())
        return c.frames
    }

    private static var crypterScenarios: [Scenario] {
        [
            scenario(
                "phone.crypter.padding",
                "every frame is padded to the next multiple of 32 bytes: zeros, then the count of zeros",
                "Chromium v2_handshake.cc Crypter::Encrypt (kPaddingGranularity); hybrid-protocol.md §7.2"
            ) { subject, context in
                try await converse(subject, context) { c in
                    let frames = try await framesSession(c)
                    for (index, frame) in frames.enumerated() {
                        guard let padded = frame.padded else {
                            throw ScenarioFailure(frame.openingProblem ?? "frame \(index) did not open")
                        }
                        guard let count = padded.last, Int(count) + 1 <= padded.count else {
                            throw ScenarioFailure(
                                "frame \(index): the padding count exceeds the \(padded.count)-byte plaintext"
                            )
                        }
                        let messageCount = padded.count - Int(count) - 1
                        guard padded.count == MessagePadding.paddedCount(for: messageCount) else {
                            throw ScenarioFailure(
                                "frame \(index): a \(messageCount)-byte message padded to \(padded.count) bytes (count \(count)); Chromium pads to the next multiple of 32 (\(MessagePadding.paddedCount(for: messageCount)))"
                            )
                        }
                        guard padded[messageCount..<(padded.count - 1)].allSatisfy({ $0 == 0 }) else {
                            throw ScenarioFailure("frame \(index): the padding bytes are not zero")
                        }
                    }
                    return "\(frames.count) frames padded to multiples of 32 with zeros"
                }
            },
            scenario(
                "phone.crypter.counters",
                "the phone's frames use AES-256-GCM with nonce 0⁸ ‖ big-endian sequence number 0, 1, 2, … in order",
                "Chromium v2_handshake.cc Crypter::Encrypt / ConstructNonce (current construction); hybrid-protocol.md §7.1"
            ) { subject, context in
                try await converse(subject, context) { c in
                    let frames = try await framesSession(c)
                    for (index, frame) in frames.enumerated() {
                        guard let sequence = frame.openedSequence else {
                            throw ScenarioFailure(frame.openingProblem ?? "frame \(index) did not open")
                        }
                        guard sequence == UInt32(index) else {
                            throw ScenarioFailure(
                                "frame \(index) was sealed under sequence number \(sequence), expected \(index)"
                            )
                        }
                    }
                    return "\(frames.count) frames under sequence numbers 0…\(frames.count - 1)"
                }
            },
            scenario(
                "phone.crypter.nonce-reuse",
                "no two frames of the phone are sealed under the same sequence number (AES-GCM nonce)",
                "Chromium v2_handshake.cc Crypter (write sequence number incremented per message); NIST SP 800-38D §8"
            ) { subject, context in
                try await converse(subject, context) { c in
                    let frames = try await framesSession(c)
                    var seen: [UInt32: Int] = [:]
                    for (index, frame) in frames.enumerated() {
                        guard let sequence = frame.openedSequence else { continue }
                        if let earlier = seen[sequence] {
                            throw ScenarioFailure(
                                "frames \(earlier) and \(index) are both sealed under sequence number \(sequence): a reused AES-GCM nonce leaks the keystream and the authentication key"
                            )
                        }
                        seen[sequence] = index
                    }
                    return "\(seen.count) frames under \(seen.count) distinct sequence numbers"
                }
            },
            scenario(
                "phone.update",
                "an update message (type 2) is a CBOR map padded so the frame is 512 bytes; key 1, if present, a map",
                "Chromium v2_authenticator.cc TunnelTransport (update after the post-handshake message, kPaddingTarget); fido_tunnel_device.cc ProcessUpdate; hybrid-protocol.md §7.5"
            ) { subject, context in
                try await converse(subject, context) { c in
                    let frames = try await framesSession(c)
                    let updates = frames.filter { $0.message?.first == 2 }
                    guard !updates.isEmpty else {
                        throw ScenarioSkipped(
                            "the phone sent no update message (Chromium's phone sends one after the post-handshake message)"
                        )
                    }
                    for update in updates {
                        guard let message = update.message, let padded = update.padded else { continue }
                        do { _ = try UpdateMessage(decoding: Array(message.dropFirst()), linking: .parse) } catch {
                            throw ScenarioFailure("Chromium's desktop refuses the update message: \(error)")
                        }
                        guard padded.count == UpdateMessage.paddingTarget else {
                            throw ScenarioFailure(
                                "the update frame is \(padded.count) bytes padded; Chromium pads it to \(UpdateMessage.paddingTarget) so its size does not show whether the phone linked"
                            )
                        }
                    }
                    return "\(updates.count) update message(s), \(UpdateMessage.paddingTarget) bytes padded"
                }
            },
        ]
    }

    // MARK: - CTAP

    private static func makeCredentialRequest() -> (frame: [UInt8], clientDataHash: [UInt8]) {
        let clientDataHash = SecureRandom.bytes(count: 32)
        let request = MakeCredentialRequest(
            clientDataHash: clientDataHash,
            rp: PublicKeyCredentialRPEntity(id: rpID, name: "swift-cable conformance"),
            user: PublicKeyCredentialUserEntity(
                id: SecureRandom.bytes(count: 16),
                name: "conformance",
                displayName: "Conformance"
            ),
            options: AuthenticatorOptions(residentKey: true)
        )
        return ([CTAPCommand.makeCredential.rawValue] + request.encoded, clientDataHash)
    }

    /// What the kit checks in makeCredential replies, and what it needs for getAssertion.
    private struct Registration {
        let response: MakeCredentialResponse
        let clientDataHash: [UInt8]
        var credentialID: [UInt8] { self.response.authenticatorData.attestedCredentialData?.credentialID ?? [] }
    }

    /// Sends makeCredential and checks the reply's status, rpIdHash, flags and attested credential.
    private static func register(_ c: PhoneConversation) async throws -> Registration {
        try await c.establish()
        let (frame, clientDataHash) = makeCredentialRequest()
        let reply = try await c.request(frame, named: "authenticatorMakeCredential")
        guard reply.first == 0 else {
            throw ScenarioFailure("makeCredential answered with status \(CTAPStatus(rawValue: reply.first ?? 0xFF))")
        }
        let response: MakeCredentialResponse
        do { response = try MakeCredentialResponse(encoded: reply.dropFirst()) } catch {
            throw ScenarioFailure("the makeCredential reply is not a valid CTAP2 response: \(error)")
        }
        try checkAuthenticatorData(response.authenticatorData, what: "makeCredential")
        guard response.authenticatorData.flags.contains(.attestedCredentialData),
            response.authenticatorData.attestedCredentialData != nil
        else {
            throw ScenarioFailure("the makeCredential authenticator data has no attested credential data (AT flag)")
        }
        return Registration(response: response, clientDataHash: clientDataHash)
    }

    private static func checkAuthenticatorData(_ data: AuthenticatorData, what: String) throws {
        guard data.rpIDHash == SHA256.hash(Array(rpID.utf8)) else {
            throw ScenarioFailure("the \(what) authenticator data's rpIdHash is not SHA-256(\"\(rpID)\")")
        }
        guard data.flags.contains(.userPresent) else {
            throw ScenarioFailure("the \(what) authenticator data lacks the UP flag")
        }
    }

    private static var relyingParty: RelyingParty {
        RelyingParty(id: rpID, policy: RelyingParty.Policy(requireUserVerification: false))
    }

    /// Registers in one run of the phone, then asks for an assertion in a second run (phones often
    /// serve one request per tunnel), checking the reply's status, rpIdHash, flags and credential.
    private static func assertion(
        _ subject: PhoneUnderTest,
        _ context: ScenarioContext
    ) async throws
        -> (GetAssertionResponse, [UInt8], CredentialRecord, [PublicKeyCredentialDescriptor])
    {
        let registration = try await converse(subject, context, qr: PhoneQRVariant(requestType: "mc")) { c in
            let registration = try await register(c)
            try await c.send(TunnelMessage.shutdown.encoded())
            return registration
        }
        let verified: VerifiedRegistration
        do {
            verified = try relyingParty.verifyRegistration(
                registration.response,
                clientDataHash: registration.clientDataHash
            )
        } catch {
            throw ScenarioFailure("the credential to sign with did not verify at registration: \(error)")
        }
        let record = verified.record(friendlyName: "conformance", userName: "conformance", userHandle: [])
        let allowList = [PublicKeyCredentialDescriptor(id: registration.credentialID)]
        return try await converse(subject, context, qr: PhoneQRVariant(requestType: "ga")) { c in
            try await c.establish()
            let clientDataHash = SecureRandom.bytes(count: 32)
            let request = GetAssertionRequest(rpID: rpID, clientDataHash: clientDataHash, allowList: allowList)
            let reply = try await c.request(
                [CTAPCommand.getAssertion.rawValue] + request.encoded,
                named: "authenticatorGetAssertion"
            )
            guard reply.first == 0 else {
                throw ScenarioFailure("getAssertion answered with status \(CTAPStatus(rawValue: reply.first ?? 0xFF))")
            }
            let response: GetAssertionResponse
            do { response = try GetAssertionResponse(encoded: reply.dropFirst()) } catch {
                throw ScenarioFailure("the getAssertion reply is not a valid CTAP2 response: \(error)")
            }
            try checkAuthenticatorData(response.authenticatorData, what: "getAssertion")
            if let credential = response.credential, credential.id != registration.credentialID {
                throw ScenarioFailure("the assertion names a credential that was not in the allow list")
            }
            try await c.send(TunnelMessage.shutdown.encoded())
            return (response, clientDataHash, record, allowList)
        }
    }

    private static var ctapScenarios: [Scenario] {
        let source =
            "CTAP 2.2 §6.1 authenticatorMakeCredential, §6.2 authenticatorGetAssertion, §11.5; Chromium v2_authenticator.cc; hybrid-protocol.md §8.2"
        return [
            scenario(
                "phone.make-credential",
                "makeCredential is answered with CTAP2_OK, rpIdHash = SHA-256(rp.id), UP and AT flags and a credential",
                source
            ) { subject, context in
                try await converse(subject, context, qr: PhoneQRVariant(requestType: "mc")) { c in
                    let registration = try await register(c)
                    try await c.send(TunnelMessage.shutdown.encoded())
                    return
                        "credential of \(registration.credentialID.count) bytes, flags \(registration.response.authenticatorData.flags)"
                }
            },
            scenario(
                "phone.make-credential.attestation",
                "the makeCredential attestation statement verifies (WebAuthn §8 format, signature over authData ‖ clientDataHash)",
                source + "; WebAuthn L3 §7.1 steps 19–21"
            ) { subject, context in
                try await converse(subject, context, qr: PhoneQRVariant(requestType: "mc")) { c in
                    let registration = try await register(c)
                    try await c.send(TunnelMessage.shutdown.encoded())
                    do {
                        let verified = try relyingParty.verifyRegistration(
                            registration.response,
                            clientDataHash: registration.clientDataHash
                        )
                        return "attestation format \(verified.attestationFormat) verified"
                    } catch {
                        throw ScenarioFailure("the attestation does not verify: \(error)")
                    }
                }
            },
            scenario(
                "phone.get-assertion",
                "getAssertion for a credential the phone made is answered with CTAP2_OK, the rpIdHash, UP, that credential",
                source
            ) { subject, context in
                let (response, _, _, _) = try await assertion(subject, context)
                return
                    "assertion with flags \(response.authenticatorData.flags), sign count \(response.authenticatorData.signCount)"
            },
            scenario(
                "phone.get-assertion.signature",
                "the assertion signature verifies with the credential's public key over authData ‖ clientDataHash",
                source + "; WebAuthn L3 §7.2 step 21"
            ) { subject, context in
                let (response, clientDataHash, record, allowList) = try await assertion(subject, context)
                do {
                    let assertion = try AssertionResponse(response, allowList: allowList)
                    _ = try relyingParty.verifyAssertion(
                        assertion,
                        clientDataHash: clientDataHash,
                        credentials: [record]
                    )
                } catch {
                    throw ScenarioFailure("the assertion does not verify: \(error)")
                }
                return "ES256 signature verified"
            },
            scenario(
                "phone.ctap.unknown-command",
                "a CTAP command the phone does not know is answered with an error status (or the tunnel closed), never CTAP2_OK",
                "CTAP 2.2 §8 (CTAP1_ERR_INVALID_COMMAND); Chromium v2_authenticator.cc"
            ) { subject, context in
                try await converse(subject, context) { c in
                    try await c.establish()
                    let reply: [UInt8]
                    do { reply = try await c.request([0x3F], named: "command 0x3F", within: .seconds(10)) } catch let
                        failure as ScenarioFailure
                        where failure.detail.contains("closed the tunnel")
                    {
                        return "closed the tunnel"
                    }
                    guard let status = reply.first, status != 0 else {
                        throw ScenarioFailure("command 0x3F was answered with CTAP2_OK")
                    }
                    return "answered with \(CTAPStatus(rawValue: status))"
                }
            },
        ]
    }

    // MARK: - Ending

    private static var endingScenarios: [Scenario] {
        [
            scenario(
                "phone.shutdown",
                "after the desktop's shutdown frame (type 0) the phone closes the tunnel",
                "Chromium v2_authenticator.cc TunnelTransport::OnTunnelData (kShutdown); fido_tunnel_device.cc Close; hybrid-protocol.md §8.3"
            ) { subject, context in
                try await converse(subject, context) { c in
                    try await c.establish()
                    _ = try await c.request([CTAPCommand.getInfo.rawValue], named: "authenticatorGetInfo")
                    try await c.send(TunnelMessage.shutdown.encoded())
                    return try await c.expectClose(after: "the shutdown frame")
                }
            },
            scenario(
                "phone.update.from-desktop",
                "an update message from the desktop (canonical CBOR) is ignored and the phone keeps serving",
                "Chromium v2_authenticator.cc TunnelTransport::OnTunnelData (kUpdate from the desktop is parsed and ignored); hybrid-protocol.md §8.1"
            ) { subject, context in
                try await converse(subject, context) { c in
                    try await c.establish()
                    try await c.send(TunnelMessage.update(CBORValue.map(CBORMap()).encoded).encoded())
                    let reply = try await c.request(
                        [CTAPCommand.getInfo.rawValue],
                        named: "authenticatorGetInfo after a desktop update"
                    )
                    try await c.send(TunnelMessage.shutdown.encoded())
                    return "kept serving: getInfo answered with \(CTAPStatus(rawValue: reply.first ?? 0xFF))"
                }
            },
        ]
    }

    // MARK: - Refusals

    private static var refusalScenarios: [Scenario] {
        let abort = "hybrid-protocol.md §10.2 (abort conditions)"
        return [
            scenario(
                "phone.refuses.bad-handshake",
                "a handshake message under the wrong PSK is not answered; the phone closes the tunnel",
                "Chromium v2_handshake.cc RespondToHandshake (DecryptAndHash fails); " + abort
            ) { subject, context in
                try await converse(subject, context) { c in
                    try await c.connect()
                    let handshake = try KitHandshake(
                        psk: SecureRandom.bytes(count: PreSharedKey.byteCount),
                        identity: c.key.privateKey
                    )
                    try await c.sendRaw(handshake.message)
                    return try await c.expectClose(after: "a handshake under the wrong PSK")
                }
            },
            scenario(
                "phone.refuses.short-handshake",
                "a handshake message shorter than 65 bytes is not answered; the phone closes the tunnel",
                "Chromium v2_handshake.cc RespondToHandshake (size check); " + abort
            ) { subject, context in
                try await converse(subject, context) { c in
                    try await c.connect()
                    let handshake = try KitHandshake(psk: try await c.psk(), identity: c.key.privateKey)
                    try await c.sendRaw(Array(handshake.message.prefix(64)))
                    return try await c.expectClose(after: "a 64-byte handshake message")
                }
            },
            scenario(
                "phone.refuses.bad-tag",
                "a frame that does not authenticate (one bit flipped) is not answered; the phone closes the tunnel",
                "Chromium v2_handshake.cc Crypter::Decrypt; v2_authenticator.cc; " + abort
            ) { subject, context in
                try await converse(subject, context) { c in
                    try await c.establish()
                    guard let crypter = c.crypter else { throw ScenarioFailure("no crypter after the handshake") }
                    var frame = try crypter.seal(TunnelMessage.ctap([CTAPCommand.getInfo.rawValue]).encoded())
                    frame[frame.count - 1] ^= 0x01
                    try await c.sendRaw(frame)
                    return try await c.expectClose(after: "a frame whose tag does not authenticate")
                }
            },
            scenario(
                "phone.refuses.replay",
                "a replayed frame (an earlier ciphertext sent again) is not answered; the phone closes the tunnel",
                "Chromium v2_handshake.cc Crypter::Decrypt (read sequence number); " + abort
            ) { subject, context in
                try await converse(subject, context) { c in
                    try await c.establish()
                    _ = try await c.request(
                        [CTAPCommand.getInfo.rawValue],
                        named: "authenticatorGetInfo",
                        within: .seconds(10)
                    )
                    guard let frame = c.lastSent else { throw ScenarioFailure("no frame to replay") }
                    try await c.sendRaw(frame)
                    return try await c.expectClose(after: "a replayed frame")
                }
            },
            scenario(
                "phone.refuses.bad-padding",
                "a frame whose padding count exceeds its length is not answered; the phone closes the tunnel",
                "Chromium v2_handshake.cc Crypter::Decrypt (padding check); " + abort
            ) { subject, context in
                try await converse(subject, context) { c in
                    try await c.establish()
                    guard let crypter = c.crypter else { throw ScenarioFailure("no crypter after the handshake") }
                    let padded = [1, CTAPCommand.getInfo.rawValue] + [UInt8](repeating: 0, count: 29) + [0xFF]
                    try await c.sendRaw(try crypter.seal(padded: padded))
                    return try await c.expectClose(after: "a frame with padding count 255 in 32 bytes")
                }
            },
            scenario(
                "phone.refuses.empty-frame",
                "a frame with an empty plaintext is not answered; the phone closes the tunnel",
                "Chromium v2_handshake.cc Crypter::Decrypt (empty plaintext); " + abort
            ) { subject, context in
                try await converse(subject, context) { c in
                    try await c.establish()
                    guard let crypter = c.crypter else { throw ScenarioFailure("no crypter after the handshake") }
                    try await c.sendRaw(try crypter.seal(padded: []))
                    return try await c.expectClose(after: "a frame with an empty plaintext")
                }
            },
            scenario(
                "phone.refuses.unknown-type",
                "a frame with a message type above 3 is not answered; the phone closes the tunnel",
                "Chromium v2_authenticator.cc TunnelTransport::OnTunnelData (MessageType::kMaxValue); " + abort
            ) { subject, context in
                try await converse(subject, context) { c in
                    try await c.establish()
                    try await c.send([9, CTAPCommand.getInfo.rawValue])
                    return try await c.expectClose(after: "a frame of message type 9")
                }
            },
        ]
    }
}

private func hex(_ value: UInt16) -> String { String(format: "%04X", value) }
private func hex(_ value: UInt8) -> String { String(format: "%02X", value) }
