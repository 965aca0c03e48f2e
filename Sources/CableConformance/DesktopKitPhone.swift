internal import CableAuthenticator
internal import CableCBOR
internal import CableCrypto
internal import CableLocking
@_spi(Fuzzing) internal import CableProtocol
internal import CableTunnel
internal import Logging

// The phone the kit plays against a desktop under test. It is built from the protocol's parts, not
// from our phone role (`HybridPhone`), so that it can misbehave on purpose: answer the handshake with a
// damaged message, pad a frame wrongly, or reply with a type the desktop never asked for. Its crypter
// is a separate, small implementation of the current construction, so a desktop is judged against a
// second reading of the rules rather than against the code of our own desktop.

/// The waits of one scenario, derived from the engine's deadline.
struct ScenarioTime: Sendable {
    let context: ScenarioContext

    /// Time left before the engine's deadline.
    var remaining: Duration { ContinuousClock.now.duration(to: self.context.deadline) }

    /// At most `limit`, ending a little before the engine's deadline so that the judge can still say
    /// what it was waiting for.
    func wait(_ limit: Duration) -> Duration {
        let margin = min(Duration.seconds(2), self.context.timeout / 4)
        return max(.milliseconds(10), min(limit, self.remaining - margin))
    }

    /// "3.0 s", for details.
    static func text(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return "\((seconds * 10).rounded() / 10) s"
    }
}

/// Bounded waits of the kit: how long it gives a desktop for each step.
enum KitWaits {
    /// For the QR code to be printed.
    static let qrCode = Duration.seconds(15)
    /// From the first advert to the desktop's handshake message.
    static let handshake = Duration.seconds(10)
    /// For the desktop's next frame (request, shutdown).
    static let frame = Duration.seconds(10)
    /// For the desktop to close the tunnel after a message it must refuse.
    static let refusal = Duration.seconds(5)
    /// Between adverts, as a phone repeats its advert.
    static let advertInterval = Duration.milliseconds(250)
}

/// Raised by the kit's own waits; never leaves the kit.
private struct KitTimeout: Error {}

// MARK: - Crypter and padding (an independent reading of Chromium's `Crypter`)

/// Chromium's padding (`Crypter::Encrypt`/`Decrypt`): zeros, then the number of zeros, to a multiple of 32.
package enum KitPadding {
    static let granularity = 32

    package static func pad(_ message: [UInt8]) -> [UInt8] {
        let total = (message.count + 1 + granularity - 1) / granularity * granularity
        let zeros = total - message.count - 1
        return message + [UInt8](repeating: 0, count: zeros) + [UInt8(zeros)]
    }

    /// A padded plaintext whose count byte claims more bytes than the plaintext has (Chromium refuses it).
    static func invalidPadding(_ message: [UInt8]) -> [UInt8] {
        var padded = Self.pad(message)
        precondition(padded.count <= 255, "a one-byte count can exceed only a plaintext shorter than 256 bytes")
        padded[padded.count - 1] = 0xFF
        return padded
    }

    /// The message, or `nil` if the plaintext is empty or its count byte exceeds it.
    package static func unpad(_ padded: [UInt8]) -> [UInt8]? {
        guard let last = padded.last, Int(last) + 1 <= padded.count else { return nil }
        return Array(padded.dropLast(Int(last) + 1))
    }
}

/// The current construction: AES-256-GCM, nonce = 8 zero bytes ‖ big-endian counter, no additional data.
package struct KitPhoneCrypter {
    private let readKey: [UInt8]
    private let writeKey: [UInt8]
    private var readCounter: UInt32
    private var writeCounter: UInt32

    package init(readKey: [UInt8], writeKey: [UInt8], readCounter: UInt32 = 0, writeCounter: UInt32 = 0) {
        self.readKey = readKey
        self.writeKey = writeKey
        self.readCounter = readCounter
        self.writeCounter = writeCounter
    }

    /// Encrypts an already padded plaintext.
    package mutating func seal(padded plaintext: [UInt8]) throws -> [UInt8] {
        let sealed = try AES256GCM.seal(
            plaintext,
            key: self.writeKey,
            nonce: Self.nonce(self.writeCounter),
            additionalData: [UInt8]()
        )
        self.writeCounter += 1
        return sealed
    }

    /// The padded plaintext, or `nil` if the message does not authenticate under the next counter.
    package mutating func open(_ ciphertext: [UInt8]) -> [UInt8]? {
        guard
            let plaintext = try? AES256GCM.open(
                ciphertext,
                key: self.readKey,
                nonce: Self.nonce(self.readCounter),
                additionalData: [UInt8]()
            )
        else { return nil }
        self.readCounter += 1
        return plaintext
    }

    private static func nonce(_ counter: UInt32) -> [UInt8] {
        [UInt8](repeating: 0, count: 8) + [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: counter >> $0) }
    }
}

// MARK: - Handshake (KNpsk0 responder, Chromium `RespondToHandshake`)

/// How the kit answers the desktop's Noise message 1.
enum KitHandshakeResponse: Sendable {
    /// A correct 81-byte response.
    case correct
    /// The response with one bit of its tag flipped.
    case corruptedTag
    /// A correct response followed by one extra byte (82 bytes).
    case trailingByte
}

enum KitPhoneHandshake {
    /// Checks message 1 as Chromium's phone does and answers it. Throws ``ScenarioFailure`` naming the
    /// broken rule.
    static func respond(
        to message: [UInt8],
        psk: PreSharedKey,
        desktopKey: P256.PublicKey,
        response: KitHandshakeResponse
    ) throws -> (response: [UInt8], crypter: KitPhoneCrypter) {
        guard message.count == HandshakeMessageSize.message else {
            throw ScenarioFailure(
                "the handshake message has \(message.count) bytes; KNpsk0 message 1 is 81 (a 65-byte ephemeral key and a 16-byte tag)"
            )
        }
        var symmetric = SymmetricState(pattern: .knpsk0)
        symmetric.mixHash(desktopKey.uncompressedRepresentation)
        symmetric.mixKeyAndHash(psk.bytes)
        let ephemeralBytes = Array(message[0..<HandshakeMessageSize.ephemeralKey])
        symmetric.mixHash(ephemeralBytes)
        symmetric.mixKey(ephemeralBytes)
        guard ephemeralBytes.first == 0x04, let peer = try? P256.PublicKey(x962Representation: ephemeralBytes) else {
            throw ScenarioFailure("the handshake message's first 65 bytes are not an uncompressed P-256 point")
        }
        do {
            _ = try symmetric.decryptAndHash(Array(message[HandshakeMessageSize.ephemeralKey...]))
        } catch {
            throw ScenarioFailure(
                "the handshake message's tag does not authenticate under KNpsk0 with the PSK from the advert and the QR code's key"
            )
        }
        let ephemeral = try P256.PrivateKey()
        let ephemeralPublic = ephemeral.publicKey.uncompressedRepresentation
        symmetric.mixHash(ephemeralPublic)
        symmetric.mixKey(ephemeralPublic)
        symmetric.mixKey(try ephemeral.sharedSecret(with: peer).bytes)  // ee
        symmetric.mixKey(try ephemeral.sharedSecret(with: desktopKey).bytes)  // se
        var answer = ephemeralPublic + (try symmetric.encryptAndHash([]))
        let keys = symmetric.split()
        switch response {
        case .correct: break
        case .corruptedTag: answer[answer.count - 1] ^= 0x01
        case .trailingByte: answer.append(0x00)
        }
        return (answer, KitPhoneCrypter(readKey: keys.first.bytes, writeKey: keys.second.bytes))
    }
}

// MARK: - The kit's phone

/// What the desktop did next, as the kit's end of the tunnel saw it.
enum DesktopAction {
    /// One message.
    case message([UInt8])
    /// The tunnel closed (cleanly, or with this failure).
    case closed(String?)
    /// Nothing within the wait.
    case silent(Duration)
}

/// The forms of the post-handshake message the kit sends.
enum KitPostHandshake {
    /// `{1: getInfo, 3: ["ctap"]}`, as a current Chromium phone writes it.
    case standard
    /// `{1: getInfo}`: no features list (older phones; Chromium then assumes CTAP).
    case withoutFeatures
    /// The features list with an unknown string and a non-string element, and an unknown map key.
    case unknownFeatures
    /// Revision 0: `{1: getInfo}` as a padded CBOR map (512-byte granularity, 16-bit count).
    case revisionZero
    /// Revision 0 in the padding before Chromium M99 (256-byte granularity, one count byte).
    case revisionZeroLegacyPadding

    var revision: ProtocolRevision {
        switch self {
        case .standard, .withoutFeatures, .unknownFeatures: return .one
        case .revisionZero, .revisionZeroLegacyPadding: return .zero
        }
    }
}

/// The phone side of one scenario run: it starts the desktop under test, reads its QR code, opens the
/// phone's tunnel, advertises, answers the handshake and exchanges frames, and always cleans up.
final class KitPhone {
    let subject: DesktopUnderTest
    let time: ScenarioTime
    private let running: any RunningImplementation
    private var qrLine: QRLine?
    private var payload: QRCodePayload?
    private var connection: TunnelConnection?
    /// The kit's own UDP transmitter for this scenario (a radio is the caller's, not closed here).
    private var transmitter: UDPAdvertTransmitter?
    private var advertiser: Task<Void, Never>?
    /// The last error the transmitter reported, for a failure's detail (a radio that refuses the advert).
    private let transmitFailure = LockedValue<String?>(nil)
    private var crypter: KitPhoneCrypter?
    private var psk: PreSharedKey?
    private(set) var routingID: RoutingID?
    /// The phone's authenticator model, which answers the desktop's requests.
    let authenticator: PhoneAuthenticator

    /// The first line the desktop printed that starts (in any case) with `fido:/`.
    enum QRLine {
        case found(String)
        case ended
        case timedOut(Duration)
    }

    private init(subject: DesktopUnderTest, time: ScenarioTime, running: any RunningImplementation) {
        self.subject = subject
        self.time = time
        self.running = running
        var logger = Logger(label: "cable.conformance.kit-phone")
        logger.logLevel = .critical
        self.authenticator = PhoneAuthenticator(persona: .generic, store: InMemoryCredentialStore(), logger: logger)
    }

    /// Starts the desktop under test, runs `body` with a kit phone for it, and always stops both.
    static func run(
        _ subject: DesktopUnderTest,
        _ context: ScenarioContext,
        _ body: (KitPhone) async throws -> String
    ) async throws -> String {
        let substitutions = [
            "tunnel": subject.tunnel.description,
            "advert": subject.radio == nil ? "\(subject.advertHost):\(subject.advertPort)" : "",
        ]
        let running = try await subject.implementation.start(substitutions: substitutions)
        let phone = KitPhone(subject: subject, time: ScenarioTime(context: context), running: running)
        let detail: String
        do {
            detail = try await body(phone)
        } catch {
            _ = await phone.close()
            throw error
        }
        // A crash is a failure whatever the scenario saw before it.
        if case .signaled(let signal) = await phone.close() {
            throw ScenarioFailure("the desktop was killed by signal \(signal) (a crash) during the scenario")
        }
        return detail
    }

    private func close() async -> ImplementationExit {
        self.advertiser?.cancel()
        await self.advertiser?.value
        await self.transmitter?.close()
        await self.connection?.close()
        return await self.running.stop()
    }

    // MARK: QR code

    /// Reads the desktop's output until its QR line (any case), the end of its output, or the wait.
    func readQRLine() async -> QRLine {
        if let line = self.qrLine { return line }
        let lines = self.running.outputLines
        let wait = self.time.wait(KitWaits.qrCode)
        let line: QRLine
        do {
            let found = try await withDeadline(wait, timeoutError: KitTimeout()) { () -> String? in
                for await line in lines where line.lowercased().hasPrefix("fido:/") { return line }
                return nil
            }
            line = found.map(QRLine.found) ?? .ended
        } catch {
            line = .timedOut(wait)
        }
        self.qrLine = line
        return line
    }

    /// The QR URL: the first output line starting with `FIDO:/`.
    func qrURL() async throws -> String {
        switch await self.readQRLine() {
        case .found(let line) where line.hasPrefix(QRCodePayload.urlPrefix):
            return line
        case .found(let line):
            throw ScenarioFailure(
                "its QR line starts with \"\(line.prefix(6))\", not FIDO:/ (the kit reads the first line starting with FIDO:/)"
            )
        case .ended:
            throw ScenarioFailure(
                "it ended its output without printing a line starting with FIDO:/\(self.stderrTail)"
            )
        case .timedOut(let wait):
            throw ScenarioFailure("it printed no line starting with FIDO:/ within \(ScenarioTime.text(wait))")
        }
    }

    /// The end of what the desktop printed on stderr so far, as a detail's suffix (why it stopped).
    private var stderrTail: String {
        let text = self.running.diagnostics.split(whereSeparator: \.isNewline).suffix(3).joined(separator: " | ")
        return text.isEmpty ? "" : " (its stderr: \(text.suffix(300)))"
    }

    /// The QR code, parsed with Chromium's rules (`qr::Parse`).
    func qrPayload() async throws -> QRCodePayload {
        if let payload = self.payload { return payload }
        let url = try await self.qrURL()
        do {
            let payload = try QRCodePayload(url: url)
            self.payload = payload
            return payload
        } catch {
            throw ScenarioFailure(
                "its QR code does not parse as Chromium's qr::Parse reads it (\(error.description)); see desktop.qr.*"
            )
        }
    }

    // MARK: Meeting the desktop

    /// Opens `/cable/new/<tunnel ID>`, advertises every 250 ms (as service data for `serviceUUID`), and
    /// returns the desktop's first message.
    func awaitHandshakeMessage(serviceUUID: UInt16 = AdvertisingData.fidoServiceUUID) async throws -> [UInt8] {
        let payload = try await self.qrPayload()
        let tunnelID = payload.secret.tunnelID
        let connection: TunnelConnection
        do {
            connection = try await TunnelClient.connect(
                to: self.subject.tunnel,
                endpoint: .new(tunnelID),
                // The scenario's budget, not a fixed 10 s (a loaded tunnel service answers late).
                timeout: self.time.wait(self.time.context.timeout),
                trust: self.subject.tlsTrust
            )
        } catch {
            throw ScenarioFailure(
                "the kit could not open /cable/new/\(tunnelID.hex) at \(self.subject.tunnel): \(error)"
            )
        }
        self.connection = connection
        guard let routingID = connection.routingID else {
            throw ScenarioFailure("the tunnel service \(self.subject.tunnel) gave the kit no routing ID on /cable/new/")
        }
        self.routingID = routingID
        let plaintext = try AdvertPlaintext(
            nonce: SecureRandom.bytes(count: CableConstants.eidNonceSize),
            routingID: routingID,
            domainID: .google
        )
        self.psk = payload.secret.psk(advert: plaintext)
        let advert = AdvertisingData.phoneAdvert(
            try AdvertCrypter.encrypt(plaintext, key: payload.secret.eidKey),
            serviceUUID: serviceUUID
        ).bytes
        let transmitter: any AdvertTransmitter
        if let radio = self.subject.radio {
            transmitter = radio.seam
            // A radio that refuses the advert (no advertising slot, permission) refuses every
            // repeat too: say so now rather than after the handshake wait.
            do { try await transmitter.transmit(advert) } catch {
                throw ScenarioFailure("the kit's radio (\(radio.name)) did not take the advert: \(error)")
            }
        } else {
            let udp = try await UDPAdvertTransmitter.connect(
                host: self.subject.advertHost,
                port: self.subject.advertPort
            )
            self.transmitter = udp
            transmitter = udp
        }
        let transmitFailure = self.transmitFailure
        self.advertiser = Task {
            while !Task.isCancelled {
                do { try await transmitter.transmit(advert) } catch {
                    transmitFailure.withLock { $0 = "\(error)" }
                }
                try? await Task.sleep(for: KitWaits.advertInterval)
            }
        }
        let wait = self.time.wait(KitWaits.handshake)
        let action = await self.next(within: wait)
        self.advertiser?.cancel()
        switch action {
        case .message(let message):
            return message
        case .closed, .silent:
            throw ScenarioFailure(
                "no handshake message arrived on /cable/new/\(tunnelID.hex) within \(ScenarioTime.text(wait)) of the first advert: "
                    + "the desktop did not join /cable/connect/\(routingID.hex)/\(tunnelID.hex) (routing ID from the advert, "
                    + "tunnel ID derived from the QR secret)"
                    + (self.transmitFailure.withLock { $0 }.map { "; the kit's advert did not go out: \($0)" } ?? "")
            )
        }
    }

    /// Checks the desktop's message 1, answers it (possibly wrongly), and keeps the keys.
    func respond(to message: [UInt8], with response: KitHandshakeResponse = .correct) async throws {
        let payload = try await self.qrPayload()
        guard let psk = self.psk else { preconditionFailure("the advert is sent before the handshake") }
        let (answer, crypter) = try KitPhoneHandshake.respond(
            to: message,
            psk: psk,
            desktopKey: try payload.publicKey,
            response: response
        )
        self.crypter = crypter
        try await self.send(raw: answer)
    }

    /// Meets the desktop, answers its handshake, and sends the post-handshake message (and, in
    /// revision 1, the update message Chromium phones send after it).
    func establish(
        response: KitHandshakeResponse = .correct,
        postHandshake: KitPostHandshake = .standard
    ) async throws {
        let message = try await self.awaitHandshakeMessage()
        try await self.respond(to: message, with: response)
        // After a response the desktop must refuse, it may already have closed: keep going regardless.
        let tolerant = response != .correct
        do {
            try await self.send(padded: KitPadding.pad(self.postHandshakePlaintext(postHandshake)))
        } catch  where tolerant {
            return
        }
        guard postHandshake.revision == .one else { return }
        // A desktop that refuses the post-handshake message may close before the update message goes
        // out, depending on timing alone: the scenario's next read then reports the close and why,
        // instead of this send reporting a tunnel closed under it.
        try? await self.send(padded: KitPadding.pad(UpdateMessage().frame))
    }

    func postHandshakePlaintext(_ form: KitPostHandshake) -> [UInt8] {
        var map = CBORMap()
        map[1] = .byteString(self.authenticator.getInfo.encoded)
        switch form {
        case .standard:
            map[3] = .array([.textString("ctap")])
        case .withoutFeatures:
            break
        case .unknownFeatures:
            map[3] = .array([.textString("ctap"), .textString("x-conformance-unknown"), .integer(7)])
            map[99] = .textString("an unknown key")
        case .revisionZero:
            return PaddedCBORMap.encode(map, format: .current)
        case .revisionZeroLegacyPadding:
            return PaddedCBORMap.encode(map, format: .legacy)
        }
        return CBORValue.map(map).encoded
    }

    // MARK: Frames

    func send(raw message: [UInt8]) async throws {
        guard let connection = self.connection else {
            preconditionFailure("the tunnel is open before anything is sent")
        }
        do { try await connection.send(message) } catch {
            throw ScenarioFailure("the tunnel closed before the kit could send its next message (\(error))")
        }
    }

    /// Encrypts and sends an already padded plaintext.
    func send(padded plaintext: [UInt8]) async throws {
        guard var crypter = self.crypter else { preconditionFailure("frames follow the handshake") }
        let sealed = try crypter.seal(padded: plaintext)
        self.crypter = crypter
        try await self.send(raw: sealed)
    }

    /// What the desktop does next, within `wait`.
    func next(within wait: Duration) async -> DesktopAction {
        guard let connection = self.connection else { return .closed(nil) }
        do {
            let message = try await withDeadline(wait, timeoutError: KitTimeout()) { try await connection.receive() }
            return message.map(DesktopAction.message) ?? .closed(nil)
        } catch is KitTimeout {
            return .silent(wait)
        } catch {
            return .closed("\(error)")
        }
    }

    /// Decrypts a frame from the desktop; `nil` if it does not authenticate or its padding is invalid.
    func open(_ message: [UInt8]) -> [UInt8]? {
        guard var crypter = self.crypter, let padded = crypter.open(message) else { return nil }
        self.crypter = crypter
        return KitPadding.unpad(padded)
    }

    /// The desktop's next frame, decrypted (revision 1: type byte first). Throws ``ScenarioFailure`` when
    /// it closes, stays silent, or sends something that does not decrypt.
    func nextFrame(_ expected: String) async throws -> [UInt8] {
        switch await self.next(within: self.time.wait(KitWaits.frame)) {
        case .message(let message):
            guard let frame = self.open(message) else {
                throw ScenarioFailure(
                    "expected \(expected), got a \(message.count)-byte message that does not decrypt under the current construction "
                        + "with the next counter, or whose padding is invalid"
                )
            }
            return frame
        case .closed(let reason):
            throw ScenarioFailure(
                "expected \(expected), but the desktop closed the tunnel\(reason.map { " (\($0))" } ?? "")"
            )
        case .silent(let wait):
            throw ScenarioFailure("expected \(expected), but nothing arrived within \(ScenarioTime.text(wait))")
        }
    }

    /// The desktop's CTAP request `[command][CBOR]`; in revision 1 it must come in a type-1 frame.
    func expectRequest(revision: ProtocolRevision = .one) async throws -> [UInt8] {
        let frame = try await self.nextFrame("a CTAP request")
        let request: [UInt8]
        switch revision {
        case .zero:
            request = frame
        case .one:
            guard let type = frame.first else { throw ScenarioFailure("expected a CTAP request, got an empty frame") }
            guard type == TunnelMessage.MessageType.ctap.rawValue else {
                throw ScenarioFailure("expected a CTAP request (type byte 1), got \(Self.describe(frame: frame))")
            }
            request = Array(frame.dropFirst())
        }
        guard let command = request.first else { throw ScenarioFailure("the CTAP request is empty") }
        guard command == 0x01 || command == 0x02 else {
            let hint = command == 0x04 ? " (getInfo: Chromium answers it locally from the post-handshake message)" : ""
            throw ScenarioFailure(
                "the CTAP request's command is 0x\(Hex.upper([command])), not makeCredential (0x01) or getAssertion (0x02)\(hint)"
            )
        }
        let parameters = Array(request.dropFirst())
        guard let value = try? CBORValue(decoding: parameters), value.mapValue != nil, value.encoded == parameters
        else {
            throw ScenarioFailure(
                "the \(Self.commandName(command)) request's parameters (\(parameters.count) bytes) are not one canonical CBOR map"
            )
        }
        return request
    }

    /// Answers `request` with the authenticator model, framed for `revision`.
    func answer(_ request: [UInt8], revision: ProtocolRevision = .one) async throws {
        let reply = await self.authenticator.handle(request)
        try await self.send(
            padded: KitPadding.pad(revision == .one ? [TunnelMessage.MessageType.ctap.rawValue] + reply : reply)
        )
    }

    /// Judges a refusal: after a message it must refuse, the desktop must close the tunnel without
    /// sending anything more (Chromium `FidoTunnelDevice::OnError`,
    /// `EstablishedConnection::OnRemoteClose`: no shutdown frame, no request).
    func expectRefusal(after what: String) async throws -> String {
        switch await self.next(within: self.time.wait(KitWaits.refusal)) {
        case .closed:
            return "closed the tunnel after \(what)"
        case .silent(let wait):
            throw ScenarioFailure(
                "kept the tunnel open for \(ScenarioTime.text(wait)) after \(what); it must close it at once"
            )
        case .message(let message):
            let description = self.open(message).map(Self.describe(frame:)) ?? "a \(message.count)-byte message"
            throw ScenarioFailure("went on after \(what): it sent \(description) instead of closing the tunnel")
        }
    }

    static func describe(frame: [UInt8]) -> String {
        guard let type = frame.first else { return "an empty frame" }
        switch TunnelMessage.MessageType(rawValue: type) {
        case .shutdown: return "a shutdown frame"
        case .ctap: return frame.count > 1 ? "a CTAP \(Self.commandName(frame[1])) frame" : "an empty CTAP frame"
        case .update: return "an update frame"
        case .json: return "a JSON frame"
        case nil: return "a frame of unknown type \(type)"
        }
    }

    static func commandName(_ command: UInt8) -> String {
        switch command {
        case 0x01: return "makeCredential"
        case 0x02: return "getAssertion"
        case 0x04: return "getInfo"
        default: return "0x\(Hex.upper([command]))"
        }
    }
}
