import CableCrypto
import CableProtocol
import CableTestSupport
import Testing

@testable import CableConformance

/// The kit's own desktop machinery (its KNpsk0 initiator and its crypter, which the `phone.*` suite
/// judges phones with) checked against known answers from other implementations, so the suite does
/// not merely agree with our phone.
@Suite struct PhoneKitVectorTests {
    /// Spec/vectors/session-qr.json: a QR session derived from Chromium's sources by an independent
    /// implementation. The kit's handshake message, keys and frames must match it byte for byte.
    @Test func theKitsHandshakeAndCrypterReproduceTheChromiumSession() throws {
        let root = try #require(try SpecVectors.json("session-qr.json") as? [String: Any])
        let vector = try #require((root["vectors"] as? [[String: Any]])?.first)
        let input = try #require(vector["input"] as? [String: String])
        let expected = try #require(vector["expected"] as? [String: Any])
        let key = try QRGeneratorKey(bytes: hex(try #require(input["qrKey"])))
        let ephemeral = try P256.PrivateKey(rawScalar: hex(try #require(input["initiatorEphemeralPrivate"])))
        var handshake = try KitHandshake(
            psk: hex(try #require(input["psk"])),
            identity: key.privateKey,
            ephemeral: ephemeral
        )
        #expect(handshake.message == hex(try #require(expected["initiatorMessage"] as? String)))

        let crypter = try handshake.finish(hex(try #require(expected["responderMessage"] as? String))).get()
        let messages = try #require(expected["messages"] as? [[String: Any]])
        var phoneFrames = 0
        for message in messages {
            let label = message["label"] as? String ?? ""
            let plaintext = hex(try #require(message["plaintext"] as? String))
            let ciphertext = hex(try #require(message["ciphertext"] as? String))
            if message["direction"] as? String == "phone->desktop" {
                let frame = crypter.open(ciphertext)
                #expect(frame.openedSequence == UInt32(phoneFrames), "\(label)")
                #expect(frame.message == plaintext, "\(label)")
                phoneFrames += 1
            } else {
                #expect(try crypter.seal(plaintext) == ciphertext, "\(label)")
            }
        }
        #expect(phoneFrames >= 3)
    }

    /// A response that is not this handshake's is refused with the reason.
    @Test func aTamperedResponseIsNotKNpsk0() throws {
        let root = try #require(try SpecVectors.json("session-qr.json") as? [String: Any])
        let vector = try #require((root["vectors"] as? [[String: Any]])?.first)
        let input = try #require(vector["input"] as? [String: String])
        let expected = try #require(vector["expected"] as? [String: Any])
        let key = try QRGeneratorKey(bytes: hex(try #require(input["qrKey"])))
        let ephemeral = try P256.PrivateKey(rawScalar: hex(try #require(input["initiatorEphemeralPrivate"])))
        var response = hex(try #require(expected["responderMessage"] as? String))
        response[response.count - 1] ^= 1
        var handshake = try KitHandshake(
            psk: hex(try #require(input["psk"])),
            identity: key.privateKey,
            ephemeral: ephemeral
        )
        guard case .failure(let failure) = handshake.finish(response) else {
            Issue.record("a tampered response completed the handshake")
            return
        }
        #expect(failure.detail.contains("does not authenticate"))
    }

    /// Spec/vectors/crypter.json: frames captured from Chromium (webauthn-rs, Firefox test data) open
    /// under the kit's reading of the current construction; the legacy one is recognised as such;
    /// damaged frames do not open.
    @Test func theKitsCrypterOpensFramesOfOtherImplementations() throws {
        let root = try #require(try SpecVectors.json("crypter.json") as? [String: Any])
        let vectors = try #require(root["vectors"] as? [[String: Any]])
        var checked = 0
        for vector in vectors {
            let id = try #require(vector["id"] as? String)
            let input = try #require(vector["input"] as? [String: Any])
            let key = hex(try #require(input["key"] as? String))
            let crypter = try KitCrypter(write: SecretBytes(SecureRandom.bytes(count: 32)), read: SecretBytes(key))
            let sequence = try #require(input["sequenceNumber"] as? Int)
            if let ciphertext = (vector["expected"] as? [String: Any])?["ciphertext"] as? String {
                let plaintext = hex(try #require(input["plaintext"] as? String))
                let frame = crypter.open(hex(ciphertext))
                if input["construction"] as? String == "current" {
                    #expect(frame.openedSequence == UInt32(sequence), "\(id)")
                    #expect(frame.message == plaintext, "\(id)")
                } else if sequence == 0 {
                    #expect(frame.openedSequence == nil && frame.legacyConstruction, "\(id)")
                }
            } else if let ciphertext = input["ciphertext"] as? String, !id.hasSuffix("wrong_sequence_number") {
                let frame = crypter.open(hex(ciphertext))
                #expect(frame.openedSequence == nil && frame.openingProblem != nil, "\(id)")
            } else {
                continue
            }
            checked += 1
        }
        #expect(checked >= 10)
    }
}
