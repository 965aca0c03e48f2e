import CableCrypto
@_spi(Fuzzing) import CableProtocol
import CableTestSupport
import Testing

/// Keys and helpers shared by the Noise, crypter, message and linking tests.
enum NoiseFixture {
    /// A scalar made of one repeated byte (valid for 0x01…0x7F: below the group order).
    static func privateKey(_ byte: UInt8) -> P256.PrivateKey {
        do {
            return try P256.PrivateKey(rawScalar: [UInt8](repeating: byte, count: 32))
        } catch {
            preconditionFailure("fixture scalar \(byte) rejected: \(error)")
        }
    }

    static func psk(_ byte: UInt8 = 0x5A) -> PreSharedKey {
        do {
            return try PreSharedKey(bytes: [UInt8](repeating: byte, count: 32))
        } catch {
            preconditionFailure("fixture PSK rejected: \(error)")
        }
    }

    /// The desktop's QR key, the phone's identity key and the two ephemerals of every fixture handshake.
    static let desktopIdentity = privateKey(0x02)
    static let phoneIdentity = privateKey(0x03)
    static let desktopEphemeral = privateKey(0x11)
    static let phoneEphemeral = privateKey(0x22)

    /// A fresh initiator for `pattern` with the fixture keys (deterministic transcripts).
    static func initiator(_ pattern: HandshakePattern, psk: PreSharedKey = psk()) -> HandshakeInitiator {
        switch pattern {
        case .knpsk0:
            return HandshakeInitiator(qrFlowWith: psk, identity: Self.desktopIdentity, ephemeral: Self.desktopEphemeral)
        case .nkpsk0:
            return HandshakeInitiator(
                linkedFlowWith: psk,
                phoneIdentity: Self.phoneIdentity.publicKey,
                ephemeral: Self.desktopEphemeral
            )
        }
    }

    /// A fresh responder for `pattern` with the fixture keys (deterministic transcripts).
    static func responder(_ pattern: HandshakePattern, psk: PreSharedKey = psk()) -> HandshakeResponder {
        switch pattern {
        case .knpsk0:
            return HandshakeResponder(
                qrFlowWith: psk,
                desktopIdentity: Self.desktopIdentity.publicKey,
                ephemeral: Self.phoneEphemeral
            )
        case .nkpsk0:
            return HandshakeResponder(linkedFlowWith: psk, identity: Self.phoneIdentity, ephemeral: Self.phoneEphemeral)
        }
    }

    /// Both results and both messages of one handshake (a struct: tuples cannot hold `~Copyable` values).
    struct Run: ~Copyable {
        var desktop: HandshakeResult
        var phone: HandshakeResult
        let message1: [UInt8]
        let message2: [UInt8]
    }

    /// Runs a whole handshake and returns both results.
    static func handshake(_ pattern: HandshakePattern) throws -> Run {
        var initiator = Self.initiator(pattern)
        var responder = Self.responder(pattern)
        let message1 = try initiator.makeInitialMessage()
        let answer = try responder.respond(to: message1)
        let message2 = answer.response
        let desktop = try initiator.receiveResponse(message2)
        return Run(desktop: desktop, phone: answer.result, message1: message1, message2: message2)
    }
}

/// Asserts that `text` shows none of `secrets`: not as lower- or upper-case hex, and not as Swift's
/// decimal array rendering of their first bytes.
func expectRedacted(
    _ text: String,
    hiding secrets: [[UInt8]],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    for secret in secrets where !secret.isEmpty {
        let lower = hexString(secret)
        #expect(!text.contains(lower), "hex of a secret in \"\(text)\"", sourceLocation: sourceLocation)
        #expect(!text.contains(lower.uppercased()), "HEX of a secret in \"\(text)\"", sourceLocation: sourceLocation)
        let decimal = secret.prefix(4).map(String.init).joined(separator: ", ")
        #expect(!text.contains(decimal), "bytes of a secret in \"\(text)\"", sourceLocation: sourceLocation)
    }
}

extension NoiseFixture {
    static let linkSecret = [UInt8](repeating: 0x7C, count: 32)

    /// Linking info as Chromium's phone builds it, signed for `handshakeHash` and the fixture desktop key.
    static func linkingInfo(
        handshakeHash: HandshakeHash,
        contactID: [UInt8] = Array("push-token".utf8),
        name: String = "Pixel 7"
    ) throws -> LinkingInfo {
        try LinkingInfo(
            contactID: contactID,
            linkID: [1, 2, 3, 4, 5, 6, 7, 8],
            linkSecret: SecretBytes(Self.linkSecret),
            identity: Self.phoneIdentity,
            authenticatorName: name,
            desktopIdentity: Self.desktopIdentity.publicKey,
            handshakeHash: handshakeHash
        )
    }
}
