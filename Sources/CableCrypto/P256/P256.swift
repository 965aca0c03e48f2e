/// NIST P-256 keys, ECDH and ECDSA-SHA256 (EVP_PKEY).
///
/// ``PublicKey`` is a validated point; ``PrivateKey`` a scalar in [1, n-1] with its public key.
/// Chromium's hybrid transport uses P-256 for the QR key, the phone's identity key, Noise DH and the
/// linking signature; WebAuthn uses ECDSA P-256/SHA-256 (COSE alg -7).
package enum P256 {}
