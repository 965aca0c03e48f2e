@_spi(Fuzzing) import CableProtocol

/// Fuzzes the plaintext side of the tunnel: padding removal (`MessagePadding.unpad`) and frame decoding
/// (`TunnelMessage(decoding:)`), plus a seal/open round trip of the input through two real crypters.
public enum TunnelFrameHarness {
    /// Traffic keys from `crypter.json` `crypter_firefox_consistency` (`key` and `peerKey`).
    static let keys: (key: [UInt8], peerKey: [UInt8]) = {
        let vector = FuzzFixtures.vector("crypter", "crypter_firefox_consistency")
        return (vector.bytes("key"), vector.bytes("peerKey"))
    }()

    /// Runs the plaintext-side parsers over `input`.
    ///
    /// Invariants: `unpad(pad(x)) == x`; a decoded revision-1 frame re-encodes to the input (a shutdown
    /// frame to its type byte alone, since Chromium ignores its payload); a message sealed by one side
    /// opens to itself on the other, also when a legacy phone meets a desktop that falls back.
    public static func run(_ input: [UInt8]) -> FuzzReport {
        var report = FuzzReport()
        report.attempt("MessagePadding.unpad") { () throws(CableProtocolError) in try MessagePadding.unpad(input) }
        let unpadded = try? MessagePadding.unpad(MessagePadding.pad(input))
        fuzzInvariant(unpadded == input, "padding then unpadding gives the message back")

        if let frame = report.attempt(
            "TunnelMessage(decoding:) [v2.1]",
            { () throws(CableProtocolError) in
                try TunnelMessage(decoding: input, revision: .one)
            }
        ) {
            let expected = frame == .shutdown ? [TunnelMessage.MessageType.shutdown.rawValue] : input
            fuzzInvariant(frame.encoded(revision: .one) == expected, "a decoded frame re-encodes to its input")
        }
        report.attempt("TunnelMessage(decoding:) [v2.0]") { () throws(CableProtocolError) in
            try TunnelMessage(decoding: input, revision: .zero)
        }

        for (sender, receiver) in [
            (Crypter.ConstructionPolicy.fixed(.current), Crypter.ConstructionPolicy.fixed(.current)),
            (.fixed(.legacy), .fallbackOnFirstRead(initial: .current)),
        ] {
            guard var phone = try? Crypter(readKey: Self.keys.peerKey, writeKey: Self.keys.key, policy: sender),
                var desktop = try? Crypter(readKey: Self.keys.key, writeKey: Self.keys.peerKey, policy: receiver)
            else {
                preconditionFailure("crypter_firefox_consistency: keys rejected")
            }
            guard
                let sealed = report.attempt(
                    "Crypter.seal",
                    { () throws(CableProtocolError) in
                        try phone.seal(input)
                    }
                )
            else { continue }
            let opened = report.attempt("Crypter.open(sealed)") { () throws(CableProtocolError) in
                try desktop.open(sealed)
            }
            fuzzInvariant(opened == input, "a sealed message opens to itself on the other side")
        }
        return report
    }
}
