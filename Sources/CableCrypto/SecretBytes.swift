internal import CCableOpenSSL

/// Bytes that must not be printed or logged, wiped (OPENSSL_cleanse) when the last copy is freed.
/// `description` prints only the length.
///
/// Copies of a `SecretBytes` share one immutable heap buffer, so there is exactly one place to wipe and
/// the wipe happens when the last copy dies. Use ``init(count:initializingWith:)`` to write a secret
/// straight into that buffer; ``init(_:)`` and ``bytes`` necessarily leave an ordinary `[UInt8]` behind
/// that this type cannot wipe.
package struct SecretBytes: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The shared, wiped-on-free buffer.
    ///
    /// `@unchecked Sendable`: the bytes are written only inside `init`, before the storage is shared,
    /// and only read afterwards.
    private final class Storage: @unchecked Sendable {
        /// Start of the allocation (at least one byte, so never nil even for an empty secret).
        private let base: UnsafeMutablePointer<UInt8>
        /// Number of secret bytes.
        let count: Int

        init(count: Int) {
            self.count = count
            self.base = UnsafeMutablePointer<UInt8>.allocate(capacity: max(count, 1))
            self.base.initialize(repeating: 0, count: max(count, 1))
        }

        var buffer: UnsafeMutableBufferPointer<UInt8> {
            UnsafeMutableBufferPointer(start: self.base, count: self.count)
        }

        deinit {
            OPENSSL_cleanse(self.base, max(self.count, 1))
            self.base.deallocate()
        }
    }

    private let storage: Storage

    /// Copies `bytes` into wiped-on-free storage. The caller's array is not wiped.
    package init(_ bytes: [UInt8]) {
        self.storage = Storage(count: bytes.count)
        _ = self.storage.buffer.update(fromContentsOf: bytes)
    }

    /// A secret of exactly `count` bytes written in place by `body`, so that no unwiped copy exists.
    /// If `body` throws, the partially written buffer is wiped and freed.
    package init<Failure: Error>(
        count: Int,
        initializingWith body: (UnsafeMutableBufferPointer<UInt8>) throws(Failure) -> Void
    ) throws(Failure) {
        precondition(count >= 0, "SecretBytes count must not be negative")
        let storage = Storage(count: count)
        try body(storage.buffer)
        self.storage = storage
    }

    /// The number of bytes.
    package var count: Int { self.storage.count }

    /// Copies the secret out (e.g. to hand to the next KDF). Callers keep such copies short-lived.
    package var bytes: [UInt8] { Array(self.storage.buffer) }

    /// Lends the bytes without copying them.
    package func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(self.storage.buffer))
    }

    /// Lends the bytes without copying them, preserving a typed error (for CableCrypto's own calls).
    func withBuffer<R, Failure: Error>(
        _ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> R
    ) throws(Failure) -> R {
        try body(UnsafeBufferPointer(self.storage.buffer))
    }

    /// The length only: the bytes are never shown.
    package var description: String { "SecretBytes(\(self.count) bytes, redacted)" }

    /// Same as ``description``.
    package var debugDescription: String { self.description }

    /// Constant-time equality.
    package static func == (a: SecretBytes, b: SecretBytes) -> Bool {
        a.storage === b.storage
            || constantTimeEquals(UnsafeBufferPointer(a.storage.buffer), UnsafeBufferPointer(b.storage.buffer))
    }

    /// Hashes the length only: hashing the bytes would make the hash value a leak of the secret.
    package func hash(into h: inout Hasher) { h.combine(self.count) }
}

extension SecretBytes: CustomReflectable {
    /// Shows only the length, so `dump`, debuggers and reflection-based printers cannot reach the bytes.
    package var customMirror: Mirror {
        Mirror(self, children: ["count": self.count], displayStyle: .struct)
    }
}
