import CableCrypto
@_spi(Fuzzing) import CableProtocol
import CableTestSupport
import Testing

/// The tunnel crypter's rules: counters, the sequence limit, both constructions and the desktop's
/// first-read fallback, bounds and secrecy. Known answers are in `CableConformanceTests`.
@Suite struct CrypterTests {
    static let desktopWrite = [UInt8](repeating: 0xA1, count: 32)
    static let phoneWrite = [UInt8](repeating: 0xB2, count: 32)

    /// The two ends of a connection: the desktop writes with `desktopWrite`, the phone with `phoneWrite`.
    /// (Two functions, not a pair: a tuple cannot hold a `~Copyable` crypter.)
    static func desktop(_ policy: Crypter.ConstructionPolicy = .fixed(.current)) throws -> Crypter {
        try Crypter(readKey: Self.phoneWrite, writeKey: Self.desktopWrite, policy: policy)
    }

    static func phone(_ policy: Crypter.ConstructionPolicy = .fixed(.current)) throws -> Crypter {
        try Crypter(readKey: Self.desktopWrite, writeKey: Self.phoneWrite, policy: policy)
    }

    @Test(arguments: [Crypter.Construction.current, .legacy])
    func everyLengthRoundTripsWithPaddedCiphertextLength(_ construction: Crypter.Construction) throws {
        var desktop = try Self.desktop(.fixed(construction))
        var phone = try Self.phone(.fixed(construction))
        for length in Array(0...100) + [511, 512, 4096, 65_536] {
            let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let ciphertext = try desktop.seal(message)
            #expect(ciphertext.count == MessagePadding.paddedCount(for: length) + 16)
            #expect(ciphertext.count % 32 == 16)
            #expect(try phone.open(ciphertext) == message)
        }
    }

    @Test func sequenceNumbersAreSeparatePerDirection() throws {
        var desktop = try Self.desktop()
        var phone = try Self.phone()
        for _ in 0..<3 { _ = try phone.open(try desktop.seal([1])) }
        _ = try desktop.open(try phone.seal([2]))
        #expect(desktop.writeSequenceNumber == 3)
        #expect(desktop.readSequenceNumber == 1)
        #expect(phone.writeSequenceNumber == 1)
        #expect(phone.readSequenceNumber == 3)
    }

    @Test func theSameMessageEncryptsDifferentlyEachTime() throws {
        var desktop = try Self.desktop()
        #expect(try desktop.seal([7, 7]) != (try desktop.seal([7, 7])))
    }

    @Test func aRejectedMessageDoesNotAdvanceTheReadCounter() throws {
        var desktop = try Self.desktop()
        var phone = try Self.phone()
        let genuine = try desktop.seal([1, 2, 3])
        var tampered = genuine
        tampered[5] ^= 0x40
        #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) { try phone.open(tampered) }
        #expect(phone.readSequenceNumber == 0)
        #expect(try phone.open(genuine) == [1, 2, 3])
    }

    @Test func aReplayedMessageIsRejected() throws {
        var desktop = try Self.desktop()
        var phone = try Self.phone()
        let ciphertext = try desktop.seal([1])
        _ = try phone.open(ciphertext)
        #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) { try phone.open(ciphertext) }
    }

    @Test func reorderedMessagesAreRejectedUntilTheyArriveInOrder() throws {
        var desktop = try Self.desktop()
        var phone = try Self.phone()
        let first = try desktop.seal([1])
        let second = try desktop.seal([2])
        #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) { try phone.open(second) }
        #expect(try phone.open(first) == [1])
        #expect(try phone.open(second) == [2])
    }

    @Test func aMessageIsBoundToItsDirection() throws {
        var desktop = try Self.desktop()
        let ciphertext = try desktop.seal([1])
        // Reflected back to its sender: the read key is the other direction's.
        #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) { try desktop.open(ciphertext) }
    }

    // MARK: - Sequence limit (Chromium kMaxSequence = 2^24 − 1)

    @Test func theLastSequenceNumberWorksAndTheNextIsRefused() throws {
        let limit = Crypter.maxSequenceNumber
        #expect(limit == (1 << 24) - 1)
        var desktop = Crypter(
            readKey: SecretBytes(Self.phoneWrite),
            writeKey: SecretBytes(Self.desktopWrite),
            writeSequenceNumber: limit
        )
        var phone = Crypter(
            readKey: SecretBytes(Self.desktopWrite),
            writeKey: SecretBytes(Self.phoneWrite),
            readSequenceNumber: limit
        )
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
        var desktop = try Self.desktop(.fixed(.current))
        var phone = try Self.phone(.fixed(.legacy))
        #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) { try desktop.open(phone.seal([1])) }
        #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) { try phone.open(desktop.seal([1])) }
    }

    /// At sequence number 0 both nonces are zero; only the additional data (`02` or none) differs.
    @Test func atSequenceZeroOnlyTheAdditionalDataDiffers() throws {
        var legacy = try Crypter(readKey: Self.phoneWrite, writeKey: Self.desktopWrite, policy: .fixed(.legacy))
        let ciphertext = try legacy.seal([4])
        let opened = try AES256GCM.open(
            ciphertext,
            key: Self.desktopWrite,
            nonce: [UInt8](repeating: 0, count: 12),
            additionalData: [2]
        )
        #expect(try MessagePadding.unpad(opened) == [4])
    }

    @Test(arguments: [Crypter.Construction.current, .legacy])
    func theDesktopFallsBackOnAFailedFirstReadAndSwitchesBothDirections(
        _ phoneConstruction: Crypter.Construction
    )
        throws
    {
        var desktop = try Self.desktop(.fallbackOnFirstRead(initial: phoneConstruction.other))
        var phone = try Self.phone(.fixed(phoneConstruction))
        #expect(desktop.construction == phoneConstruction.other)
        #expect(try desktop.open(phone.seal([1])) == [1])
        #expect(desktop.construction == phoneConstruction)
        #expect(try phone.open(desktop.seal([2])) == [2])
        #expect(try desktop.open(phone.seal([3])) == [3])
    }

    @Test func theFallbackIsOnlyTriedOnTheFirstRead() throws {
        var desktop = try Self.desktop(.fallbackOnFirstRead(initial: .current))
        var phone = try Self.phone(.fixed(.current))
        _ = try desktop.open(phone.seal([1]))
        var legacyPhone = Crypter(
            readKey: SecretBytes(Self.desktopWrite),
            writeKey: SecretBytes(Self.phoneWrite),
            policy: .fixed(.legacy),
            writeSequenceNumber: 1
        )
        #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) {
            try desktop.open(legacyPhone.seal([2]))
        }
        #expect(desktop.construction == .current)
    }

    @Test func theFallbackIsTriedOnlyOnce() throws {
        var desktop = try Self.desktop(.fallbackOnFirstRead(initial: .current))
        let garbage = [UInt8](repeating: 9, count: 48)
        #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) { try desktop.open(garbage) }
        #expect(desktop.construction == .legacy)
        #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) { try desktop.open(garbage) }
        #expect(desktop.construction == .legacy, "no second switch")
        #expect(desktop.readSequenceNumber == 0)
    }

    @Test func aFixedConstructionNeverSwitches() throws {
        var desktop = try Self.desktop(.fixed(.current))
        var phone = try Self.phone(.fixed(.legacy))
        #expect(throws: CableProtocolError.self) { try desktop.open(phone.seal([1])) }
        #expect(desktop.construction == .current)
    }

    // MARK: - Malformed input

    @Test func keysMustBe32Bytes() {
        for length in [0, 16, 31, 33, 64] {
            #expect(throws: CableProtocolError(.crypterInvalidKeyLength, "")) {
                _ = try Crypter(readKey: [UInt8](repeating: 1, count: length), writeKey: Self.desktopWrite)
            }
            #expect(throws: CableProtocolError(.crypterInvalidKeyLength, "")) {
                _ = try Crypter(readKey: Self.desktopWrite, writeKey: [UInt8](repeating: 1, count: length))
            }
        }
    }

    @Test func ciphertextsShorterThanATagAreRejected() throws {
        var phone = try Self.phone()
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
        var desktop = try Self.desktop()
        var phone = try Self.phone()
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
        var phone = try Self.phone()
        let empty = try AES256GCM.seal([], key: Self.desktopWrite, nonce: zeroNonce, additionalData: [])
        #expect(throws: CableProtocolError(.crypterEmptyPlaintext, "")) { try phone.open(empty) }
        #expect(phone.readSequenceNumber == 1)
        let overlong = try AES256GCM.seal([0x00, 0x05], key: Self.desktopWrite, nonce: oneNonce, additionalData: [])
        #expect(throws: CableProtocolError(.crypterInvalidPadding, "")) { try phone.open(overlong) }
    }

    /// Random ciphertexts of every small length never crash and never decrypt.
    @Test func randomCiphertextsAreRejected() throws {
        var rng = DeterministicRNG(seed: 0xC0FFEE)
        var phone = try Self.phone(.fallbackOnFirstRead(initial: .current))
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
            let ordered = stream.sorted {
                ($0.input["sequenceNumber"]?.int ?? 0) < ($1.input["sequenceNumber"]?.int ?? 0)
            }
            let first = try #require(ordered.first)
            let key = try #require(first.input["key"]).bytes
            let construction: Crypter.Construction =
                first.input["construction"]?.string == "legacy" ? .legacy : .current
            let start = UInt32(try #require(first.input["sequenceNumber"]?.int))
            var sender = Crypter(
                readKey: SecretBytes([UInt8](repeating: 0xEE, count: 32)),
                writeKey: SecretBytes(key),
                policy: .fixed(construction),
                writeSequenceNumber: start
            )
            var receiver = Crypter(
                readKey: SecretBytes(key),
                writeKey: SecretBytes([UInt8](repeating: 0xEE, count: 32)),
                policy: .fixed(construction),
                readSequenceNumber: start
            )
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

    // MARK: - A sequence number seals once (Crypter is ~Copyable: no copy can fork the counter)

    /// The nonce for `sequenceNumber`, written out from hybrid-protocol.md §7.1 rather than taken from the
    /// crypter, so the reference opener below is independent of the code under test.
    static func referenceNonce(_ sequenceNumber: UInt32, _ construction: Crypter.Construction) -> [UInt8] {
        let counter = [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: sequenceNumber >> $0) }  // big-endian
        switch construction {
        case .current: return [UInt8](repeating: 0, count: 8) + counter
        case .legacy: return counter.reversed() + [UInt8](repeating: 0, count: 8)
        }
    }

    /// Seals the same message many times through one crypter; an independent one-shot AES-GCM opener,
    /// keyed with the write key, opens message `i` under the nonce for sequence number `i` and under no
    /// other nearby one. So every sequence number was used for exactly one seal, in order.
    @Test(arguments: [Crypter.Construction.current, .legacy])
    func everySealUsesItsOwnSequenceNumberExactlyOnce(_ construction: Crypter.Construction) throws {
        var desktop = try Self.desktop(.fixed(construction))
        let additionalData: [UInt8] = construction == .legacy ? [2] : []
        let count: UInt32 = 64
        var ciphertexts: [[UInt8]] = []
        for _ in 0..<count { ciphertexts.append(try desktop.seal([0x42, 0x42])) }
        #expect(Set(ciphertexts).count == Int(count), "one plaintext, so equal ciphertexts would mean a reused nonce")
        for (index, ciphertext) in ciphertexts.enumerated() {
            let sequenceNumber = UInt32(index)
            let opened = try AES256GCM.open(
                ciphertext,
                key: Self.desktopWrite,
                nonce: Self.referenceNonce(sequenceNumber, construction),
                additionalData: additionalData
            )
            #expect(try MessagePadding.unpad(opened) == [0x42, 0x42])
            for other in [sequenceNumber &+ 1, sequenceNumber &- 1, sequenceNumber &+ 2] where other < count {
                #expect(throws: CryptoError.self, "message \(index) also opens as \(other)") {
                    _ = try AES256GCM.open(
                        ciphertext,
                        key: Self.desktopWrite,
                        nonce: Self.referenceNonce(other, construction),
                        additionalData: additionalData
                    )
                }
            }
        }
        #expect(desktop.writeSequenceNumber == count)
    }

    /// A refused seal (too large) consumes no sequence number and repeats none: the next message is sealed
    /// under the very next number.
    @Test func aRefusedSealNeitherSkipsNorRepeatsASequenceNumber() throws {
        var desktop = try Self.desktop()
        let first = try desktop.seal([1])
        #expect(throws: CableProtocolError(.crypterMessageTooLarge, "")) {
            _ = try desktop.seal([UInt8](repeating: 0, count: TunnelServiceProtocol.maxMessageSize))
        }
        let second = try desktop.seal([2])
        for (sequenceNumber, ciphertext, message) in [(UInt32(0), first, [UInt8(1)]), (1, second, [2])] {
            let opened = try AES256GCM.open(
                ciphertext,
                key: Self.desktopWrite,
                nonce: Self.referenceNonce(sequenceNumber, .current),
                additionalData: []
            )
            #expect(try MessagePadding.unpad(opened) == message)
        }
    }

    /// At the limit the counter neither wraps nor moves: every further seal is refused, so sequence
    /// number 0 (or any other) can never come round again.
    @Test func anExhaustedCounterRefusesEverySealAndNeverWraps() throws {
        var desktop = Crypter(
            readKey: SecretBytes(Self.phoneWrite),
            writeKey: SecretBytes(Self.desktopWrite),
            writeSequenceNumber: Crypter.maxSequenceNumber
        )
        let last = try desktop.seal([9])
        let opened = try AES256GCM.open(
            last,
            key: Self.desktopWrite,
            nonce: Self.referenceNonce(Crypter.maxSequenceNumber, .current),
            additionalData: []
        )
        #expect(try MessagePadding.unpad(opened) == [9])
        for _ in 0..<3 {
            #expect(throws: CableProtocolError(.crypterCounterExhausted, "")) { _ = try desktop.seal([9]) }
            #expect(desktop.writeSequenceNumber == Crypter.maxSequenceNumber + 1)
        }
    }

    /// The desktop's first-read fallback switches the construction of both directions, but never resets
    /// a counter: after the switch, writes carry on from where they were.
    @Test func theFallbackSwitchDoesNotResetTheWriteCounter() throws {
        var desktop = try Self.desktop(.fallbackOnFirstRead(initial: .current))
        var phone = try Self.phone(.fixed(.legacy))
        let early = try desktop.seal([1])  // sequence 0, current construction
        #expect(try desktop.open(phone.seal([0])) == [0])  // switches to legacy
        #expect(desktop.construction == .legacy)
        let late = try desktop.seal([2])
        #expect(desktop.writeSequenceNumber == 2)
        let opened = try AES256GCM.open(
            late,
            key: Self.desktopWrite,
            nonce: Self.referenceNonce(1, .legacy),
            additionalData: [2]
        )
        #expect(try MessagePadding.unpad(opened) == [2])
        #expect(early != late)
    }

    // MARK: - Secrets

    @Test func descriptionShowsCountersButNoKey() throws {
        var desktop = try Self.desktop()
        _ = try desktop.seal([1])
        let text = desktop.description
        #expect(text.contains("write: 1"))
        expectRedacted(text, hiding: [Self.desktopWrite, Self.phoneWrite])
        let forged = [UInt8](repeating: 0xA1, count: 40)
        let error = try #require(throws: CableProtocolError.self) { try desktop.open(forged) }
        expectRedacted(String(describing: error), hiding: [Self.desktopWrite, Self.phoneWrite])
    }
}
