import CableConformance
import CableTestSupport
import Testing

/// The kit's phone judges desktops with its own crypter and padding (not our `Crypter`), so they are
/// checked here against the independent vectors of `Spec/vectors/crypter.json` (webauthn-rs' capture
/// from a patched Chromium, Firefox's consistency test) and `crypter-padding.json` (libwebauthn).
@Suite struct DesktopKitCrypterTests {
    static let crypter = SpecVectorFile.load("crypter")
    static let padding = SpecVectorFile.load("crypter-padding")

    static var currentConstruction: [SpecVector] {
        crypter.vectors.filter { $0.input["construction"]?.string == "current" }
    }

    @Test(arguments: currentConstruction.filter(\.isValid).map(\.id))
    func sealsAndOpensTheVectorCiphertext(_ id: String) throws {
        let v = try #require(Self.crypter.vectors.first { $0.id == id })
        let key = v.input["key"]!.bytes
        let counter = UInt32(v.input["sequenceNumber"]!.int!)
        let plaintext = v.input["plaintext"]!.bytes
        let other = [UInt8](repeating: 0xEE, count: 32)
        if let padded = v.input["paddedPlaintext"] { #expect(KitPadding.pad(plaintext) == padded.bytes) }

        var sender = KitPhoneCrypter(readKey: other, writeKey: key, writeCounter: counter)
        let ciphertext = try sender.seal(padded: KitPadding.pad(plaintext))
        #expect(hexString(ciphertext) == v.expected!["ciphertext"]!.string)

        var receiver = KitPhoneCrypter(readKey: key, writeKey: other, readCounter: counter)
        #expect(receiver.open(ciphertext).flatMap(KitPadding.unpad) == plaintext)
        // The read counter advanced: the same message does not open twice.
        #expect(receiver.open(ciphertext) == nil)
    }

    @Test(arguments: currentConstruction.filter { !$0.isValid }.map(\.id))
    func refusesTheHostileVectors(_ id: String) throws {
        let v = try #require(Self.crypter.vectors.first { $0.id == id })
        let key = v.input["key"]!.bytes
        let counter = UInt32(v.input["sequenceNumber"]!.int!)
        let ciphertext = try #require(v.input["ciphertext"]).bytes
        var receiver = KitPhoneCrypter(readKey: key, writeKey: key, readCounter: counter)
        #expect(receiver.open(ciphertext) == nil)
    }

    @Test(arguments: padding.vectors.map(\.id))
    func paddingFollowsTheVectors(_ id: String) throws {
        let v = try #require(Self.padding.vectors.first { $0.id == id })
        if let padded = v.input["padded"] {
            let message = KitPadding.unpad(padded.bytes)
            if v.isValid {
                #expect(message == v.expected!["message"]!.bytes)
            } else {
                #expect(message == nil)
            }
        } else {
            #expect(KitPadding.pad(v.input["message"]!.bytes) == v.expected!["padded"]!.bytes)
        }
    }
}
