import CableCrypto
import CableTestSupport
import Testing

/// `AES256GCM.Key`: one keyed OpenSSL context per direction, reused for every message. The known answers
/// are the GCM specification's (`Spec/vectors/crypto-aes256-gcm.json`); the reuse rules check that nothing
/// of one message (nonce, hash state, tag, a failed check) leaks into the next.
@Suite("AES256GCM.Key")
struct AES256GCMKeyTests {
    typealias Vector = AES256GCMTests.Vector

    private static func vectors() throws -> [Vector] { try AES256GCMTests.vectors() }

    private static func sealed(_ vector: Vector) -> [UInt8] {
        hex((vector.expected?.ciphertext ?? "") + (vector.expected?.tag ?? ""))
    }

    /// The vectors grouped by key (cases 13/14 and 15/16 of the GCM specification share one), so one
    /// `Key` serves several messages.
    private static func vectorsByKey() throws -> [String: [Vector]] {
        Dictionary(grouping: try Self.vectors(), by: \.input.key)
    }

    // MARK: - Known answers through one reused key

    @Test func oneKeySealsEveryVectorOfItsKeyInAnyOrder() throws {
        let groups = try Self.vectorsByKey()
        #expect(groups.values.contains { $0.count > 1 }, "the file must have vectors sharing a key")
        for (keyHex, group) in groups {
            let key = try AES256GCM.Key(hex(keyHex))
            // Forwards, backwards, then forwards again: each message must start from a clean state.
            for vector in group + group.reversed() + group {
                let output = try key.seal(
                    hex(vector.input.plaintext),
                    nonce: hex(vector.input.nonce),
                    additionalData: hex(vector.input.aad)
                )
                #expect(hexString(output) == hexString(Self.sealed(vector)), "\(vector.id)")
            }
        }
    }

    @Test func oneKeyOpensEveryVectorOfItsKeyInAnyOrder() throws {
        for (keyHex, group) in try Self.vectorsByKey() {
            let key = try AES256GCM.Key(hex(keyHex))
            for vector in group + group.reversed() + group {
                let plaintext = try key.open(
                    Self.sealed(vector),
                    nonce: hex(vector.input.nonce),
                    additionalData: hex(vector.input.aad)
                )
                #expect(hexString(plaintext) == vector.input.plaintext, "\(vector.id)")
            }
        }
    }

    @Test func aKeyFromSecretBytesGivesTheSameAnswers() throws {
        for vector in try Self.vectors() {
            let key = try AES256GCM.Key(SecretBytes(hex(vector.input.key)))
            let output = try key.seal(
                hex(vector.input.plaintext),
                nonce: hex(vector.input.nonce),
                additionalData: hex(vector.input.aad)
            )
            #expect(hexString(output) == hexString(Self.sealed(vector)), "\(vector.id)")
        }
    }

    // MARK: - Failures leave the key usable

    @Test func everyFlippedBitFailsAuthenticationAndTheNextGenuineMessageStillOpens() throws {
        let vector = try #require(try Self.vectors().first { !$0.input.aad.isEmpty })
        let key = try AES256GCM.Key(hex(vector.input.key))
        let nonce = hex(vector.input.nonce)
        let aad = hex(vector.input.aad)
        let sealed = Self.sealed(vector)
        for index in sealed.indices {
            for bit in [0, 7] {
                var tampered = sealed
                tampered[index] ^= 1 << bit
                #expect(throws: CryptoError(.authenticationFailure), "byte \(index) bit \(bit)") {
                    try key.open(tampered, nonce: nonce, additionalData: aad)
                }
                #expect(OpenSSLErrorQueue.isEmpty)
                #expect(hexString(try key.open(sealed, nonce: nonce, additionalData: aad)) == vector.input.plaintext)
            }
        }
    }

    @Test func wrongNonceOrAdditionalDataFailsAndDoesNotStickToTheKey() throws {
        let vector = try #require(try Self.vectors().first { !$0.input.aad.isEmpty })
        let key = try AES256GCM.Key(hex(vector.input.key))
        let nonce = hex(vector.input.nonce)
        let aad = hex(vector.input.aad)
        var otherNonce = nonce
        otherNonce[11] ^= 1
        for (wrongNonce, wrongAAD) in [(otherNonce, aad), (nonce, Array(aad.dropLast())), (nonce, [])] {
            #expect(throws: CryptoError(.authenticationFailure)) {
                try key.open(Self.sealed(vector), nonce: wrongNonce, additionalData: wrongAAD)
            }
            let resealed = try key.seal(hex(vector.input.plaintext), nonce: nonce, additionalData: aad)
            #expect(resealed == Self.sealed(vector))
        }
    }

    @Test func randomInputFailsAuthentication() throws {
        var generator = DeterministicRNG(seed: 0x6B65)
        let key = try AES256GCM.Key(generator.bytes(count: 32))
        let nonce = generator.bytes(count: 12)
        for length in [16, 17, 32, 100, 1000] {
            #expect(throws: CryptoError(.authenticationFailure), "\(length) bytes") {
                try key.open(generator.bytes(count: length), nonce: nonce, additionalData: [UInt8]())
            }
        }
        #expect(OpenSSLErrorQueue.isEmpty)
    }

    // MARK: - Length rules

    @Test(arguments: [0, 16, 24, 31, 33])
    func keysOtherThanThirtyTwoBytesAreRejected(keyLength: Int) {
        #expect(throws: CryptoError(.invalidLength)) { try AES256GCM.Key([UInt8](repeating: 0, count: keyLength)) }
        #expect(throws: CryptoError(.invalidLength)) {
            try AES256GCM.Key(SecretBytes([UInt8](repeating: 0, count: keyLength)))
        }
    }

    @Test(arguments: [0, 8, 11, 13, 16])
    func noncesOtherThanTwelveBytesAreRejectedAndTheKeyStaysUsable(nonceLength: Int) throws {
        let vector = try #require(try Self.vectors().first)
        let key = try AES256GCM.Key(hex(vector.input.key))
        let nonce = [UInt8](repeating: 0, count: nonceLength)
        #expect(throws: CryptoError(.invalidLength)) {
            try key.seal([UInt8](), nonce: nonce, additionalData: [UInt8]())
        }
        #expect(throws: CryptoError(.invalidLength)) {
            try key.open([UInt8](repeating: 0, count: 16), nonce: nonce, additionalData: [UInt8]())
        }
        let output = try key.seal(
            hex(vector.input.plaintext),
            nonce: hex(vector.input.nonce),
            additionalData: hex(vector.input.aad)
        )
        #expect(output == Self.sealed(vector))
    }

    @Test(arguments: [0, 1, 15])
    func inputShorterThanTheTagIsRejectedAsInvalidLength(length: Int) throws {
        let key = try AES256GCM.Key([UInt8](repeating: 0, count: 32))
        #expect(throws: CryptoError(.invalidLength)) {
            try key.open(
                [UInt8](repeating: 0, count: length),
                nonce: [UInt8](repeating: 0, count: 12),
                additionalData: [UInt8]()
            )
        }
    }

    // MARK: - Agreement with the one-shot functions

    /// The one-shot functions are pinned by the known answers above; here a reused key must agree with
    /// them for many sizes, nonces and additional data, interleaving seals and opens on one key.
    @Test func aReusedKeyAgreesWithTheOneShotFunctionsAtBlockBoundaries() throws {
        var generator = DeterministicRNG(seed: 0x4B31)
        let keyBytes = generator.bytes(count: 32)
        let key = try AES256GCM.Key(keyBytes)
        for length in [0, 1, 15, 16, 17, 31, 32, 33, 255, 4096, 70_000] {
            let nonce = generator.bytes(count: 12)
            let aad = generator.bytes(count: length % 40)
            let plaintext = generator.bytes(count: length)
            let expected = try AES256GCM.seal(plaintext, key: keyBytes, nonce: nonce, additionalData: aad)
            #expect(try key.seal(plaintext, nonce: nonce, additionalData: aad) == expected, "\(length) bytes")
            #expect(try key.open(expected, nonce: nonce, additionalData: aad) == plaintext, "\(length) bytes")
        }
    }

    @Test func descriptionShowsNoKeyMaterial() throws {
        let keyBytes = [UInt8](repeating: 0xA7, count: 32)
        let key = try AES256GCM.Key(keyBytes)
        for text in [String(describing: key), String(reflecting: key)] {
            #expect(text.contains("redacted"))
            #expect(!text.lowercased().contains("a7a7"))
        }
    }

    // MARK: - Concurrency

    /// A distinct nonce per task and round.
    private static func nonce(_ task: Int, _ round: Int) -> [UInt8] {
        [UInt8](repeating: 0, count: 10) + [UInt8(task), UInt8(round)]
    }

    /// A message whose length varies by round (0 to 663 bytes).
    private static func message(_ task: Int, _ round: Int) -> [UInt8] {
        [UInt8](repeating: UInt8(task), count: 17 * round)
    }

    /// One key shared by many tasks, each sealing and opening with its own nonces: the lock serialises
    /// the shared contexts, so every result equals the one computed alone (run under TSan in CI).
    @Test func oneKeySharedByManyTasksGivesTheSameResultsAsSequentialUse() async throws {
        let keyBytes = [UInt8](repeating: 0x5A, count: 32)
        let key = try AES256GCM.Key(keyBytes)
        let taskCount = 16
        let rounds = 40
        let expected = try (0..<taskCount).map { task in
            try (0..<rounds).map { round in
                try AES256GCM.seal(
                    Self.message(task, round),
                    key: keyBytes,
                    nonce: Self.nonce(task, round),
                    additionalData: [UInt8(task)]
                )
            }
        }

        let failures = await withTaskGroup(of: Int.self) { group in
            for task in 0..<taskCount {
                group.addTask {
                    var failures = 0
                    for round in 0..<rounds {
                        do {
                            let sealed = try key.seal(
                                Self.message(task, round),
                                nonce: Self.nonce(task, round),
                                additionalData: [UInt8(task)]
                            )
                            if sealed != expected[task][round] { failures += 1 }
                            let opened = try key.open(
                                sealed,
                                nonce: Self.nonce(task, round),
                                additionalData: [UInt8(task)]
                            )
                            if opened != Self.message(task, round) { failures += 1 }
                            // A forgery in between must not disturb anyone else's message.
                            var forged = sealed
                            forged[forged.count - 1] ^= 1
                            if (try? key.open(forged, nonce: Self.nonce(task, round), additionalData: [UInt8(task)]))
                                != nil
                            {
                                failures += 1
                            }
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
}
