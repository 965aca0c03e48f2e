// Temporary: ECDSA is implemented in the next step; these declarations keep dependants compiling.
extension P256.PublicKey {
    /// Verifies a DER ECDSA signature over SHA-256(message). Malformed DER → false.
    package func isValidSignature(_ derSignature: some Collection<UInt8>, for message: some Collection<UInt8>) -> Bool {
        fatalError("unimplemented")
    }
}

extension P256.PrivateKey {
    /// ECDSA P-256 / SHA-256 over `message`, DER encoded.
    package func signature(for message: some Collection<UInt8>) throws(CryptoError) -> [UInt8] {
        fatalError("unimplemented")
    }
}
