@_spi(Fuzzing) import CableProtocol

/// Fuzzes the desktop's side of the Noise handshake (`HandshakeInitiator.receiveResponse`) after a fixed
/// first message, in both patterns, with the keys of the `*_fixed_ephemerals` Noise vectors so those
/// vectors' responder messages (seeds) complete the handshake.
public enum HandshakeInitiatorHarness {
    /// A QR-flow (KNpsk0) initiator that has sent its first message; a fresh one per input (the machine
    /// is `~Copyable`, so there is no prototype to copy).
    static func qrFlowInitiator() -> HandshakeInitiator {
        let vector = FuzzFixtures.qrHandshake
        do throws(CableProtocolError) {
            var initiator = try HandshakeInitiator(
                qrFlowWith: try PreSharedKey(bytes: vector.bytes("psk")),
                identityScalar: vector.bytes("initiatorStaticPrivate"),
                ephemeralScalar: vector.bytes("initiatorEphemeralPrivate")
            )
            _ = try initiator.makeInitialMessage()
            return initiator
        } catch {
            preconditionFailure("knpsk0_fixed_ephemerals keys rejected: \(error.code)")
        }
    }

    /// A linked-flow (NKpsk0) initiator that has sent its first message.
    static func linkedFlowInitiator() -> HandshakeInitiator {
        let vector = FuzzFixtures.linkedHandshake
        do throws(CableProtocolError) {
            var initiator = try HandshakeInitiator(
                linkedFlowWith: try PreSharedKey(bytes: vector.bytes("psk")),
                phoneIdentity: vector.bytes("responderStaticPublic"),
                ephemeralScalar: vector.bytes("initiatorEphemeralPrivate")
            )
            _ = try initiator.makeInitialMessage()
            return initiator
        } catch {
            preconditionFailure("nkpsk0_fixed_ephemerals keys rejected: \(error.code)")
        }
    }

    /// Receives `input` as the phone's response in both patterns.
    ///
    /// Invariant: afterwards (accepted or not) the machine refuses any further response.
    public static func run(_ input: [UInt8]) -> FuzzReport {
        var report = FuzzReport()
        for (name, makeInitiator) in [("KNpsk0", Self.qrFlowInitiator), ("NKpsk0", Self.linkedFlowInitiator)] {
            var machine = makeInitiator()
            report.attempt("HandshakeInitiator.receiveResponse [\(name)]") { () throws(CableProtocolError) in
                try machine.receiveResponse(input).handshakeHash
            }
            let again = try? machine.receiveResponse(input).handshakeHash
            fuzzInvariant(again == nil, "an initiator refuses every response after the first")
        }
        return report
    }
}
