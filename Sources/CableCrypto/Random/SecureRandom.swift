internal import CCableOpenSSL

/// Secure random bytes from OpenSSL's DRBG (RAND_bytes). Traps only if the OS entropy source is broken.
package enum SecureRandom {
    /// `RAND_bytes` takes an `int` length; larger requests are served in chunks of this size.
    private static let maximumChunk = 1 << 30

    /// `count` random bytes.
    package static func bytes(count: Int) -> [UInt8] {
        precondition(count >= 0, "SecureRandom.bytes count must not be negative")
        return [UInt8](byteCapacity: count) { buffer in
            self.fill(buffer)
            return buffer.count
        }
    }

    /// Fills `buffer` with random bytes (used to write secrets straight into wiped storage).
    static func fill(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            let chunk = min(buffer.count - offset, self.maximumChunk)
            // A DRBG that cannot seed itself has no safe fallback; continuing would hand out predictable keys.
            guard RAND_bytes(base + offset, Int32(chunk)) == 1 else {
                OpenSSLError.unrecoverable("RAND_bytes")
            }
            offset += chunk
        }
    }
}

/// A `RandomNumberGenerator` over RAND_bytes, for code that takes `inout some RandomNumberGenerator`.
package struct SecureRandomNumberGenerator: RandomNumberGenerator, Sendable {
    /// Never read. A generator with no stored property is zero-sized, and a closure that captures a
    /// zero-sized value `inout` is lent an address shared by every thread (the type's metadata), so
    /// ThreadSanitizer reports two unrelated generators as one variable raced on. One byte gives
    /// each generator an address of its own.
    private var addressable: UInt8 = 0

    /// A generator; it has no state of its own (OpenSSL's DRBG is per thread).
    package init() {}

    /// Eight random bytes from `RAND_bytes`.
    package mutating func next() -> UInt64 {
        var word: UInt64 = 0
        withUnsafeMutableBytes(of: &word) { raw in
            SecureRandom.fill(raw.bindMemory(to: UInt8.self))
        }
        return word
    }
}

extension RandomNumberGenerator {
    /// `count` bytes drawn from this generator (deterministic generators make deterministic tests).
    package mutating func bytes(count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            var word = self.next()
            for _ in 0..<8 where out.count < count {
                out.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
        return out
    }
}
