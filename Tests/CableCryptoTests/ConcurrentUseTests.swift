import CableCrypto
import Testing

/// The process-wide OpenSSL objects (fetched algorithms, the P-256 group and parameter template) and
/// shared keys are used from many tasks at once; results must not depend on interleaving.
@Suite("Concurrent use")
struct ConcurrentUseTests {
    @Test func sharedKeysAndAlgorithmsGiveTheSameResultsFromManyTasks() async throws {
        let alice = try P256.PrivateKey(derivedFromSeed: [UInt8](repeating: 1, count: 32))
        let bob = try P256.PrivateKey(derivedFromSeed: [UInt8](repeating: 2, count: 32))
        let message = Array("concurrent".utf8)
        let signature = try alice.signature(for: message)
        let expectedSecret = try alice.sharedSecret(with: bob.publicKey)
        let key = [UInt8](repeating: 9, count: 32)
        let nonce = [UInt8](repeating: 8, count: 12)
        let sealed = try AES256GCM.seal(message, key: key, nonce: nonce, additionalData: [UInt8]())
        // Computed sequentially first: concurrent MACs (all duplicated from one HMAC template) must match.
        let expectedMACs = (0..<16).map { task in
            (0..<25).map { round in HMACSHA256.authenticationCode(key: [UInt8(task), UInt8(round)], data: message) }
        }

        let failures = await withTaskGroup(of: Int.self) { group in
            for task in 0..<16 {
                group.addTask {
                    var failures = 0
                    for round in 0..<25 {
                        do {
                            if try alice.sharedSecret(with: bob.publicKey) != expectedSecret { failures += 1 }
                            if !alice.publicKey.isValidSignature(signature, for: message) { failures += 1 }
                            let opened = try AES256GCM.open(sealed, key: key, nonce: nonce, additionalData: [UInt8]())
                            if opened != message { failures += 1 }
                            let seed = [UInt8(task), UInt8(round)]
                            let derived = try P256.PrivateKey(derivedFromSeed: seed)
                            let compressed = derived.publicKey.compressedRepresentation
                            let parsed = try P256.PublicKey(x962Representation: compressed)
                            if parsed != derived.publicKey { failures += 1 }
                            if HMACSHA256.authenticationCode(key: seed, data: message) != expectedMACs[task][round] {
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
