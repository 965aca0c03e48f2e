internal import CableCBOR
package import CableCrypto
internal import CableLocking
@_spi(Fuzzing) package import CableProtocol

// The phone's fault seam for the conformance kit's mutation tests: each `PhoneFault` breaks one rule
// the `phone.*` suite checks, so the tests can show that every scenario catches a broken phone.
// Faults are package API only (no flag or public type reaches a user). Most faults act outside the
// protocol machine, on what the phone transmits, registers and sends: the injector mirrors the
// phone's handshake (it chooses the phone's ephemeral key) to learn the traffic keys, then opens,
// alters and reseals frames on their way. The hooks in `HybridPhone` are one line each.

/// One deliberately broken behaviour of the phone.
package enum PhoneFault: String, Sendable, Hashable, CaseIterable {
    // QR codes the phone wrongly refuses (it exits without advertising).
    case refuseQRWithoutLinkingKey, refuseQRLinkingFalse, refuseQRLinkingTrue
    case refuseQRRequestGetAssertion, refuseQRRequestMakeCredential, refuseQRUnknownRequestType, refuseQRUnknownKeys
    // The advert.
    case advertServiceDataTooLong, advertWrongKey, advertReservedByteSet, advertUnknownDomain, advertWrongRoutingID
    // The tunnel and the handshake.
    case wrongTunnelID, handshakeResponseTooLong, handshakeResponseBadTag, acceptBadHandshake
    // The post-handshake message.
    case postHandshakeNonCanonical, postHandshakeRevisionZero, postHandshakeWithoutCTAPFeature, getInfoWithoutAAGUID
    // The crypter.
    case paddingOversized, paddingNonZero, skipSequenceNumber, reuseSequenceNumber
    // The update message.
    case updateNotMap, updateUnpadded, floodUpdates
    // CTAP replies.
    case makeCredentialWrongRPIDHash, makeCredentialWithoutUserPresence, makeCredentialBadAttestation
    case getAssertionWrongRPIDHash, getAssertionBadSignature, unknownCommandSucceeds
    // Ending and refusing.
    case ignoreShutdown, acceptMalformedFrames, closeOnDesktopUpdate
}

/// Injects one ``PhoneFault`` into a ``HybridPhone`` (set its `faults`). One injector serves one phone;
/// each run starts over at ``scanned(url:payload:)``.
package final class PhoneFaults: Sendable {
    /// The fault injected.
    package let fault: PhoneFault

    /// Per-run state: what the injector learned and how far the conversation is.
    struct RunState {
        var payload: QRCodePayload?
        var ephemeral: P256.PrivateKey?
        var advertPlaintext: [UInt8]?
        /// The phone's traffic keys (read = desktop → phone), once the handshake was mirrored.
        var readKey: AES256GCM.Key?
        var writeKey: AES256GCM.Key?
        var inbound = 0
        var outbound = 0
        var readSequence: UInt32 = 0
        var phoneWriteSequence: UInt32 = 0
        var sealSequence: UInt32 = 0
        var lastCommand: UInt8?
        var repliesSent = 0
    }

    let state = LockedValue(RunState())

    package init(_ fault: PhoneFault) { self.fault = fault }

    // MARK: - Hooks (called by HybridPhone)

    /// A new run scanned `url`; refuses it (as a too-strict phone would) when the fault says so.
    package func scanned(url: String, payload: QRCodePayload) throws(PhoneError) {
        let ephemeral: P256.PrivateKey
        do { ephemeral = try P256.PrivateKey() } catch {
            throw PhoneError(.protocolViolation, step: .scan, "fault injector: no ephemeral key")
        }
        self.state.withLock { $0 = RunState(payload: payload, ephemeral: ephemeral) }
        guard let reason = Self.refusal(self.fault, url: url) else { return }
        throw PhoneError(.invalidQRCode, step: .scan, "injected fault \(self.fault.rawValue): \(reason)")
    }

    /// The Noise ephemeral key the phone must use this run (so the injector can mirror the handshake).
    package var ephemeral: P256.PrivateKey? { self.state.withLock { $0.ephemeral } }

    /// Wraps the phone's tunnel connector (tunnel ID faults; every channel it opens is wrapped too).
    package func connector(wrapping base: any TunnelConnector) -> any TunnelConnector {
        FaultyConnector(base: base, faults: self)
    }

    /// Wraps the phone's advert transmitter (advert faults).
    package func transmitter(wrapping base: any AdvertTransmitter) -> any AdvertTransmitter {
        FaultyTransmitter(base: base, faults: self)
    }

    // MARK: - QR

    private static func refusal(_ fault: PhoneFault, url: String) -> String? {
        guard let digits = url.split(separator: "/", maxSplits: 1).last,
            let bytes = try? DigitEncoding.decode(digits), let map = (try? CBORValue(decoding: bytes))?.mapValue
        else { return nil }
        let linking = map[4]?.boolValue
        let request = map[5]?.textValue
        switch fault {
        case .refuseQRWithoutLinkingKey where map[4] == nil: return "key 4 is missing"
        case .refuseQRLinkingFalse where linking == false: return "key 4 is false"
        case .refuseQRLinkingTrue where linking == true: return "key 4 is true"
        case .refuseQRRequestGetAssertion where request == "ga": return "request type ga"
        case .refuseQRRequestMakeCredential where request == "mc": return "request type mc"
        case .refuseQRUnknownRequestType where request.map({ !["ga", "mc", "dcp"].contains($0) }) ?? false:
            return "unknown request type"
        case .refuseQRUnknownKeys where map.contains(where: { ($0.key.integerValue ?? 99) > 5 }): return "unknown keys"
        default: return nil
        }
    }

    // MARK: - Advert

    func alterAdvert(_ data: [UInt8]) -> [UInt8] {
        guard let payload = self.state.withLock({ $0.payload }),
            let advert = (try? AdvertisingData(bytes: data))?.cableAdvert,
            var plaintext = try? AdvertCrypter.decryptUnvalidated(advert, key: payload.secret.eidKey)
        else { return data }
        self.state.withLock { $0.advertPlaintext = plaintext }
        var key = payload.secret.eidKey
        switch self.fault {
        case .advertServiceDataTooLong:
            return AdvertisingData.phoneAdvert(advert + [0]).bytes
        case .advertWrongKey:
            key = EIDKey(derivingFrom: SecureRandom.bytes(count: 16), salt: [])
        case .advertReservedByteSet: plaintext[0] = 1
        case .advertUnknownDomain: (plaintext[14], plaintext[15]) = (200, 0)
        case .advertWrongRoutingID: plaintext[11] ^= 0xFF
        default: return data
        }
        guard let altered = try? AdvertCrypter.encrypt(rawPlaintext: plaintext, key: key) else { return data }
        return AdvertisingData.phoneAdvert(altered).bytes
    }

    // MARK: - Handshake mirror

    /// Runs the responder's side of KNpsk0 as the phone does, with the phone's ephemeral key, to learn
    /// the traffic keys. `false` when the desktop's message does not authenticate.
    func mirrorHandshake(_ message: [UInt8]) -> Bool {
        let (payload, ephemeral, advert) = self.state.withLock { ($0.payload, $0.ephemeral, $0.advertPlaintext) }
        guard let payload, let ephemeral, let advert, let plaintext = try? AdvertPlaintext(bytes: advert),
            message.count >= HandshakeMessageSize.ephemeralKey,
            let desktop = try? P256.PublicKey(x962Representation: payload.uncompressedPublicKey)
        else { return false }
        let point = Array(message[0..<HandshakeMessageSize.ephemeralKey])
        guard point.first == 0x04, let peer = try? P256.PublicKey(x962Representation: point) else { return false }
        var symmetric = SymmetricState(pattern: .knpsk0)
        symmetric.mixHash(payload.uncompressedPublicKey)
        symmetric.mixKeyAndHash(payload.secret.psk(advert: plaintext).bytes)
        symmetric.mixHash(point)
        symmetric.mixKey(point)
        guard (try? symmetric.decryptAndHash(Array(message[HandshakeMessageSize.ephemeralKey...])))?.isEmpty == true,
            let ee = try? ephemeral.sharedSecret(with: peer), let se = try? ephemeral.sharedSecret(with: desktop)
        else { return false }
        let ephemeralPublic = ephemeral.publicKey.uncompressedRepresentation
        symmetric.mixHash(ephemeralPublic)
        symmetric.mixKey(ephemeralPublic)
        symmetric.mixKey(ee.bytes)
        symmetric.mixKey(se.bytes)
        guard (try? symmetric.encryptAndHash([])) != nil else { return false }
        let keys = symmetric.split()
        guard let read = try? AES256GCM.Key(keys.first), let write = try? AES256GCM.Key(keys.second) else {
            return false
        }
        self.state.withLock {
            $0.readKey = read
            $0.writeKey = write
        }
        return true
    }

    // MARK: - Frames

    static func nonce(_ sequence: UInt32) -> [UInt8] {
        [
            0, 0, 0, 0, 0, 0, 0, 0, UInt8(sequence >> 24), UInt8((sequence >> 16) & 0xFF),
            UInt8((sequence >> 8) & 0xFF), UInt8(sequence & 0xFF),
        ]
    }

    static func unpadded(_ padded: [UInt8]) -> [UInt8]? {
        guard let last = padded.last, Int(last) + 1 <= padded.count else { return nil }
        return Array(padded.dropLast(Int(last) + 1))
    }

    /// What the phone sends instead of `frame`, after the fault had its way (one frame unless the fault
    /// floods).
    func outbound(_ frame: [UInt8]) -> [[UInt8]] {
        guard self.fault == .floodUpdates, self.state.withLock({ $0.outbound == 2 }) else {
            return self.alterOutbound(frame).map { [$0] } ?? []
        }
        // The update (the phone's third message): sent twenty times, each under its own sequence number.
        guard let first = self.alterOutbound(frame) else { return [] }
        let write = self.state.withLock { $0.writeKey }
        let copies = (0..<19).compactMap { _ -> [UInt8]? in
            let counter = self.state.withLock { s -> UInt32 in
                defer { s.sealSequence += 1 }
                return s.sealSequence
            }
            return try? write?.seal(
                self.pad(UpdateMessage().frame),
                nonce: Self.nonce(counter),
                additionalData: [UInt8]()
            )
        }
        return [first] + copies
    }

    private func alterOutbound(_ frame: [UInt8]) -> [UInt8]? {
        let index = self.state.withLock { s -> Int in
            defer { s.outbound += 1 }
            return s.outbound
        }
        if index == 0 {
            switch self.fault {
            case .handshakeResponseTooLong: return frame + [0]
            case .handshakeResponseBadTag: return Array(frame.dropLast()) + [frame.last.map { $0 ^ 1 } ?? 0]
            default: return frame
            }
        }
        guard let write = self.state.withLock({ $0.writeKey }) else { return frame }
        let sequence = self.state.withLock { s -> UInt32 in
            defer { s.phoneWriteSequence += 1 }
            return s.phoneWriteSequence
        }
        guard let padded = try? write.open(frame, nonce: Self.nonce(sequence), additionalData: [UInt8]()),
            let message = Self.unpadded(padded)
        else { return frame }
        var altered = message
        var isReply = false
        if index == 1 {
            altered = self.alterPostHandshake(message)
        } else if message.first == 2 {
            switch self.fault {
            case .updateNotMap: altered = [2] + CBORValue.array([.integer(0)]).encoded
            case .updateUnpadded:
                altered = [2] + CBORValue.map(CBORMap(uniqueKeysWithValues: [(.integer(0), .byteString([]))])).encoded
            default: break
            }
        } else if message.first == 1 {
            isReply = true
            altered = [1] + self.alterReply(Array(message.dropFirst()))
        }
        let counter = self.state.withLock { s -> UInt32 in
            defer { if isReply { s.repliesSent += 1 } }
            if isReply, s.repliesSent == 0 {
                if self.fault == .skipSequenceNumber { s.sealSequence += 1 }
                if self.fault == .reuseSequenceNumber { return 0 }
            }
            defer { s.sealSequence += 1 }
            return s.sealSequence
        }
        return try? write.seal(self.pad(altered), nonce: Self.nonce(counter), additionalData: [UInt8]())
    }

    private func pad(_ message: [UInt8]) -> [UInt8] {
        var padded = MessagePadding.pad(message)
        switch self.fault {
        case .paddingOversized:
            let count = Int(padded.removeLast()) + 32
            padded += [UInt8](repeating: 0, count: 32) + [UInt8(count)]
        case .paddingNonZero:
            var count = Int(padded.removeLast())
            if count == 0 {
                padded += [UInt8](repeating: 0, count: 31)
                count = 31
            }
            for i in (padded.count - count)..<padded.count { padded[i] = 0x5A }
            padded.append(UInt8(count))
        default: break
        }
        return padded
    }

    private func alterPostHandshake(_ message: [UInt8]) -> [UInt8] {
        guard var map = (try? CBORValue(decoding: message))?.mapValue else { return message }
        switch self.fault {
        case .postHandshakeNonCanonical:
            // The same map with a non-minimal length header: valid CBOR, not canonical.
            guard let first = message.first, first >= 0xA0, first < 0xB8 else { return message }
            return [0xB8, first - 0xA0] + message.dropFirst()
        case .postHandshakeRevisionZero:
            return PaddedCBORMap.encode(map)
        case .postHandshakeWithoutCTAPFeature:
            map[3] = .array([.textString("CTAP")])
        case .getInfoWithoutAAGUID:
            guard let info = map[1]?.bytesValue, var infoMap = (try? CBORValue(decoding: info))?.mapValue else {
                return message
            }
            infoMap[3] = nil
            map[1] = .byteString(CBORValue.map(infoMap).encoded)
        default: return message
        }
        return CBORValue.map(map).encoded
    }

    private func alterReply(_ reply: [UInt8]) -> [UInt8] {
        let command = self.state.withLock { $0.lastCommand }
        if self.fault == .unknownCommandSucceeds, let command, ![1, 2, 4, 0x0B].contains(command) { return [0] }
        guard reply.first == 0, var map = (try? CBORValue(decoding: reply.dropFirst()))?.mapValue else { return reply }
        switch (self.fault, command) {
        case (.makeCredentialWrongRPIDHash, 1), (.getAssertionWrongRPIDHash, 2):
            guard var authData = map[2]?.bytesValue, !authData.isEmpty else { return reply }
            authData[0] ^= 0xFF
            map[2] = .byteString(authData)
        case (.makeCredentialWithoutUserPresence, 1):
            guard var authData = map[2]?.bytesValue, authData.count > 32 else { return reply }
            authData[32] &= ~0x01
            map[2] = .byteString(authData)
        case (.makeCredentialBadAttestation, 1):
            guard var statement = map[3]?.mapValue, var signature = statement["sig"]?.bytesValue, !signature.isEmpty
            else {
                return reply
            }
            signature[signature.count - 1] ^= 0x01
            statement["sig"] = .byteString(signature)
            map[3] = .map(statement)
        case (.getAssertionBadSignature, 2):
            guard var signature = map[3]?.bytesValue, !signature.isEmpty else { return reply }
            signature[signature.count - 1] ^= 0x01
            map[3] = .byteString(signature)
        default: return reply
        }
        return [0] + CBORValue.map(map).encoded
    }

    /// What the phone receives next from `base`, after the fault had its way.
    func inbound(from base: any MessageChannel) async throws -> [UInt8]? {
        while true {
            guard let frame = try await base.receive() else { return nil }
            let index = self.state.withLock { s -> Int in
                defer { s.inbound += 1 }
                return s.inbound
            }
            if index == 0 {
                if !self.mirrorHandshake(frame), self.fault == .acceptBadHandshake,
                    let fake = try? P256.PrivateKey().publicKey.uncompressedRepresentation
                {
                    // Answer what should be refused: a response that no desktop can verify.
                    try await base.send(fake + SecureRandom.bytes(count: 16))
                }
                return frame
            }
            guard let read = self.state.withLock({ $0.readKey }) else { return frame }
            let sequence = self.state.withLock { $0.readSequence }
            let opened = try? read.open(frame, nonce: Self.nonce(sequence), additionalData: [UInt8]())
            if opened != nil { self.state.withLock { $0.readSequence += 1 } }
            let message = opened.flatMap(Self.unpadded)
            if let message, let type = message.first, type <= 3 {
                switch (type, self.fault) {
                case (0, .ignoreShutdown): continue
                case (2, .closeOnDesktopUpdate):
                    await base.close()
                    return nil
                case (1, _): self.state.withLock { $0.lastCommand = message.dropFirst().first }
                default: break
                }
                return frame
            }
            guard self.fault == .acceptMalformedFrames else { return frame }
            // Repair what should be refused into a getInfo request the phone will answer.
            let counter = self.state.withLock { s -> UInt32 in
                if opened == nil { s.readSequence += 1 }
                s.lastCommand = 4
                return s.readSequence - 1
            }
            return (try? read.seal(MessagePadding.pad([1, 4]), nonce: Self.nonce(counter), additionalData: [UInt8]()))
                ?? frame
        }
    }
}

/// Registers the tunnel (perhaps under the wrong tunnel ID) and wraps the channel it gets.
struct FaultyConnector: TunnelConnector {
    let base: any TunnelConnector
    let faults: PhoneFaults

    func connect(to endpoint: TunnelEndpoint, domainID: TunnelServiceDomainID) async throws -> ConnectedTunnel {
        var endpoint = endpoint
        if self.faults.fault == .wrongTunnelID, case .new = endpoint {
            endpoint = .new(TunnelID(unchecked: SecureRandom.bytes(count: TunnelID.byteCount)))
        }
        let tunnel = try await self.base.connect(to: endpoint, domainID: domainID)
        return ConnectedTunnel(
            channel: FaultyChannel(base: tunnel.channel, faults: self.faults),
            routingID: tunnel.routingID
        )
    }
}

/// Transmits the phone's advert after the fault altered it.
struct FaultyTransmitter: AdvertTransmitter {
    let base: any AdvertTransmitter
    let faults: PhoneFaults

    func transmit(_ advertisingData: [UInt8]) async throws {
        try await self.base.transmit(self.faults.alterAdvert(advertisingData))
    }
}

/// The phone's tunnel, with the fault between the phone and the desktop.
struct FaultyChannel: MessageChannel {
    let base: any MessageChannel
    let faults: PhoneFaults

    func send(_ message: [UInt8]) async throws {
        for altered in self.faults.outbound(message) { try await self.base.send(altered) }
    }

    func receive() async throws -> [UInt8]? { try await self.faults.inbound(from: self.base) }

    func close() async { await self.base.close() }
}
