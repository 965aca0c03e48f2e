import CableProtocol

/// Fuzzes the tunnel crypter's read side (`Crypter.open`) and the frame decoding that follows it
/// (`TunnelMessage(decoding:)`), with the read key of `crypter.json` `crypter_constructions_new_counter0`
/// at sequence number 0, so that file's ciphertexts under that key (seeds) authenticate.
public enum CrypterOpenHarness {
    /// The vector's key, which is both the sender's write key and our read key.
    static let key = FuzzFixtures.crypter.bytes("key")

    /// The policies of a desktop's crypter (current construction, legacy fallback on the first read) and
    /// a phone's (fixed current construction).
    static let policies: [(name: String, policy: Crypter.ConstructionPolicy)] = [
        ("fallback", .fallbackOnFirstRead(initial: .current)), ("fixed", .fixed(.current)),
    ]

    /// A fresh crypter per input: a crypter is `~Copyable`, so there is no prototype to copy.
    static func crypter(_ policy: Crypter.ConstructionPolicy) -> Crypter {
        do throws(CableProtocolError) {
            return try Crypter(readKey: Self.key, writeKey: Self.key, policy: policy)
        } catch {
            preconditionFailure("crypter_constructions_new_counter0: key rejected (\(error.code))")
        }
    }

    /// Opens `input` as the first ciphertext of a session, then decodes the plaintext as a frame.
    ///
    /// Invariant: an accepted ciphertext is not accepted a second time (the read counter moved on).
    public static func run(_ input: [UInt8]) -> FuzzReport {
        var report = FuzzReport()
        for (name, policy) in Self.policies {
            var machine = Self.crypter(policy)
            guard
                let plaintext = report.attempt(
                    "Crypter.open [\(name)]",
                    { () throws(CableProtocolError) in
                        try machine.open(input)
                    }
                )
            else {
                continue
            }
            let replay = try? machine.open(input)
            fuzzInvariant(replay == nil, "a ciphertext that was accepted once is refused when replayed")
            for revision in [ProtocolRevision.one, .zero] {
                report.attempt("TunnelMessage(decoding:) [\(revision)]") { () throws(CableProtocolError) in
                    try TunnelMessage(decoding: plaintext, revision: revision)
                }
            }
        }
        return report
    }
}
