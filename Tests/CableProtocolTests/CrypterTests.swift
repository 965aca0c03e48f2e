import CableCrypto
import CableProtocol
import CableTestSupport
import Testing

/// The tunnel crypter's rules: counters, the sequence limit, both constructions and the desktop's
/// first-read fallback, bounds and secrecy. Known answers are in `CableConformanceTests`.
@Suite struct CrypterTests {
    static let desktopWrite = [UInt8](repeating: 0xA1, count: 32)
    static let phoneWrite = [UInt8](repeating: 0xB2, count: 32)

    /// A connected pair: the desktop writes with `desktopWrite`, the phone with `phoneWrite`.
    static func pair(
        desktop: Crypter.ConstructionPolicy = .fixed(.current), phone: Crypter.ConstructionPolicy = .fixed(.current)
    ) throws -> (desktop: Crypter, phone: Crypter) {
        (
            try Crypter(readKey: Self.phoneWrite, writeKey: Self.desktopWrite, policy: desktop),
            try Crypter(readKey: Self.desktopWrite, writeKey: Self.phoneWrite, policy: phone)
        )
    }

    @Test(arguments: [Crypter.Construction.current, .legacy])
    func everyLengthRoundTripsWithPaddedCiphertextLength(_ construction: Crypter.Construction) throws {
        var (desktop, phone) = try Self.pair(desktop: .fixed(construction), phone: .fixed(construction))
        for length in Array(0...100) + [511, 512, 4096, 65_536] {
            let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let ciphertext = try desktop.seal(message)
            #expect(ciphertext.count == MessagePadding.paddedCount(for: length) + 16)
            #expect(ciphertext.count % 32 == 16)
            #expect(try phone.open(ciphertext) == message)
        }
    }

    @Test func sequenceNumbersAreSeparatePerDirection() throws {
        var (desktop, phone) = try Self.pair()
        for _ in 0..<3 { _ = try phone.open(try desktop.seal([1])) }
        _ = try desktop.open(try phone.seal([2]))
        #expect(desktop.writeSequenceNumber == 3)
        #expect(desktop.readSequenceNumber == 1)
        #expect(phone.writeSequenceNumber == 1)
        #expect(phone.readSequenceNumber == 3)
    }

    @Test func theSameMessageEncryptsDifferentlyEachTime() throws {
        var (desktop, _) = try Self.pair()
        #expect(try desktop.seal([7, 7]) != (try desktop.seal([7, 7])))
    }

    @Test func aRejectedMessageDoesNotAdvanceTheReadCounter() throws {
        var (desktop, phone) = try Self.pair()
        let genuine = try desktop.seal([1, 2, 3])
        var tampered = genuine
        tampered[5] ^= 0x40
        #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) { try phone.open(tampered) }
        #expect(phone.readSequenceNumber == 0)
        #expect(try phone.open(genuine) == [1, 2, 3])
    }

    @Test func aReplayedMessageIsRejected() throws {
        var (desktop, phone) = try Self.pair()
        let ciphertext = try desktop.seal([1])
        _ = try phone.open(ciphertext)
        #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) { try phone.open(ciphertext) }
    }

    @Test func reorderedMessagesAreRejectedUntilTheyArriveInOrder() throws {
        var (desktop, phone) = try Self.pair()
        let first = try desktop.seal([1])
        let second = try desktop.seal([2])
        #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) { try phone.open(second) }
        #expect(try phone.open(first) == [1])
        #expect(try phone.open(second) == [2])
    }

    @Test func aMessageIsBoundToItsDirection() throws {
        var (desktop, _) = try Self.pair()
        let ciphertext = try desktop.seal([1])
        // Reflected back to its sender: the read key is the other direction's.
        #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) { try desktop.open(ciphertext) }
    }

    // MARK: - Sequence limit (Chromium kMaxSequence = 2^24 − 1)

    @Test func theLastSequenceNumberWorksAndTheNextIsRefused() throws {
        let limit = Crypter.maxSequenceNumber
        #expect(limit == (1 << 24) - 1)
        var desktop = Crypter(
            readKey: SecretBytes(Self.phoneWrite), writeKey: SecretBytes(Self.desktopWrite), writeSequenceNumber: limit)
        var phone = Crypter(
            readKey: SecretBytes(Self.desktopWrite), writeKey: SecretBytes(Self.phoneWrite), readSequenceNumber: limit)
        let last = try desktop.seal([1])
        #expect(try phone.open(last) == [1])
        #expect(throws: CableProtocolError(.crypterCounterExhausted, "")) { try desktop.seal([2]) }
        #expect(desktop.writeSequenceNumber == limit + 1)
        // The read side has passed the limit too: it refuses anything, before trying to decrypt.
        #expect(phone.readSequenceNumber == limit + 1)
        #expect(throws: CableProtocolError(.crypterCounterExhausted, "")) { try phone.open(last) }
    }

    // MARK: - Constructions

    @Test func theConstructionsDoNotInteroperate() throws {
        var (desktop, phone) = try Self.pair(desktop: .fixed(.current), phone: .fixed(.legacy))
        #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) { try desktop.open(phone.seal([1])) }
        #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) { try phone.open(desktop.seal([1])) }
    }

    /// At sequence number 0 both nonces are zero; only the additional data (`02` or none) differs.
    @Test func atSequenceZeroOnlyTheAdditionalDataDiffers() throws {
        var legacy = try Crypter(readKey: Self.phoneWrite, writeKey: Self.desktopWrite, policy: .fixed(.legacy))
        let ciphertext = try legacy.seal([4])
        let opened = try AES256GCM.open(
            ciphertext, key: Self.desktopWrite, nonce: [UInt8](repeating: 0, count: 12), additionalData: [2])
        #expect(try MessagePadding.unpad(opened) == [4])
    }

    @Test(arguments: [Crypter.Construction.current, .legacy])
    func theDesktopFallsBackOnAFailedFirstReadAndSwitchesBothDirections(_ phoneConstruction: Crypter.Construction)
        throws
    {
        var (desktop, phone) = try Self.pair(
            desktop: .fallbackOnFirstRead(initial: phoneConstruction.other), phone: .fixed(phoneConstruction))
        #expect(desktop.construction == phoneConstruction.other)
        #expect(try desktop.open(phone.seal([1])) == [1])
        #expect(desktop.construction == phoneConstruction)
        #expect(try phone.open(desktop.seal([2])) == [2])
        #expect(try desktop.open(phone.seal([3])) == [3])
    }

    @Test func theFallbackIsOnlyTriedOnTheFirstRead() throws {
        var (desktop, phone) = try Self.pair(desktop: .fallbackOnFirstRead(initial: .current), phone: .fixed(.current))
        _ = try desktop.open(phone.seal([1]))
        var legacyPhone = Crypter(
            readKey: SecretBytes(Self.desktopWrite), writeKey: SecretBytes(Self.phoneWrite), policy: .fixed(.legacy),
            writeSequenceNumber: 1)
        #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) {
            try desktop.open(legacyPhone.seal([2]))
        }
        #expect(desktop.construction == .current)
    }

    @Test func theFallbackIsTriedOnlyOnce() throws {
        var (desktop, _) = try Self.pair(desktop: .fallbackOnFirstRead(initial: .current))
        let garbage = [UInt8](repeating: 9, count: 48)
        #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) { try desktop.open(garbage) }
        #expect(desktop.construction == .legacy)
        #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) { try desktop.open(garbage) }
        #expect(desktop.construction == .legacy, "no second switch")
        #expect(desktop.readSequenceNumber == 0)
    }

    @Test func aFixedConstructionNeverSwitches() throws {
        var (desktop, phone) = try Self.pair(desktop: .fixed(.current), phone: .fixed(.legacy))
        #expect(throws: CableProtocolError.self) { try desktop.open(phone.seal([1])) }
        #expect(desktop.construction == .current)
    }

    // MARK: - Malformed input

    @Test func keysMustBe32Bytes() {
        for length in [0, 16, 31, 33, 64] {
            #expect(throws: CableProtocolError(.crypterInvalidKeyLength, "")) {
                try Crypter(readKey: [UInt8](repeating: 1, count: length), writeKey: Self.desktopWrite)
            }
            #expect(throws: CableProtocolError(.crypterInvalidKeyLength, "")) {
                try Crypter(readKey: Self.desktopWrite, writeKey: [UInt8](repeating: 1, count: length))
            }
        }
    }

    @Test func ciphertextsShorterThanATagAreRejected() throws {
        var (_, phone) = try Self.pair()
        for length in 0..<16 {
            #expect(throws: CableProtocolError(.crypterCiphertextTooShort, "")) {
                try phone.open([UInt8](repeating: 0, count: length))
            }
        }
        // A bare tag authenticates nothing here and must not crash.
        #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) {
            try phone.open([UInt8](repeating: 0, count: 16))
        }
    }

    @Test func messagesLargerThanTheTunnelAreRefused() throws {
        var (desktop, phone) = try Self.pair()
        // The largest message whose padded form plus tag still fits in 1 MiB.
        let largest = (TunnelServiceProtocol.maxMessageSize - 16) / 32 * 32 - 1
        #expect(try desktop.seal([UInt8](repeating: 0, count: largest)).count <= TunnelServiceProtocol.maxMessageSize)
        #expect(throws: CableProtocolError(.crypterMessageTooLarge, "")) {
            try desktop.seal([UInt8](repeating: 0, count: largest + 1))
        }
        #expect(throws: CableProtocolError(.crypterMessageTooLarge, "")) {
            try phone.open([UInt8](repeating: 0, count: TunnelServiceProtocol.maxMessageSize + 1))
        }
    }

    /// A ciphertext that authenticates but decrypts to nothing, or to a padding count larger than the
    /// plaintext, is refused with its own code (and, as in Chromium, the counter has moved on).
    @Test func authenticPlaintextsWithBadPaddingAreRejected() throws {
        let zeroNonce = [UInt8](repeating: 0, count: 12)
        let oneNonce = [UInt8](repeating: 0, count: 11) + [1]
        var (_, phone) = try Self.pair()
        let empty = try AES256GCM.seal([], key: Self.desktopWrite, nonce: zeroNonce, additionalData: [])
        #expect(throws: CableProtocolError(.crypterEmptyPlaintext, "")) { try phone.open(empty) }
        #expect(phone.readSequenceNumber == 1)
        let overlong = try AES256GCM.seal([0x00, 0x05], key: Self.desktopWrite, nonce: oneNonce, additionalData: [])
        #expect(throws: CableProtocolError(.crypterInvalidPadding, "")) { try phone.open(overlong) }
    }

    /// Random ciphertexts of every small length never crash and never decrypt.
    @Test func randomCiphertextsAreRejected() throws {
        var rng = DeterministicRNG(seed: 0xC0FFEE)
        var (_, phone) = try Self.pair(phone: .fallbackOnFirstRead(initial: .current))
        for _ in 0..<500 {
            let length = Int.random(in: 0...200, using: &rng)
            let error = try #require(throws: CableProtocolError.self) { try phone.open(rng.bytes(count: length)) }
            #expect([.crypterCiphertextTooShort, .crypterAuthenticationFailed].contains(error.code))
        }
        #expect(phone.readSequenceNumber == 0)
    }

    // MARK: - Keyed contexts (one OpenSSL context per direction, reused for every message)

    /// The vectors of `crypter.json` that share a key and construction, in sequence order, pushed through
    /// one crypter pair: each message reuses the keyed context of the one before and must still match.
    @Test func consecutiveMessagesThroughOneCrypterMatchTheVectors() throws {
        let file = SpecVectorFile.load("crypter")
        let streams = Dictionary(grouping: file.vectors.filter(\.isValid)) { vector in
            "\(vector.input["key"]?.string ?? "")/\(vector.input["construction"]?.string ?? "")"
        }.values.filter { $0.count > 1 }
        #expect(!streams.isEmpty, "crypter.json must have consecutive messages under one key")
        for stream in streams {
            let ordered = stream.sorted { ($0.input["sequenceNumber"]?.int ?? 0) < ($1.input["sequenceNumber"]?.int ?? 0) }
            let first = try #require(ordered.first)
            let key = try #require(first.input["key"]).bytes
            let construction: Crypter.Construction = first.input["construction"]?.string == "legacy" ? .legacy : .current
            let start = UInt32(try #require(first.input["sequenceNumber"]?.int))
            var sender = Crypter(
                readKey: SecretBytes([UInt8](repeating: 0xEE, count: 32)), writeKey: SecretBytes(key),
                policy: .fixed(construction), writeSequenceNumber: start)
            var receiver = Crypter(
                readKey: SecretBytes(key), writeKey: SecretBytes([UInt8](repeating: 0xEE, count: 32)),
                policy: .fixed(construction), readSequenceNumber: start)
            for (offset, vector) in ordered.enumerated() {
                #expect(vector.input["sequenceNumber"]?.int == Int(start) + offset, "\(vector.id): gap in the stream")
                let plaintext = try #require(vector.input["plaintext"]).bytes
                let ciphertext = try #require(vector.expected?["ciphertext"]).bytes
                #expect(hexString(try sender.seal(plaintext)) == hexString(ciphertext), "\(vector.id)")
                // A forgery first: the failed tag check must leave the keyed context fit for the real one.
                var forged = ciphertext
                forged[0] ^= 1
                #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) { try receiver.open(forged) }
                #expect(try receiver.open(ciphertext) == plaintext, "\(vector.id)")
            }
        }
    }

    /// A copy shares the keyed contexts but not the counters: each copy goes on from where it was copied.
    @Test func aCopyMadeAfterUseKeepsItsOwnCounters() throws {
        var (desktop, phone) = try Self.pair()
        _ = try phone.open(try desktop.seal([0]))
        var desktopCopy = desktop
        var phoneCopy = phone
        let fromCopy = try desktopCopy.seal([1])
        let fromOriginal = try desktop.seal([1])
        #expect(fromCopy == fromOriginal, "same key, same sequence number 1")
        #expect(try phoneCopy.open(fromCopy) == [1])
        #expect(try phone.open(fromOriginal) == [1])
        #expect(desktopCopy.writeSequenceNumber == 2 && desktop.writeSequenceNumber == 2)
        #expect(phoneCopy.readSequenceNumber == 2 && phone.readSequenceNumber == 2)
    }

    /// Copies of one crypter pair used from many tasks at once: the shared keyed contexts are locked, so
    /// every copy produces exactly the ciphertexts a single sequential crypter does (run under TSan in CI).
    @Test func copiesUsedFromManyTasksProduceTheSequentialCiphertexts() async throws {
        var (desktop, phone) = try Self.pair()
        _ = try phone.open(try desktop.seal([0]))  // the copies below share these keyed contexts
        let messages = (0..<30).map { [UInt8](repeating: UInt8($0), count: $0 * 37) }
        var reference = desktop
        let expected = try messages.map { try reference.seal($0) }
        let (sender, receiver) = (desktop, phone)

        let failures = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    var (sender, receiver) = (sender, receiver)
                    var failures = 0
                    for (message, ciphertext) in zip(messages, expected) {
                        do {
                            if try sender.seal(message) != ciphertext { failures += 1 }
                            if try receiver.open(ciphertext) != message { failures += 1 }
                        } catch {
                            failures += 1
                        }
                    }
                    return failures
                }
            }
            return await group.reduce(0, +)
        }
        #expect(failures == 0)
    }

    // MARK: - Secrets

    @Test func descriptionShowsCountersButNoKey() throws {
        var (desktop, _) = try Self.pair()
        _ = try desktop.seal([1])
        let text = String(describing: desktop)
        #expect(text.contains("write: 1"))
        expectRedacted(text, hiding: [Self.desktopWrite, Self.phoneWrite])
        expectRedacted(String(reflecting: desktop), hiding: [Self.desktopWrite, Self.phoneWrite])
        let forged = [UInt8](repeating: 0xA1, count: 40)
        let error = try #require(throws: CableProtocolError.self) { try desktop.open(forged) }
        expectRedacted(String(describing: error), hiding: [Self.desktopWrite, Self.phoneWrite])
    }
}
