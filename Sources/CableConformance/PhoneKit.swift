internal import CableCBOR
internal import CableCTAP
internal import CableCrypto
internal import CableLocking
@_spi(Fuzzing) internal import CableProtocol
internal import CableTunnel
import Foundation

// The desktop the `phone.*` suite plays. Unlike `DesktopSession`, which refuses what breaks the
// protocol, the kit keeps everything the phone sends (every advert datagram, the raw handshake
// response, each frame's padded plaintext and the sequence number it opened under) so each scenario
// can judge one rule and say precisely what it saw; and it can send what a correct desktop never sends.

/// The QR code a scenario shows: Chromium's variants of keys 4 and 5, and unknown keys.
struct PhoneQRVariant: Sendable {
    /// Key 4; `nil` leaves it out.
    var linking: Bool? = false
    /// Key 5, as written.
    var requestType: String = "ga"
    /// Adds keys no phone knows (an integer key above 5 and a text key), which phones must ignore.
    var unknownKeys = false

    static let standard = PhoneQRVariant()
}

/// The kit's record of one advert it decrypted with the scenario's EID key.
struct CapturedAdvert: Sendable {
    /// The whole datagram (BLE advertising data).
    let datagram: [UInt8]
    /// The 16-bit service UUID whose service data carried the advert.
    let serviceUUID: UInt16
    /// That service data's length (20 is right).
    let serviceDataCount: Int
    /// The decrypted 16-byte plaintext, not validated.
    let plaintext: [UInt8]

    var routingID: RoutingID { RoutingID(unchecked: Array(self.plaintext[11..<14])) }
    var domainID: TunnelServiceDomainID {
        TunnelServiceDomainID(rawValue: UInt16(self.plaintext[14]) | UInt16(self.plaintext[15]) << 8)
    }
}

/// One encrypted frame from the phone as the kit opened it.
struct PhoneFrame: Sendable {
    /// The write sequence number the kit expected the phone to use.
    let expectedSequence: UInt32
    /// The sequence number it actually opened under (current construction), `nil` if none.
    let openedSequence: UInt32?
    /// Whether it opened only under Chromium's legacy construction.
    let legacyConstruction: Bool
    /// The ciphertext's size.
    let ciphertextCount: Int
    /// The decrypted plaintext before the padding is removed.
    let padded: [UInt8]?

    /// The message with Chromium's padding removed (`nil` if it did not open or the count is impossible).
    var message: [UInt8]? {
        guard let padded, let last = padded.last, Int(last) + 1 <= padded.count else { return nil }
        return Array(padded.dropLast(Int(last) + 1))
    }

    /// Why the frame is unreadable, for failure details; `nil` when it opened.
    var openingProblem: String? {
        if self.padded != nil, self.openedSequence != nil { return nil }
        if self.legacyConstruction {
            return
                "frame \(self.expectedSequence) opened only with Chromium's legacy crypter construction (little-endian nonce, additional data 0x02); current Chromium uses 8 zero bytes ‖ big-endian counter"
        }
        return
            "frame \(self.expectedSequence) (\(self.ciphertextCount) bytes) does not authenticate under the handshake's read key at any nearby sequence number"
    }
}

/// What came from the tunnel within a wait.
enum TunnelEvent: Sendable {
    case message([UInt8])
    case closed
    case timedOut
}

/// Lines the implementation under test printed, and whether it has ended.
final class ExitWatch: Sendable {
    private struct State {
        var lines: [String] = []
        var ended = false
    }
    private let state = LockedValue(State())

    func append(_ line: String) {
        self.state.withLock {
            $0.lines.append(line)
            if $0.lines.count > 20 { $0.lines.removeFirst() }
        }
    }
    func end() { self.state.withLock { $0.ended = true } }
    var ended: Bool { self.state.withLock { $0.ended } }
    /// The last few output lines, for failure details (never more than 200 characters).
    var tail: String {
        let lines = self.state.withLock { $0.lines.suffix(3) }
        let text = lines.joined(separator: " | ")
        return text.isEmpty ? "no output" : String(text.prefix(200))
    }
}

/// The KNpsk0 initiator, kept as raw state so the kit learns the traffic keys (Chromium
/// `HandshakeInitiator`, hybrid-protocol.md §6.3).
struct KitHandshake {
    var symmetric: SymmetricState
    let ephemeral: P256.PrivateKey
    let identity: P256.PrivateKey
    let message: [UInt8]

    /// - Parameter ephemeral: fixed in known-answer tests; fresh otherwise.
    init(psk: [UInt8], identity: P256.PrivateKey, ephemeral fixed: P256.PrivateKey? = nil) throws {
        var symmetric = SymmetricState(pattern: .knpsk0)
        symmetric.mixHash(identity.publicKey.uncompressedRepresentation)
        symmetric.mixKeyAndHash(psk)
        let ephemeral = try fixed ?? P256.PrivateKey()
        let point = ephemeral.publicKey.uncompressedRepresentation
        symmetric.mixHash(point)
        symmetric.mixKey(point)
        let tag = try symmetric.encryptAndHash([])
        self.symmetric = symmetric
        self.ephemeral = ephemeral
        self.identity = identity
        self.message = point + tag
    }

    /// Completes the handshake with the phone's response; the reason it is not a KNpsk0 response otherwise.
    mutating func finish(_ response: [UInt8]) -> Result<KitCrypter, ScenarioFailure> {
        guard response.count >= HandshakeMessageSize.message else {
            return .failure(ScenarioFailure("the handshake response is \(response.count) bytes, shorter than 81"))
        }
        let point = Array(response[0..<HandshakeMessageSize.ephemeralKey])
        guard point.first == 0x04, let peer = try? P256.PublicKey(x962Representation: point) else {
            return .failure(ScenarioFailure("the response does not start with an uncompressed P-256 point"))
        }
        guard let ee = try? self.ephemeral.sharedSecret(with: peer),
            let se = try? self.identity.sharedSecret(with: peer)
        else {
            return .failure(ScenarioFailure("ECDH with the phone's ephemeral key failed"))
        }
        self.symmetric.mixHash(point)
        self.symmetric.mixKey(point)
        self.symmetric.mixKey(ee.bytes)
        self.symmetric.mixKey(se.bytes)
        let tag = Array(response[HandshakeMessageSize.ephemeralKey...])
        guard let payload = try? self.symmetric.decryptAndHash(tag) else {
            return .failure(
                ScenarioFailure(
                    "the response's tag does not authenticate: not a KNpsk0 response to this handshake (PSK from the QR secret and advert, the QR key as the desktop's static key, ee and se)"
                )
            )
        }
        guard payload.isEmpty else {
            return .failure(ScenarioFailure("the response carries a \(payload.count)-byte payload; it must be empty"))
        }
        let keys = self.symmetric.split()
        guard let crypter = try? KitCrypter(write: keys.first, read: keys.second) else {
            return .failure(ScenarioFailure("the kit could not key AES-GCM"))
        }
        return .success(crypter)
    }
}

/// The desktop's side of the tunnel crypter with its keys in reach: opens each phone frame under the
/// expected sequence number (and, to explain a failure, under nearby and earlier ones, and the
/// legacy construction), and seals well-formed or deliberately malformed frames.
final class KitCrypter {
    private let writeKey: AES256GCM.Key
    private let readKey: AES256GCM.Key
    private(set) var writeSequence: UInt32 = 0
    private(set) var readSequence: UInt32 = 0
    /// Sequence numbers of phone frames opened so far.
    private(set) var usedSequences: Set<UInt32> = []

    init(write: SecretBytes, read: SecretBytes) throws {
        self.writeKey = try AES256GCM.Key(write)
        self.readKey = try AES256GCM.Key(read)
    }

    static func nonce(_ sequence: UInt32, legacy: Bool = false) -> [UInt8] {
        let be = [
            UInt8(sequence >> 24), UInt8((sequence >> 16) & 0xFF), UInt8((sequence >> 8) & 0xFF),
            UInt8(sequence & 0xFF),
        ]
        return legacy ? Array(be.reversed()) + [UInt8](repeating: 0, count: 8) : [UInt8](repeating: 0, count: 8) + be
    }

    private func open(_ ciphertext: [UInt8], _ sequence: UInt32, legacy: Bool = false) -> [UInt8]? {
        try? self.readKey.open(
            ciphertext,
            nonce: Self.nonce(sequence, legacy: legacy),
            additionalData: legacy ? [UInt8(2)] : []
        )
    }

    /// Opens one phone frame.
    func open(_ ciphertext: [UInt8]) -> PhoneFrame {
        let expected = self.readSequence
        var candidates: [UInt32] = [expected]
        candidates += (1...8).map { expected &+ $0 }
        candidates += self.usedSequences.sorted()
        for sequence in candidates {
            if let padded = self.open(ciphertext, sequence) {
                self.usedSequences.insert(sequence)
                if sequence >= expected { self.readSequence = sequence + 1 }
                return PhoneFrame(
                    expectedSequence: expected,
                    openedSequence: sequence,
                    legacyConstruction: false,
                    ciphertextCount: ciphertext.count,
                    padded: padded
                )
            }
        }
        let legacy = self.open(ciphertext, expected, legacy: true) != nil
        return PhoneFrame(
            expectedSequence: expected,
            openedSequence: nil,
            legacyConstruction: legacy,
            ciphertextCount: ciphertext.count,
            padded: nil
        )
    }

    /// Seals an already padded plaintext (which may be malformed on purpose).
    func seal(padded: [UInt8], sequence: UInt32? = nil) throws -> [UInt8] {
        let counter = sequence ?? self.writeSequence
        let ciphertext = try self.writeKey.seal(padded, nonce: Self.nonce(counter), additionalData: [UInt8]())
        if sequence == nil { self.writeSequence += 1 }
        return ciphertext
    }

    /// Pads (Chromium's rule) and seals a frame.
    func seal(_ message: [UInt8]) throws -> [UInt8] { try self.seal(padded: MessagePadding.pad(message)) }
}

/// One scenario's conversation with the phone under test: the QR code, the advert bus, the tunnel.
final class PhoneConversation {
    let subject: PhoneUnderTest
    let context: ScenarioContext
    let key: QRGeneratorKey
    let url: String
    let watch: ExitWatch
    private let adverts: AsyncStream<[UInt8]>
    /// The port the kit's advert listener holds for this scenario.
    let advertPort: Int
    private var strangers = 0
    private(set) var advert: CapturedAdvert?
    private(set) var connection: TunnelConnection?
    private(set) var handshake: KitHandshake?
    private(set) var response: [UInt8]?
    private(set) var crypter: KitCrypter?
    /// How many update messages the kit reads past while it waits for something else.
    static let maxUpdatesInARow = 8
    /// The last frame sent with ``send(_:)``.
    private(set) var lastSent: [UInt8]?
    /// Every frame the phone sent after the handshake, in order.
    private(set) var frames: [PhoneFrame] = []

    init(
        subject: PhoneUnderTest,
        context: ScenarioContext,
        key: QRGeneratorKey,
        url: String,
        adverts: AsyncStream<[UInt8]>,
        advertPort: Int,
        watch: ExitWatch
    ) {
        self.advertPort = advertPort
        self.subject = subject
        self.context = context
        self.key = key
        self.url = url
        self.adverts = adverts
        self.watch = watch
    }

    // MARK: - Running a phone

    /// Starts the phone under test on a fresh QR code of `variant`, runs `body` as its desktop, and
    /// always stops the phone, closes the tunnel and the advert listener, whatever happens.
    static func run<T>(
        _ subject: PhoneUnderTest,
        _ context: ScenarioContext,
        qr variant: PhoneQRVariant = .standard,
        _ body: (PhoneConversation) async throws -> T
    ) async throws -> T {
        var rng = SecureRandomNumberGenerator()
        let key = try QRGeneratorKey.random(using: &rng)
        let url = Self.qrURL(key: key, variant: variant)
        // A real radio is the caller's, open for the whole suite; the UDP bus is the kit's, per scenario.
        let listener: UDPAdvertListener?
        let adverts: AsyncStream<[UInt8]>
        if let radio = subject.radio {
            listener = nil
            adverts = radio.seam.adverts()
        } else {
            let bound = try await UDPAdvertListener.bind(host: subject.advertHost, port: subject.advertPort)
            listener = bound
            adverts = bound.adverts()
        }
        let watch = ExitWatch()
        let running: any RunningImplementation
        do {
            running = try await subject.implementation.start(substitutions: [
                "url": url, "tunnel": subject.tunnel?.description ?? "",
                "advert": listener.map { "\(subject.advertHost):\($0.port)" } ?? "",
            ])
        } catch {
            await listener?.close()
            throw ScenarioFailure("the phone under test did not start: \(error)")
        }
        let reader = Task {
            for await line in running.outputLines { watch.append(line) }
            watch.end()
        }
        let conversation = PhoneConversation(
            subject: subject,
            context: context,
            key: key,
            url: url,
            adverts: adverts,
            advertPort: listener?.port ?? 0,
            watch: watch
        )
        let result: Result<T, any Error>
        do { result = .success(try await body(conversation)) } catch { result = .failure(error) }
        await conversation.connection?.close()
        _ = await running.stop()
        reader.cancel()
        await listener?.close()
        return try result.get()
    }

    /// The `FIDO:/` URL for `key` and `variant` (Chromium `qr::Encode`, plus the variant's changes).
    static func qrURL(key: QRGeneratorKey, variant: PhoneQRVariant) -> String {
        var map = CBORMap()
        map[0] = .byteString(key.privateKey.publicKey.compressedRepresentation)
        map[1] = .byteString(key.secret.bytes)
        map[2] = .integer(Int64(CableConstants.knownAssignedDomainCount))
        map[3] = .integer(Int64(Date.now.timeIntervalSince1970))
        if let linking = variant.linking { map[4] = .bool(linking) }
        map[5] = .textString(variant.requestType)
        if variant.unknownKeys {
            map[7] = .textString("unknown")
            map[65] = .array([.integer(1), .byteString([0xFF])])
            map["x-conformance"] = .map(CBORMap(uniqueKeysWithValues: [(.integer(1), .bool(true))]))
        }
        return QRCodePayload.urlPrefix + DigitEncoding.encode(CBORValue.map(map).encoded)
    }

    // MARK: - Time

    /// Time left before the scenario's deadline, less a margin (a quarter, at most 2 s, as the relay
    /// suite's) so that on a loaded machine too the judge's own wait ends first and names what was
    /// missing, rather than the engine's bare "timed out".
    var remaining: Duration {
        let margin = min(Duration.seconds(2), self.context.timeout / 4)
        return max(self.context.deadline - ContinuousClock.now - margin, .zero)
    }

    /// The shorter of `limit` and the time left.
    func budget(_ limit: Duration) -> Duration { min(limit, self.remaining) }

    static func seconds(_ d: Duration) -> String {
        let (s, a) = d.components
        return String(format: "%.1fs", Double(s) + Double(a) / 1e18)
    }

    // MARK: - Advert

    /// Waits for the first advert on the bus that decrypts with this QR code's EID key (tag and block;
    /// the plaintext is not validated here). Ends early when the phone exits.
    @discardableResult
    func awaitAdvert() async throws -> CapturedAdvert {
        if let advert = self.advert { return advert }
        let eidKey = self.key.secret.eidKey
        let stream = self.adverts
        let watch = self.watch
        let strangers = LockedValue(0)
        let wait = self.remaining
        let outcome: AdvertOutcome
        do {
            outcome = try await withDeadline(wait, timeoutError: AdvertTimeout()) {
                try await withThrowingTaskGroup(of: AdvertOutcome.self) { group in
                    group.addTask {
                        for await datagram in stream {
                            if let captured = Self.capture(datagram, key: eidKey) { return .found(captured) }
                            strangers.withLock { $0 += 1 }
                        }
                        return .busClosed
                    }
                    group.addTask {
                        while !watch.ended { try await Task.sleep(for: .milliseconds(50)) }
                        // An advert sent just before the phone ended may still be on its way.
                        try await Task.sleep(for: .milliseconds(300))
                        return .exited
                    }
                    defer { group.cancelAll() }
                    return try await group.next() ?? .busClosed
                }
            }
        } catch is AdvertTimeout {
            outcome = .timedOut
        }
        let others = strangers.withLock { $0 }
        let seen =
            others == 0
            ? "no \(self.subject.radio == nil ? "datagram" : "advert") arrived"
            : "\(others) \(self.subject.radio == nil ? "datagram" : "advert")(s) arrived, none decrypting with the EID key"
        switch outcome {
        case .found(let captured):
            self.advert = captured
            return captured
        case .exited:
            throw ScenarioFailure(
                "the phone ended before sending an advert this QR code's EID key decrypts (\(seen); its output: \(self.watch.tail))"
            )
        case .timedOut, .busClosed:
            throw ScenarioFailure(
                "no advert decrypting with the QR code's EID key reached \(self.advertSource) within \(Self.seconds(wait)) (\(seen))"
            )
        }
    }

    /// Where the kit listened for adverts, for failure details.
    var advertSource: String {
        if let radio = self.subject.radio { return "the kit's radio (\(radio.name))" }
        return "\(self.subject.advertHost):\(self.advertPort)"
    }

    // MARK: - Tunnel

    /// The tunnel service to meet the phone at: `--tunnel`, else the one its advert names
    /// (`wss://<domain>`, the desktop role's rule, `WebSocketTunnelConnector`).
    func tunnelService() async throws -> TunnelServiceURL {
        if let fixed = self.subject.tunnel { return fixed }
        let advert = try await self.awaitAdvert()
        return try Self.tunnelService(named: advert.domainID)
    }

    /// The service a desktop without a fixed tunnel service uses for `domainID`.
    static func tunnelService(named domainID: TunnelServiceDomainID) throws -> TunnelServiceURL {
        do {
            return try WebSocketTunnelConnector(fixedService: nil).service(for: domainID)
        } catch {
            throw ScenarioFailure(
                "the advert names tunnel-service domain ID \(domainID.rawValue), which a desktop cannot turn into a tunnel service (\(error))"
            )
        }
    }

    /// The routing ID the tunnel service assigns, learned by opening (and closing) a tunnel of the kit's own.
    func probeRoutingID() async throws -> RoutingID {
        var rng = SecureRandomNumberGenerator()
        let tunnel = try TunnelID(bytes: rng.bytes(count: TunnelID.byteCount))
        let probe = try await TunnelClient.connect(
            to: try await self.tunnelService(),
            endpoint: .new(tunnel),
            // The whole scenario's budget, not a fixed 10 s: a slow tunnel service makes the
            // scenario slow, and the judge must not call its own connection a timeout first.
            timeout: self.remaining,
            trust: self.subject.tlsTrust
        )
        await probe.close()
        guard let routingID = probe.routingID else {
            throw ScenarioFailure("the tunnel service sent no routing ID for the kit's own probe tunnel")
        }
        return routingID
    }

    /// Joins the tunnel the advert names: `/cable/connect/<routing ID>/<tunnel ID from the QR secret>`.
    @discardableResult
    func connect() async throws -> TunnelConnection {
        if let connection = self.connection { return connection }
        let advert = try await self.awaitAdvert()
        let endpoint = TunnelEndpoint.connect(advert.routingID, self.key.secret.tunnelID)
        let service = try await self.tunnelService()
        do {
            let connection = try await TunnelClient.connect(
                to: service,
                endpoint: endpoint,
                timeout: self.remaining,
                trust: self.subject.tlsTrust
            )
            self.connection = connection
            return connection
        } catch {
            throw ScenarioFailure(
                "joining \(endpoint.path) at \(service) failed (\(error)): the phone did not open /cable/new/<tunnel ID derived from the QR secret> there, or its advert names another routing ID"
            )
        }
    }

    /// The next message from the phone within `limit` (and the scenario's deadline).
    func next(within limit: Duration) async -> TunnelEvent {
        guard let connection = self.connection else { return .closed }
        do {
            let message = try await withDeadline(self.budget(limit), timeoutError: TunnelWaitTimeout()) {
                try await connection.receive()
            }
            return message.map { .message($0) } ?? .closed
        } catch is TunnelWaitTimeout {
            return .timedOut
        } catch {
            return .closed
        }
    }

    /// The PSK for the advert the phone sent (derived from its raw plaintext, valid or not).
    func psk() async throws -> [UInt8] {
        let advert = try await self.awaitAdvert()
        return KeyDerivation.derive(
            secret: self.key.secret.bytes,
            salt: advert.plaintext,
            purpose: .psk,
            outputByteCount: PreSharedKey.byteCount
        )
    }

    /// Runs the handshake: sends message 1, checks the response's size and that it completes KNpsk0.
    func establishTunnel() async throws {
        if self.crypter != nil { return }
        let psk = try await self.psk()
        let connection = try await self.connect()
        var handshake = try KitHandshake(psk: psk, identity: self.key.privateKey)
        try await connection.send(handshake.message)
        let response: [UInt8]
        let wait = self.budget(.seconds(10))
        switch await self.next(within: wait) {
        case .message(let message): response = message
        case .closed: throw ScenarioFailure("the phone closed the tunnel instead of answering the handshake")
        case .timedOut: throw ScenarioFailure("no handshake response within \(Self.seconds(wait))")
        }
        self.response = response
        guard response.count == HandshakeMessageSize.message else {
            throw ScenarioFailure(
                "the handshake response is \(response.count) bytes; Chromium's desktop demands exactly 81 (a 65-byte uncompressed point and a 16-byte tag)"
            )
        }
        switch handshake.finish(response) {
        case .success(let crypter): self.crypter = crypter
        case .failure(let failure): throw failure
        }
        self.handshake = handshake
    }

    /// Runs the handshake and reads the first frame, the post-handshake message.
    @discardableResult
    func establish() async throws -> PhoneFrame {
        if let first = self.frames.first { return first }
        try await self.establishTunnel()
        switch await self.next(within: .seconds(10)) {
        case .message(let ciphertext): return self.record(ciphertext)
        case .closed:
            throw ScenarioFailure(
                "the phone closed the tunnel after the handshake without sending the post-handshake message"
            )
        case .timedOut: throw ScenarioFailure("no post-handshake message within 10 s of the handshake")
        }
    }

    private func record(_ ciphertext: [UInt8]) -> PhoneFrame {
        guard let crypter = self.crypter else { preconditionFailure("frames are opened after the handshake") }
        let frame = crypter.open(ciphertext)
        self.frames.append(frame)
        return frame
    }

    /// Pads, seals and sends one frame.
    func send(_ message: [UInt8]) async throws {
        guard let crypter = self.crypter, let connection = self.connection else {
            preconditionFailure("send after the handshake")
        }
        let frame = try crypter.seal(message)
        self.lastSent = frame
        try await connection.send(frame)
    }

    /// Sends bytes exactly as given.
    func sendRaw(_ bytes: [UInt8]) async throws {
        guard let connection = self.connection else { preconditionFailure("send after connecting") }
        try await connection.send(bytes)
    }

    /// Sends a CTAP request and reads frames until the CTAP reply, which it returns (`[status][CBOR]`);
    /// update messages on the way are kept in ``frames``.
    func request(_ ctap: [UInt8], named name: String, within limit: Duration = .seconds(60)) async throws -> [UInt8] {
        try await self.send(TunnelMessage.ctap(ctap).encoded())
        var updates = 0
        while true {
            let wait = self.budget(limit)
            switch await self.next(within: wait) {
            case .message(let ciphertext):
                let frame = self.record(ciphertext)
                guard let message = frame.message else {
                    throw ScenarioFailure(frame.openingProblem ?? "a frame's padding count byte exceeds its length")
                }
                switch message.first {
                case 1: return Array(message.dropFirst())
                case 2:
                    // Bounded: a phone that floods updates instead of answering is judged, not followed.
                    updates += 1
                    guard updates <= Self.maxUpdatesInARow else {
                        throw ScenarioFailure(
                            "the phone sent \(updates) update messages in a row instead of answering \(name)"
                        )
                    }
                default:
                    throw ScenarioFailure(
                        "the phone sent a frame of type \(message.first.map(String.init) ?? "none") while \(name) was outstanding"
                    )
                }
            case .closed: throw ScenarioFailure("the phone closed the tunnel instead of answering \(name)")
            case .timedOut: throw ScenarioFailure("no reply to \(name) within \(Self.seconds(wait))")
            }
        }
    }

    /// After something the phone must refuse: passes when it closes the tunnel, fails when it answers
    /// (updates the phone sent before it read the offending frame are skipped) or keeps the tunnel open.
    func expectClose(after what: String, within limit: Duration = .seconds(5)) async throws -> String {
        var updates = 0
        while true {
            let wait = self.budget(limit)
            switch await self.next(within: wait) {
            case .closed: return "closed the tunnel after \(what)"
            case .timedOut:
                throw ScenarioFailure(
                    "the phone kept the tunnel open \(Self.seconds(wait)) after \(what); Chromium closes it"
                )
            case .message(let message):
                if let crypter = self.crypter {
                    let frame = crypter.open(message)
                    self.frames.append(frame)
                    updates += 1
                    if frame.message?.first == 2, updates <= Self.maxUpdatesInARow { continue }
                }
                throw ScenarioFailure(
                    "the phone answered \(what) (a message of \(message.count) bytes) instead of closing the tunnel"
                )
            }
        }
    }

    static func capture(_ datagram: [UInt8], key: EIDKey) -> CapturedAdvert? {
        guard let data = try? AdvertisingData(bytes: datagram) else { return nil }
        for uuid in [AdvertisingData.legacyGoogleServiceUUID, AdvertisingData.fidoServiceUUID] {
            guard let serviceData = data.serviceData(for: uuid), serviceData.count >= CableConstants.advertSize,
                let plaintext = try? AdvertCrypter.decryptUnvalidated(
                    serviceData.prefix(CableConstants.advertSize),
                    key: key
                )
            else { continue }
            return CapturedAdvert(
                datagram: datagram,
                serviceUUID: uuid,
                serviceDataCount: serviceData.count,
                plaintext: plaintext
            )
        }
        return nil
    }
}

private struct AdvertTimeout: Error {}
private struct TunnelWaitTimeout: Error {}

private enum AdvertOutcome: Sendable {
    case found(CapturedAdvert)
    case exited, timedOut, busClosed
}
