import CableCrypto
import CableProtocol

/// Digits, QR payload, adverts and key derivation: everything before the handshake.
///
/// Baselines, measured interleaved with each figure: the advert crypter performs exactly one AES-256
/// block and one HMAC-SHA256 over 16 bytes, so that pair, through CableCrypto, is its floor. The digit and
/// payload codecs use no crypto; the same pair is their yardstick (their cost in units of an advert's
/// crypto). QR payload decoding validates the desktop's compressed P-256 key, so its floor is that point
/// decompression. Key derivations compare with a bare HKDF-SHA256 of the same input and output sizes.
enum PreHandshakeCases {
    /// One case per figure.
    static var all: [BenchmarkCase] {
        [
            BenchmarkCase("digits.encode") { context in
                let fixtures = try Fixtures.load()
                let (figure, baseline) = try context.compare(
                    { blackHole(DigitEncoding.encode(fixtures.cbor)) },
                    with: self.cryptoPair()
                )
                return [.timed("digits.encode", figure, baseline: baseline, bytesPerOperation: fixtures.cbor.count)]
            },
            BenchmarkCase("digits.decode") { context in
                let fixtures = try Fixtures.load()
                let (figure, baseline) = try context.compare(
                    { blackHole(try DigitEncoding.decode(fixtures.digits)) },
                    with: self.cryptoPair()
                )
                return [.timed("digits.decode", figure, baseline: baseline, bytesPerOperation: fixtures.cbor.count)]
            },
            BenchmarkCase("qr.payload.encode") { context in
                let payload = try Fixtures.load().payload
                let (figure, baseline) = try context.compare({ blackHole(payload.url) }, with: self.cryptoPair())
                return [.timed("qr.payload.encode", figure, baseline: baseline)]
            },
            BenchmarkCase("qr.payload.decode") { context in
                let fixtures = try Fixtures.load()
                let compressedKey = fixtures.payload.compressedPublicKey
                let pointDecode = TimedOperation(name: "P-256 compressed point decode (CableCrypto)") {
                    blackHole(try P256.PublicKey(x962Representation: compressedKey))
                }
                let (figure, baseline) = try context.compare(
                    { blackHole(try QRCodePayload(url: fixtures.url)) },
                    with: pointDecode
                )
                return [.timed("qr.payload.decode", figure, baseline: baseline)]
            },
            BenchmarkCase("advert.encrypt") { context in
                let (key, plaintext) = try self.advertInputs()
                let (figure, baseline) = try context.compare(
                    { blackHole(try AdvertCrypter.encrypt(plaintext, key: key)) },
                    with: self.cryptoPair()
                )
                return [.timed("advert.encrypt", figure, baseline: baseline)]
            },
            BenchmarkCase("advert.decrypt") { context in
                let (key, plaintext) = try self.advertInputs()
                let advert = try AdvertCrypter.encrypt(plaintext, key: key)
                let (figure, baseline) = try context.compare(
                    { blackHole(try AdvertCrypter.decrypt(advert, key: key)) },
                    with: self.cryptoPair()
                )
                return [.timed("advert.decrypt", figure, baseline: baseline)]
            },
            BenchmarkCase("kdf.eidKey") { context in
                let secret = try Fixtures.load().payload.secret
                let (figure, baseline) = try context.compare(
                    { blackHole(secret.eidKey) },
                    with: self.bareHKDF(inputBytes: 16, saltBytes: 0, outputBytes: 64)
                )
                return [.timed("kdf.eidKey", figure, baseline: baseline)]
            },
            BenchmarkCase("kdf.tunnelID") { context in
                let secret = try Fixtures.load().payload.secret
                let (figure, baseline) = try context.compare(
                    { blackHole(secret.tunnelID) },
                    with: self.bareHKDF(inputBytes: 16, saltBytes: 0, outputBytes: 16)
                )
                return [.timed("kdf.tunnelID", figure, baseline: baseline)]
            },
            BenchmarkCase("kdf.psk") { context in
                let secret = try Fixtures.load().payload.secret
                let (_, plaintext) = try self.advertInputs()
                let (figure, baseline) = try context.compare(
                    { blackHole(secret.psk(advert: plaintext)) },
                    with: self.bareHKDF(inputBytes: 16, saltBytes: 16, outputBytes: 32)
                )
                return [.timed("kdf.psk", figure, baseline: baseline)]
            },
        ]
    }

    /// One AES-256 block encryption plus one HMAC-SHA256 over its 16 bytes: the advert's crypto.
    static func cryptoPair() -> TimedOperation {
        let aesKey = SecureRandom.bytes(count: 32)
        let hmacKey = SecureRandom.bytes(count: 32)
        let block = SecureRandom.bytes(count: 16)
        return TimedOperation(name: "AES-256 block + HMAC-SHA256 (CableCrypto)") {
            let ciphertext = try AES256Block.encrypt(block: block, key: aesKey)
            blackHole(HMACSHA256.authenticationCode(key: hmacKey, data: ciphertext))
        }
    }

    /// A bare `HKDFSHA256.deriveKey` with the sizes of a caBLE derivation (4-byte info, as `Derive` uses).
    static func bareHKDF(inputBytes: Int, saltBytes: Int, outputBytes: Int) -> TimedOperation {
        let input = SecureRandom.bytes(count: inputBytes)
        let salt = SecureRandom.bytes(count: saltBytes)
        let info: [UInt8] = [1, 0, 0, 0]
        let name = "HKDF-SHA256 \(outputBytes) B (CableCrypto)" + (saltBytes > 0 ? ", \(saltBytes) B salt" : "")
        return TimedOperation(name: name) {
            blackHole(
                HKDFSHA256.deriveKey(inputKeyMaterial: input, salt: salt, info: info, outputByteCount: outputBytes)
            )
        }
    }

    /// The Chrome QR code's advert key and a valid EID (routing ID 0a0b0c, Google's domain).
    static func advertInputs() throws -> (EIDKey, AdvertPlaintext) {
        let secret = try Fixtures.load().payload.secret
        let plaintext = try AdvertPlaintext(
            nonce: SecureRandom.bytes(count: CableConstants.eidNonceSize),
            routingID: RoutingID(hex: "0a0b0c"),
            domainID: .google
        )
        return (secret.eidKey, plaintext)
    }
}
