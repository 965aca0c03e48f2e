internal import CCableOpenSSL

/// Owns an `EVP_PKEY` (a P-256 public key or key pair) and frees it exactly once.
///
/// `@unchecked Sendable`: the key is fully built before the wrapper is shared (its creator may set the
/// public point right after taking ownership) and never modified afterwards; it is only passed to
/// operations (derive, sign, verify, dup) that use it read-only. OpenSSL 3 documents such use of one
/// `EVP_PKEY` from several threads as safe (its internal export cache is locked). `EVP_PKEY_free`
/// clears the private scalar (`BN_clear_free`) when the last reference goes.
final class EVPPKey: @unchecked Sendable {
    /// The owned handle.
    let pointer: OpaquePointer

    /// Takes ownership of `pointer`.
    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit { EVP_PKEY_free(self.pointer) }
}
