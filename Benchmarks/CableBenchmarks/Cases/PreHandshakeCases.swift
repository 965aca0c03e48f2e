import CableCrypto
import CableProtocol

/// Digits, QR payload, adverts and key derivation: everything before the handshake.
///
/// Baselines: the advert crypter performs exactly one AES-256 block and one HMAC-SHA256 over 16 bytes,
/// so that pair, timed through CableCrypto, is its floor. The digit and payload codecs use no crypto;
/// the same pair is their yardstick (their cost in units of an advert's crypto). QR payload decoding
/// validates the desktop's compressed P-256 key, so its floor is that point decompression. Key
/// derivations compare with a bare HKDF-SHA256 of the same input and output sizes.
enum PreHandshakeCases {
    /// The name of the AES block + HMAC pair.
    static let cryptoPairName = "AES-256 block + HMAC-SHA256 (CableCrypto)"

    static var all: [BenchmarkCase] {
        [
            BenchmarkCase("digits.encode") { context in
                let fixtures = try Fixtures.load()
                let measurement = context.measure { blackHole(DigitEncoding.encode(fixtures.cbor)) }
                return [
                    .timed(
                        "digits.encode", measurement,
                        baseline: try self.cryptoPair(context), bytesPerOperation: fixtures.cbor.count)
                ]
            },
            BenchmarkCase("digits.decode") { context in
                let fixtures = try Fixtures.load()
                let measurement = try context.measure { () throws(CableProtocolError) in
                    blackHole(try DigitEncoding.decode(fixtures.digits))
                }
                return [
                    .timed(
                        "digits.decode", measurement,
                        baseline: try self.cryptoPair(context), bytesPerOperation: fixtures.cbor.count)
                ]
            },
            BenchmarkCase("qr.payload.encode") { context in
                let fixtures = try Fixtures.load()
                let measurement = context.measure { blackHole(fixtures.payload.url) }
                return [
                    .timed(
                        "qr.payload.encode", measurement,
                        baseline: try self.cryptoPair(context))
                ]
            },
            BenchmarkCase("qr.payload.decode") { context in
                let fixtures = try Fixtures.load()
                let measurement = try context.measure { () throws(CableProtocolError) in
                    blackHole(try QRCodePayload(url: fixtures.url))
                }
                let compressedKey = fixtures.payload.compressedPublicKey
                let floor = try context.baseline("P-256 compressed point decode (CableCrypto)") {
                    () throws(CryptoError) in
                    blackHole(try P256.PublicKey(x962Representation: compressedKey))
                }
                return [
                    .timed(
                        "qr.payload.decode", measurement,
                        baseline: .time("P-256 compressed point decode (CableCrypto)", floor))
                ]
            },
            BenchmarkCase("advert.encrypt") { context in
                let (key, plaintext) = try self.advertInputs()
                let measurement = try context.measure { () throws(CableProtocolError) in
                    blackHole(try AdvertCrypter.encrypt(plaintext, key: key))
                }
                return [.timed("advert.encrypt", measurement, baseline: try self.cryptoPair(context))]
            },
            BenchmarkCase("advert.decrypt") { context in
                let (key, plaintext) = try self.advertInputs()
                let advert = try AdvertCrypter.encrypt(plaintext, key: key)
                let measurement = try context.measure { () throws(CableProtocolError) in
                    blackHole(try AdvertCrypter.decrypt(advert, key: key))
                }
                return [.timed("advert.decrypt", measurement, baseline: try self.cryptoPair(context))]
            },
            BenchmarkCase("kdf.eidKey") { context in
                let secret = try Fixtures.load().payload.secret
                let measurement = context.measure { blackHole(secret.eidKey) }
                return [
                    .timed(
                        "kdf.eidKey", measurement,
                        baseline: self.bareHKDF(context, inputBytes: 16, saltBytes: 0, outputBytes: 64))
                ]
            },
            BenchmarkCase("kdf.tunnelID") { context in
                let secret = try Fixtures.load().payload.secret
                let measurement = context.measure { blackHole(secret.tunnelID) }
                return [
                    .timed(
                        "kdf.tunnelID", measurement,
                        baseline: self.bareHKDF(context, inputBytes: 16, saltBytes: 0, outputBytes: 16))
                ]
            },
            BenchmarkCase("kdf.psk") { context in
                let secret = try Fixtures.load().payload.secret
                let (_, plaintext) = try self.advertInputs()
                let measurement = context.measure { blackHole(secret.psk(advert: plaintext)) }
                return [
                    .timed(
                        "kdf.psk", measurement,
                        baseline: self.bareHKDF(context, inputBytes: 16, saltBytes: 16, outputBytes: 32))
                ]
            },
        ]
    }

    /// One AES-256 block encryption plus one HMAC-SHA256 over its 16 bytes: the advert's crypto.
    static func cryptoPair(_ context: BenchmarkContext) throws(CryptoError) -> Baseline {
        let aesKey = SecureRandom.bytes(count: 32)
        let hmacKey = SecureRandom.bytes(count: 32)
        let block = SecureRandom.bytes(count: 16)
        let measurement = try context.baseline(self.cryptoPairName) { () throws(CryptoError) in
            let ciphertext = try AES256Block.encrypt(block: block, key: aesKey)
            blackHole(HMACSHA256.authenticationCode(key: hmacKey, data: ciphertext))
        }
        return .time(self.cryptoPairName, measurement)
    }

    /// A bare `HKDFSHA256.deriveKey` with the sizes of a caBLE derivation (4-byte info, as `Derive` uses).
    static func bareHKDF(_ context: BenchmarkContext, inputBytes: Int, saltBytes: Int, outputBytes: Int) -> Baseline {
        let name = "HKDF-SHA256 \(outputBytes) B (CableCrypto)" + (saltBytes > 0 ? ", \(saltBytes) B salt" : "")
        let input = SecureRandom.bytes(count: inputBytes)
        let salt = SecureRandom.bytes(count: saltBytes)
        let info: [UInt8] = [1, 0, 0, 0]
        let measurement = context.baseline(name) {
            blackHole(
                HKDFSHA256.deriveKey(inputKeyMaterial: input, salt: salt, info: info, outputByteCount: outputBytes))
        }
        return .time(name, measurement)
    }

    /// The Chrome QR code's advert key and a valid EID (routing ID 0a0b0c, Google's domain).
    static func advertInputs() throws -> (EIDKey, AdvertPlaintext) {
        let secret = try Fixtures.load().payload.secret
        let plaintext = try AdvertPlaintext(
            nonce: SecureRandom.bytes(count: CableConstants.eidNonceSize), routingID: RoutingID(hex: "0a0b0c"),
            domainID: .google)
        return (secret.eidKey, plaintext)
    }
}
