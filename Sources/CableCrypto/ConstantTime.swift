internal import CCableOpenSSL

/// Constant-time comparison (CRYPTO_memcmp); false when lengths differ.
///
/// The running time depends only on the lengths, never on where the contents first differ, so a MAC or
/// tag compared with it leaks nothing about how many leading bytes an attacker guessed right.
package func constantTimeEquals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    guard a.count > 0 else { return true }
    return a.withContiguousBytes { first in
        b.withContiguousBytes { second in
            CRYPTO_memcmp(first.baseAddress, second.baseAddress, first.count) == 0
        }
    }
}
