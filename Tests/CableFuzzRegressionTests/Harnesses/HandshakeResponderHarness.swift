@_spi(Fuzzing) import CableProtocol

/// Fuzzes the phone's side of the Noise handshake (`HandshakeResponder.respond(to:)`) in both patterns,
/// with the fixed keys and PSK of the `noise-knpsk0.json` / `noise-nkpsk0.json` `*_fixed_ephemerals`
/// vectors, so those vectors' initiator messages (seeds) complete the handshake.
public enum HandshakeResponderHarness {
    /// A QR-flow (KNpsk0) responder waiting for message 1; a fresh one per input (the machine is
    /// `~Copyable`, so there is no prototype to copy).
    static func qrFlowResponder() -> HandshakeResponder {
        let vector = FuzzFixtures.qrHandshake
        do throws(CableProtocolError) {
            return try HandshakeResponder(
                qrFlowWith: try PreSharedKey(bytes: vector.bytes("psk")),
                desktopIdentity: vector.bytes("initiatorStaticPublic"),
                ephemeralScalar: vector.bytes("responderEphemeralPrivate")
            )
        } catch {
            preconditionFailure("knpsk0_fixed_ephemerals keys rejected: \(error.code)")
        }
    }

    /// A linked-flow (NKpsk0) responder waiting for message 1.
    static func linkedFlowResponder() -> HandshakeResponder {
        let vector = FuzzFixtures.linkedHandshake
        do throws(CableProtocolError) {
            return try HandshakeResponder(
                linkedFlowWith: try PreSharedKey(bytes: vector.bytes("psk")),
                identityScalar: vector.bytes("responderStaticPrivate"),
                ephemeralScalar: vector.bytes("responderEphemeralPrivate")
            )
        } catch {
            preconditionFailure("nkpsk0_fixed_ephemerals keys rejected: \(error.code)")
        }
    }

    /// Answers `input` as message 1 in both patterns.
    ///
    /// Invariants: an accepted message yields an 81-byte response; afterwards (accepted or not) the
    /// machine refuses any further message, as a session never retries a handshake.
    public static func run(_ input: [UInt8]) -> FuzzReport {
        var report = FuzzReport()
        for (name, makeResponder) in [("KNpsk0", Self.qrFlowResponder), ("NKpsk0", Self.linkedFlowResponder)] {
            var machine = makeResponder()
            if let response = report.attempt(
                "HandshakeResponder.respond(to:) [\(name)]",
                {
                    () throws(CableProtocolError) in try machine.respond(to: input).response
                }
            ) {
                fuzzInvariant(response.count == HandshakeMessageSize.message, "a handshake response is 81 bytes")
            }
            let again = try? machine.respond(to: input).response
            fuzzInvariant(again == nil, "a responder refuses every message after the first")
        }
        return report
    }
}
