internal import CableCBOR
internal import CableCrypto
@_spi(Fuzzing) internal import CableProtocol

// The `desktop.*` suite: the kit plays the phone and judges a desktop implementation. Every judge
// starts the desktop under test once, reads its QR code (the first stdout line starting with `FIDO:/`)
// and, past the QR scenarios, meets it through the tunnel service as a phone would; see
// `DesktopKitPhone.swift`. A refusal is judged by what the desktop does next: Chromium closes the
// tunnel without sending anything more.

extension ConformanceSuites {
    /// The scenarios that judge a desktop (client platform) implementation, in run order.
    package static var desktop: [ConformanceScenario<DesktopUnderTest>] {
        DesktopScenarios.qr + DesktopScenarios.connection + DesktopScenarios.postHandshake + DesktopScenarios.refusals
    }
}

enum DesktopScenarios {
    private static func scenario(
        _ id: String,
        _ summary: String,
        source: String,
        _ judge: @escaping @Sendable (KitPhone) async throws -> String
    ) -> ConformanceScenario<DesktopUnderTest> {
        ConformanceScenario(id: id, summary: summary, source: source) { subject, context in
            try await KitPhone.run(subject, context, judge)
        }
    }

    // MARK: - QR code

    /// The QR payload's CBOR map after the digits and CBOR checks (for the per-key scenarios).
    private static func qrMap(_ phone: KitPhone) async throws -> CBORMap {
        let url = try await phone.qrURL()
        let bytes: [UInt8]
        do throws(CableProtocolError) {
            bytes = try DigitEncoding.decode(url.dropFirst(QRCodePayload.urlPrefix.count))
        } catch {
            throw ScenarioFailure("its QR digits do not decode (\(error.description)); see desktop.qr.digits")
        }
        guard let map = (try? CBORValue(decoding: bytes))?.mapValue else {
            throw ScenarioFailure("its QR payload is not a CBOR map; see desktop.qr.canonical-cbor")
        }
        return map
    }

    static let qr: [ConformanceScenario<DesktopUnderTest>] = [
        scenario(
            "desktop.qr.prefix",
            "The QR code is printed as a URL that starts with the upper-case prefix FIDO:/",
            source: "Chromium qr::Encode (v2_handshake.cc); CTAP 2.2 §11.5"
        ) { phone in
            switch await phone.readQRLine() {
            case .found(let line) where line.hasPrefix(QRCodePayload.urlPrefix):
                return "printed FIDO:/ followed by \(line.count - 6) characters"
            case .found(let line):
                throw ScenarioFailure(
                    "the QR URL starts with \"\(line.prefix(6))\"; Chromium writes FIDO:/ in upper case (phones compare case-insensitively, "
                        + "but the upper-case form keeps the QR code alphanumeric)"
                )
            case .ended:
                throw ScenarioFailure("the desktop ended its output without printing a FIDO:/ URL")
            case .timedOut(let wait):
                throw ScenarioFailure("the desktop printed no FIDO:/ URL within \(ScenarioTime.text(wait))")
            }
        },
        scenario(
            "desktop.qr.digits",
            "After FIDO:/ the QR URL holds only decimal digits in 17-digit groups of 7 bytes with a valid last group",
            source: "Chromium BytesToDigits / DigitsToBytes, qr::Parse (v2_handshake.cc)"
        ) { phone in
            let digits = String(try await phone.qrURL().dropFirst(QRCodePayload.urlPrefix.count))
            if let bad = digits.unicodeScalars.first(where: { !("0"..."9").contains($0) }) {
                throw ScenarioFailure(
                    "the QR URL holds a character other than 0-9 after FIDO:/ (U+\(String(bad.value, radix: 16, uppercase: true)))"
                )
            }
            do throws(CableProtocolError) {
                let bytes = try DigitEncoding.decode(digits)
                return "\(digits.count) digits decode to \(bytes.count) bytes"
            } catch {
                throw ScenarioFailure("the \(digits.count) digits do not decode: \(error.description)")
            }
        },
        scenario(
            "desktop.qr.canonical-cbor",
            "The QR payload is one CTAP2-canonical CBOR map (minimal lengths, sorted keys, nothing after it)",
            source: "Chromium qr::Parse with cbor::Reader (components/cbor/reader.h); CTAP 2.2 §8 canonical CBOR"
        ) { phone in
            let url = try await phone.qrURL()
            let bytes: [UInt8]
            do throws(CableProtocolError) {
                bytes = try DigitEncoding.decode(url.dropFirst(QRCodePayload.urlPrefix.count))
            } catch {
                throw ScenarioFailure("the QR digits do not decode (\(error.description)); see desktop.qr.digits")
            }
            let value: CBORValue
            do throws(CBORError) { value = try CBORValue(decoding: bytes) } catch {
                throw ScenarioFailure(
                    "the \(bytes.count)-byte QR payload is not canonical CBOR: \(error.code) at offset \(error.offset)"
                )
            }
            guard let map = value.mapValue else { throw ScenarioFailure("the QR payload is CBOR but not a map") }
            guard value.encoded == bytes else {
                throw ScenarioFailure("the QR payload decodes, but its canonical encoding differs from the bytes shown")
            }
            return
                "a canonical \(bytes.count)-byte map with keys \(map.entries.map { "\($0.key)" }.joined(separator: ","))"
        },
        scenario(
            "desktop.qr.public-key",
            "QR key 0 is the desktop's P-256 key: a 33-byte compressed point on the curve",
            source: "Chromium qr::Encode / qr::Parse, DecompressPublicKey (v2_handshake.cc)"
        ) { phone in
            guard let key = try await qrMap(phone)[0] else {
                throw ScenarioFailure("QR key 0 (the public key) is missing")
            }
            guard let bytes = key.bytesValue else { throw ScenarioFailure("QR key 0 is not a byte string") }
            guard bytes.count == CableConstants.compressedPublicKeySize else {
                throw ScenarioFailure("QR key 0 has \(bytes.count) bytes; it must be the 33-byte compressed point")
            }
            guard bytes[0] == 0x02 || bytes[0] == 0x03, (try? P256.PublicKey(x962Representation: bytes)) != nil else {
                throw ScenarioFailure("QR key 0 is 33 bytes but not a compressed point on P-256")
            }
            return "33-byte compressed point on P-256"
        },
        scenario(
            "desktop.qr.secret",
            "QR key 1 is the 16-byte QR secret",
            source: "Chromium qr::Encode / qr::Parse (v2_handshake.cc, kQRSecretSize)"
        ) { phone in
            guard let secret = try await qrMap(phone)[1] else {
                throw ScenarioFailure("QR key 1 (the secret) is missing")
            }
            guard let bytes = secret.bytesValue else { throw ScenarioFailure("QR key 1 is not a byte string") }
            guard bytes.count == QRSecret.byteCount else {
                throw ScenarioFailure("QR key 1 has \(bytes.count) bytes; the QR secret is 16")
            }
            return "16-byte byte string"
        },
        scenario(
            "desktop.qr.known-domains",
            "QR key 2 counts the assigned tunnel-server domains the desktop knows (an unsigned integer; 2 for Google and Apple)",
            source:
                "Chromium qr::Encode, qr::Components::num_known_domains, tunnelserver::DecodeDomain (v2_handshake.cc)"
        ) { phone in
            guard let value = try await qrMap(phone)[2] else {
                throw ScenarioFailure(
                    "QR key 2 is missing: a phone must then assume the desktop knows no assigned tunnel-server domain (Chromium always writes it)"
                )
            }
            guard let count = value.integerValue, count >= 0 else {
                throw ScenarioFailure("QR key 2 is \(value), not an unsigned integer")
            }
            guard count <= 256 else {
                throw ScenarioFailure("QR key 2 is \(count); there are at most 256 assigned domain IDs")
            }
            return "key 2 = \(count)"
                + (count == Int64(CableConstants.knownAssignedDomainCount) ? " (Google and Apple)" : "")
        },
        scenario(
            "desktop.qr.hints",
            "QR keys 3, 4 and 5, when present, are an unsigned timestamp, a boolean (linking) and a text request type",
            source: "Chromium qr::Encode / qr::Parse (v2_handshake.cc, RequestTypeToString)"
        ) { phone in
            let map = try await qrMap(phone)
            var seen: [String] = []
            if let time = map[3] {
                guard let seconds = time.integerValue, seconds >= 0 else {
                    throw ScenarioFailure("QR key 3 is \(time), not an unsigned integer")
                }
                seen.append("3: \(seconds)")
            }
            if let linking = map[4] {
                guard let flag = linking.boolValue else {
                    throw ScenarioFailure("QR key 4 is \(linking), not a boolean")
                }
                seen.append("4: \(flag)")
            }
            if let hint = map[5] {
                guard let text = hint.textValue else { throw ScenarioFailure("QR key 5 is \(hint), not a text string") }
                let known = ["ga", "mc", "dcp"].contains(text)
                seen.append("5: \"\(text)\"" + (known ? "" : " (unknown: phones read it as \"ga\")"))
            }
            return seen.isEmpty ? "keys 3, 4 and 5 absent" : seen.joined(separator: ", ")
        },
    ]

    // MARK: - Tunnel and handshake

    static let connection: [ConformanceScenario<DesktopUnderTest>] = [
        scenario(
            "desktop.tunnel.connect",
            "On the phone's advert the desktop joins /cable/connect/<routing ID from the advert>/<tunnel ID derived from the QR secret>",
            source: "Chromium tunnelserver::GetConnectURL, FidoTunnelDevice (fido_tunnel_device.cc); CTAP 2.2 §11.5"
        ) { phone in
            _ = try await phone.awaitHandshakeMessage()
            let payload = try await phone.qrPayload()
            return "joined /cable/connect/\(phone.routingID?.hex ?? "?")/\(payload.secret.tunnelID.hex) and spoke first"
        },
        scenario(
            "desktop.tunnel.legacy-advert-uuid",
            "An advert carried as service data for the legacy UUID 0xFDE2 (older Android and iOS phones) is read as well as 0xFFF9",
            source: "Chromium Discovery::IsCableDevice (v2_discovery.cc), FidoCableDiscovery (fido_cable_discovery.cc)"
        ) { phone in
            if let radio = phone.subject.radio {
                // BlueZ's LEAdvertisement1 carries the service data the kit's radio registers under
                // 0xFFF9; a 0xFDE2 advert cannot be sent through it.
                throw ScenarioSkipped(
                    "the kit's radio (\(radio.name)) advertises under 0xFFF9 only; run this scenario with --radio udp"
                )
            }
            _ = try await phone.awaitHandshakeMessage(serviceUUID: AdvertisingData.legacyGoogleServiceUUID)
            return "read the advert from 0xFDE2 service data and joined the tunnel"
        },
        scenario(
            "desktop.handshake.initial-message",
            "The desktop's first tunnel message is an 81-byte KNpsk0 message 1: an uncompressed P-256 point and a tag that authenticates",
            source:
                "Chromium HandshakeInitiator::BuildInitialMessage, RespondToHandshake (v2_handshake.cc); CTAP 2.2 §11.5"
        ) { phone in
            let message = try await phone.awaitHandshakeMessage()
            try await phone.respond(to: message)
            return "81 bytes; KNpsk0 message 1 verified with the PSK and the QR key"
        },
        scenario(
            "desktop.request.frame",
            "After the post-handshake and update messages the desktop sends one makeCredential or getAssertion in a type-1 CTAP frame",
            source: "Chromium FidoTunnelDevice::DeviceTransact, EstablishedConnection::Transact (fido_tunnel_device.cc)"
        ) { phone in
            try await phone.establish()
            let request = try await phone.expectRequest()
            return "\(KitPhone.commandName(request[0])) request with a \(request.count - 1)-byte canonical CBOR map"
        },
        scenario(
            "desktop.shutdown",
            "After the reply the desktop ends a revision-1 transaction with an encrypted shutdown frame [0x00]",
            source: "Chromium EstablishedConnection::Close (fido_tunnel_device.cc, MessageType::kShutdown)"
        ) { phone in
            try await phone.establish()
            let request = try await phone.expectRequest()
            try await phone.answer(request)
            let frame = try await phone.nextFrame("the shutdown frame [0x00]")
            guard frame.first == TunnelMessage.MessageType.shutdown.rawValue else {
                throw ScenarioFailure(
                    "expected the shutdown frame [0x00] after the reply, got \(KitPhone.describe(frame: frame))"
                )
            }
            return "sent the shutdown frame after the reply"
        },
    ]

    // MARK: - Post-handshake message and revisions

    static let postHandshake: [ConformanceScenario<DesktopUnderTest>] = [
        scenario(
            "desktop.post-handshake.without-features",
            "A post-handshake message without the features list (key 3) is accepted as a CTAP phone",
            source: "Chromium FidoTunnelDevice::OnTunnelData, kWaitingForPostHandshakeMessage (fido_tunnel_device.cc)"
        ) { phone in
            try await phone.establish(postHandshake: .withoutFeatures)
            let request = try await phone.expectRequest()
            return "accepted {1: getInfo} and sent its \(KitPhone.commandName(request[0])) request"
        },
        scenario(
            "desktop.post-handshake.unknown-features",
            "Unknown features (strings and non-strings in key 3) and unknown keys of the post-handshake message are ignored",
            source: "Chromium FidoTunnelDevice::OnTunnelData, kWaitingForPostHandshakeMessage (fido_tunnel_device.cc)"
        ) { phone in
            try await phone.establish(postHandshake: .unknownFeatures)
            let request = try await phone.expectRequest()
            return "ignored the unknown features and key 99 and sent its \(KitPhone.commandName(request[0])) request"
        },
        scenario(
            "desktop.post-handshake.revision-0",
            "A revision-0 phone (padded post-handshake map, frames without a type byte) is accepted and the session ends by closing",
            source:
                "Chromium FidoTunnelDevice::OnTunnelData (DecodePaddedCBORMap), EstablishedConnection::Close (protocol_revision < 1)"
        ) { phone in
            try await phone.establish(postHandshake: .revisionZero)
            let request = try await phone.expectRequest(revision: .zero)
            try await phone.answer(request, revision: .zero)
            switch await phone.next(within: phone.time.wait(KitWaits.refusal)) {
            case .closed:
                return "sent a bare \(KitPhone.commandName(request[0])) request and closed the tunnel after the reply"
            case .message:
                throw ScenarioFailure(
                    "sent a frame after the reply; a revision-0 transaction has no shutdown frame and ends by closing the tunnel"
                )
            case .silent(let wait):
                throw ScenarioFailure(
                    "kept the tunnel open for \(ScenarioTime.text(wait)) after the reply; a revision-0 transaction ends by closing it"
                )
            }
        },
        scenario(
            "desktop.post-handshake.revision-0-old-padding",
            "A revision-0 post-handshake map in the padding before Chromium M99 (256-byte granularity, one count byte) is accepted",
            source: "Chromium DecodePaddedCBORMap (v2_handshake.cc: the 16-bit form first, then the 8-bit form)"
        ) { phone in
            try await phone.establish(postHandshake: .revisionZeroLegacyPadding)
            let request = try await phone.expectRequest(revision: .zero)
            return "accepted the 256-byte padded map and sent a bare \(KitPhone.commandName(request[0])) request"
        },
    ]

    // MARK: - Refusals

    static let refusals: [ConformanceScenario<DesktopUnderTest>] = [
        scenario(
            "desktop.refuses.handshake-response-tag",
            "A handshake response whose tag does not authenticate ends the transaction: the desktop closes without sending more",
            source: "Chromium HandshakeInitiator::ProcessResponse, FidoTunnelDevice::OnError (kHandshakeSent)"
        ) { phone in
            try await phone.establish(response: .corruptedTag)
            return try await phone.expectRefusal(after: "a handshake response with a damaged tag")
        },
        scenario(
            "desktop.refuses.handshake-response-length",
            "A handshake response longer than 81 bytes (a valid response plus one byte) ends the transaction",
            source: "Chromium HandshakeInitiator::ProcessResponse (kResponseSize = 81)"
        ) { phone in
            try await phone.establish(response: .trailingByte)
            return try await phone.expectRefusal(after: "an 82-byte handshake response")
        },
        scenario(
            "desktop.refuses.bad-padding",
            "A frame whose padding count exceeds its length ends the transaction (here: the reply)",
            source: "Chromium Crypter::Decrypt, EstablishedConnection::OnTunnelData (decryption failed)"
        ) { phone in
            try await phone.establish()
            let request = try await phone.expectRequest()
            // A reply frame whose count byte claims 255 padding bytes in a 32-byte plaintext, then the
            // real reply: a desktop that skipped the bad frame would take that and go on.
            try await phone.send(padded: KitPadding.invalidPadding([TunnelMessage.MessageType.ctap.rawValue, 0x00]))
            try? await phone.answer(request)
            return try await phone.expectRefusal(after: "a reply frame with an invalid padding count")
        },
        scenario(
            "desktop.refuses.phone-shutdown",
            "A shutdown frame from the phone (only desktops send them) ends the transaction",
            source: "Chromium EstablishedConnection::OnTunnelData (MessageType::kShutdown: invalid shutdown frame)"
        ) { phone in
            try await phone.establish()
            let request = try await phone.expectRequest()
            try await phone.send(padded: KitPadding.pad([TunnelMessage.MessageType.shutdown.rawValue]))
            try? await phone.answer(request)
            return try await phone.expectRefusal(after: "a shutdown frame from the phone")
        },
        scenario(
            "desktop.refuses.unsolicited-reply",
            "A reply to a request the desktop never sent (a JSON reply while a CTAP request is outstanding) ends the transaction",
            source: "Chromium EstablishedConnection::OnTunnelData (expected_reply_type_, unsolicited message)"
        ) { phone in
            try await phone.establish()
            let request = try await phone.expectRequest()
            try await phone.send(padded: KitPadding.pad([TunnelMessage.MessageType.json.rawValue] + Array("{}".utf8)))
            try? await phone.answer(request)
            return try await phone.expectRefusal(after: "a JSON reply to its CTAP request")
        },
    ]
}
