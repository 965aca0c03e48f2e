import CableCrypto
@_spi(Fuzzing) import CableProtocol
import CableTestSupport
import Testing

/// Runs `Spec/vectors/crypter.json` (webauthn-rs' capture from a patched Chromium, Firefox/webauthn-rs
/// consistency vectors, derived construction examples, hostile mutations) and `crypter-padding.json`
/// (libwebauthn's strip cases, the padded shutdown frame).
@Suite struct CrypterConformance {
    static let file = SpecVectorFile.load("crypter")

    @Test(arguments: file.vectors.filter(\.isValid).map(\.id))
    func sealProducesTheVectorCiphertext(_ id: String) throws {
        let v = try #require(Self.file.vectors.first { $0.id == id })
        let key = v.input["key"]!.bytes
        let construction = try Self.construction(v)
        let sequenceNumber = UInt32(v.input["sequenceNumber"]!.int!)
        let plaintext = v.input["plaintext"]!.bytes
        if let padded = v.input["paddedPlaintext"] {
            #expect(MessagePadding.pad(plaintext) == padded.bytes)
        }

        // The sender: the vector's key is its write key.
        var sender = Crypter(
            readKey: SecretBytes([UInt8](repeating: 0xEE, count: 32)),
            writeKey: SecretBytes(key),
            policy: .fixed(construction),
            writeSequenceNumber: sequenceNumber
        )
        let ciphertext = try sender.seal(plaintext)
        #expect(hexString(ciphertext) == v.expected!["ciphertext"]!.string)
        #expect(sender.writeSequenceNumber == sequenceNumber + 1)

        // The receiver: the same key is its read key.
        var receiver = Crypter(
            readKey: SecretBytes(key),
            writeKey: SecretBytes([UInt8](repeating: 0xEE, count: 32)),
            policy: .fixed(construction),
            readSequenceNumber: sequenceNumber
        )
        #expect(try receiver.open(ciphertext) == plaintext)
        #expect(receiver.readSequenceNumber == sequenceNumber + 1)

        // The other direction's key does not open it.
        if let peerKey = v.input["peerKey"] {
            var wrongDirection = Crypter(
                readKey: SecretBytes(peerKey.bytes),
                writeKey: SecretBytes(key),
                policy: .fixed(construction),
                readSequenceNumber: sequenceNumber
            )
            #expect(throws: CableProtocolError(.crypterAuthenticationFailed, "")) {
                try wrongDirection.open(ciphertext)
            }
        }
    }

    /// A desktop that starts with the other construction must switch on the failed first read and
    /// decrypt a sequence-0 vector (the transitional Chromium / webauthn-rs behaviour).
    @Test(arguments: file.vectors.filter { $0.isValid && $0.input["sequenceNumber"]!.int == 0 }.map(\.id))
    func fallbackOnFirstReadDecryptsTheOtherConstruction(_ id: String) throws {
        let v = try #require(Self.file.vectors.first { $0.id == id })
        let construction = try Self.construction(v)
        var desktop = Crypter(
            readKey: SecretBytes(v.input["key"]!.bytes),
            writeKey: SecretBytes([UInt8](repeating: 1, count: 32)),
            policy: .fallbackOnFirstRead(initial: construction.other)
        )
        #expect(try desktop.open(v.expected!["ciphertext"]!.bytes) == v.input["plaintext"]!.bytes)
        #expect(desktop.construction == construction)
    }

    @Test(arguments: file.vectors.filter { !$0.isValid }.map(\.id))
    func hostileCiphertextIsRejectedWithItsCode(_ id: String) throws {
        let v = try #require(Self.file.vectors.first { $0.id == id })
        let sequenceNumber = UInt32(v.input["sequenceNumber"]!.int!)
        var receiver = Crypter(
            readKey: SecretBytes(v.input["key"]!.bytes),
            writeKey: SecretBytes([UInt8](repeating: 0, count: 32)),
            policy: .fixed(try Self.construction(v)),
            readSequenceNumber: sequenceNumber
        )
        let error = try #require(throws: CableProtocolError.self) { try receiver.open(v.input["ciphertext"]!.bytes) }
        #expect(error.code.rawValue == v.errorCode, "\(error)")
        #expect(receiver.readSequenceNumber == sequenceNumber, "a rejected message must not advance the counter")
    }

    static func construction(_ v: SpecVector) throws -> Crypter.Construction {
        switch v.input["construction"]?.string {
        case "current": return .current
        case "legacy": return .legacy
        case let other: throw VectorError("unknown construction \(String(describing: other))")
        }
    }
}

@Suite struct CrypterPaddingConformance {
    static let file = SpecVectorFile.load("crypter-padding")

    @Test(arguments: file.vectors.map(\.id))
    func vector(_ id: String) throws {
        let v = try #require(Self.file.vectors.first { $0.id == id })
        if let message = v.input["message"] {
            let padded = MessagePadding.pad(message.bytes)
            #expect(hexString(padded) == v.expected!["padded"]!.string)
            #expect(padded.count + 16 == v.expected!["ciphertextLength"]!.int)
            #expect(try MessagePadding.unpad(padded) == message.bytes)
            return
        }
        let padded = v.input["padded"]!.bytes
        if v.isValid {
            #expect(hexString(try MessagePadding.unpad(padded)) == v.expected!["message"]!.string)
        } else {
            let error = try #require(throws: CableProtocolError.self) { try MessagePadding.unpad(padded) }
            #expect(error.code.rawValue == v.errorCode)
        }
    }
}

/// A malformed vector file.
struct VectorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
