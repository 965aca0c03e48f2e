import CableCrypto
import CableProtocol
import CableTestSupport
import Testing

/// `SymmetricState` against the Noise specification's definitions, computed here from the primitives.
/// (The step-by-step traces of real transcripts are in `CableConformanceTests/NoiseConformanceTests`.)
@Suite struct NoiseSymmetricStateTests {
    @Test(arguments: HandshakePattern.allCases)
    func protocolNameIsThirtyOneBytesPaddedWithOneZero(_ pattern: HandshakePattern) {
        let name = Array(pattern.protocolName.utf8)
        #expect(name.count == 31)
        let state = SymmetricState(protocolName: pattern.protocolName)
        #expect(state.handshakeHash == name + [0])
        #expect(state.chainingKey.bytes == name + [0])
        #expect(state.cipherKey == nil)
    }

    @Test func shortNamesArePaddedWithZerosNotHashed() {
        let state = SymmetricState(protocolName: "Noise_NK_P256_AESGCM_SHA256")
        #expect(state.handshakeHash == Array("Noise_NK_P256_AESGCM_SHA256".utf8) + [0, 0, 0, 0, 0])
    }

    @Test func patternInitialiserMixesThePrologue() {
        var manual = SymmetricState(protocolName: HandshakePattern.knpsk0.protocolName)
        manual.mixHash([1])
        #expect(SymmetricState(pattern: .knpsk0).handshakeHash == manual.handshakeHash)
        #expect(HandshakePattern.knpsk0.prologue == 1)
        #expect(HandshakePattern.nkpsk0.prologue == 0)
    }

    @Test func mixHashIsSHA256OfHashThenData() {
        var state = SymmetricState(pattern: .nkpsk0)
        let before = state.handshakeHash
        state.mixHash([0xDE, 0xAD])
        #expect(state.handshakeHash == SHA256.hash(before + [0xDE, 0xAD]))
    }

    @Test func mixKeyIsHKDFWithTheChainingKeyAsSalt() {
        var state = SymmetricState(pattern: .knpsk0)
        let ck = state.chainingKey.bytes
        state.mixKey([7, 7, 7])
        let output = HKDFSHA256.deriveKey(inputKeyMaterial: [7, 7, 7], salt: ck, info: [], outputByteCount: 64)
        #expect(state.chainingKey.bytes == Array(output[0..<32]))
        #expect(state.cipherKey?.bytes == Array(output[32..<64]))
        #expect(state.nonce == 0)
    }

    @Test func mixKeyOfASecretEqualsMixKeyOfItsBytes() {
        var fromBytes = SymmetricState(pattern: .knpsk0)
        var fromSecret = fromBytes
        fromBytes.mixKey([9, 8, 7, 6])
        fromSecret.mixKey(SecretBytes([9, 8, 7, 6]))
        #expect(fromSecret.chainingKey == fromBytes.chainingKey)
        #expect(fromSecret.cipherKey == fromBytes.cipherKey)
        var other = SymmetricState(pattern: .knpsk0)
        other.mixKey(SecretBytes([9, 8, 7, 5]))
        #expect(other.chainingKey != fromBytes.chainingKey)
    }

    @Test func mixKeyAndHashSplitsThreeOutputs() {
        var state = SymmetricState(pattern: .knpsk0)
        let ck = state.chainingKey.bytes
        let h = state.handshakeHash
        state.mixKeyAndHash([9])
        let output = HKDFSHA256.deriveKey(inputKeyMaterial: [9], salt: ck, info: [], outputByteCount: 96)
        #expect(state.chainingKey.bytes == Array(output[0..<32]))
        #expect(state.handshakeHash == SHA256.hash(h + Array(output[32..<64])))
        #expect(state.cipherKey?.bytes == Array(output[64..<96]))
    }

    /// Chromium writes the handshake counter big-endian into bytes 0–3 (not Noise's bytes 4–11). The
    /// second encryption under one key shows the layout.
    @Test func handshakeNonceCarriesTheCounterBigEndianInTheFirstFourBytes() throws {
        var state = SymmetricState(pattern: .knpsk0)
        state.mixKey([1])
        let key = try #require(state.cipherKey).bytes
        let hashBeforeFirst = state.handshakeHash
        let first = try state.encryptAndHash([])
        let hashAfterFirst = state.handshakeHash
        let second = try state.encryptAndHash([0x42])
        #expect(state.nonce == 2)
        let zeroNonce = [UInt8](repeating: 0, count: 12)
        #expect(first == (try AES256GCM.seal([], key: key, nonce: zeroNonce, additionalData: hashBeforeFirst)))
        let oneNonce: [UInt8] = [0, 0, 0, 1] + [UInt8](repeating: 0, count: 8)
        #expect(second == (try AES256GCM.seal([0x42], key: key, nonce: oneNonce, additionalData: hashAfterFirst)))
    }

    @Test func encryptAndHashUsesTheHashAsAdditionalDataAndMixesTheCiphertext() throws {
        var state = SymmetricState(pattern: .nkpsk0)
        state.mixKey([3])
        let key = try #require(state.cipherKey).bytes
        let h = state.handshakeHash
        let ciphertext = try state.encryptAndHash([1, 2, 3])
        let zeroNonce = [UInt8](repeating: 0, count: 12)
        let expected = try AES256GCM.seal([1, 2, 3], key: key, nonce: zeroNonce, additionalData: h)
        #expect(ciphertext == expected)
        #expect(state.handshakeHash == SHA256.hash(h + ciphertext))
    }

    @Test func decryptAndHashMirrorsEncryptAndHash() throws {
        var sender = SymmetricState(pattern: .knpsk0)
        sender.mixKeyAndHash([UInt8](repeating: 4, count: 32))
        var receiver = sender
        let ciphertext = try sender.encryptAndHash([5, 6])
        #expect(try receiver.decryptAndHash(ciphertext) == [5, 6])
        #expect(receiver.handshakeHash == sender.handshakeHash)
    }

    @Test func failedDecryptLeavesTheHashUnchangedAndThrowsAuthenticationFailed() throws {
        var sender = SymmetricState(pattern: .knpsk0)
        sender.mixKey([1])
        var receiver = sender
        var ciphertext = try sender.encryptAndHash([])
        ciphertext[0] ^= 1
        let before = receiver.handshakeHash
        #expect(throws: CableProtocolError(.handshakeAuthenticationFailed, "")) {
            try receiver.decryptAndHash(ciphertext)
        }
        #expect(receiver.handshakeHash == before)
    }

    @Test func splitGivesTwoDifferentKeysFromTheChainingKey() {
        var state = SymmetricState(pattern: .knpsk0)
        state.mixKey([1])
        let keys = state.split()
        let output = HKDFSHA256.deriveKey(
            inputKeyMaterial: [UInt8](),
            salt: state.chainingKey.bytes,
            info: [],
            outputByteCount: 64
        )
        #expect(keys.first.bytes == Array(output[0..<32]))
        #expect(keys.second.bytes == Array(output[32..<64]))
        #expect(keys.first != keys.second)
    }

    @Test func descriptionRevealsNoKeyOrHash() throws {
        var state = SymmetricState(pattern: .knpsk0)
        state.mixKeyAndHash([UInt8](repeating: 0x5A, count: 32))
        let secrets = [state.chainingKey.bytes, try #require(state.cipherKey).bytes, state.handshakeHash]
        expectRedacted(String(describing: state), hiding: secrets)
        expectRedacted(String(reflecting: state), hiding: secrets)
    }
}
