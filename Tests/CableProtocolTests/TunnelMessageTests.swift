@_spi(Fuzzing) import CableProtocol
import CableTestSupport
import Testing

/// `TunnelMessage` framing (Chromium `MessageType`) and `ProtocolRevision`.
@Suite struct TunnelMessageTests {
    static let examples: [TunnelMessage] = [
        .shutdown, .ctap([0x01, 0xA0]), .ctap([]), .update([0xA0]), .json(Array("{}".utf8)), .json([]),
    ]

    @Test(arguments: examples)
    func everyMessageRoundTripsWithItsTypeByteFirst(_ message: TunnelMessage) throws {
        let frame = message.encoded()
        #expect(frame.first == message.messageType.rawValue)
        #expect(try TunnelMessage(decoding: frame) == message)
    }

    @Test func typeBytesAreChromiumsWireValues() {
        #expect(TunnelMessage.MessageType.allCases.map(\.rawValue) == [0, 1, 2, 3])
        #expect(TunnelMessage.shutdown.encoded() == [0])
    }

    @Test func everyTypeAbove3IsRejected() {
        for type in 4...255 {
            #expect(throws: CableProtocolError(.tunnelMessageUnknownType, "")) {
                try TunnelMessage(decoding: [UInt8(type), 0x01])
            }
        }
    }

    @Test func anEmptyFrameIsRejected() {
        #expect(throws: CableProtocolError(.tunnelMessageEmpty, "")) { try TunnelMessage(decoding: []) }
    }

    /// Chromium's phone acts on the shutdown type byte alone.
    @Test func aShutdownFramesPayloadIsIgnored() throws {
        #expect(try TunnelMessage(decoding: [0x00, 0x01, 0x02]) == .shutdown)
    }

    /// The crypter pads after the type byte is prepended (Chromium's order), so the frame decodes from
    /// the unpadded plaintext unchanged.
    @Test func framingThenPaddingThenUnpaddingRoundTrips() throws {
        let message = TunnelMessage.ctap([0x01] + [UInt8](repeating: 0xA5, count: 40))
        let plaintext = try MessagePadding.unpad(MessagePadding.pad(message.encoded()))
        #expect(try TunnelMessage(decoding: plaintext) == message)
    }

    @Test func revisionZeroFramesAreBareCTAP() throws {
        #expect(try TunnelMessage(decoding: [0x05, 0x06], revision: .zero) == .ctap([0x05, 0x06]))
        #expect(try TunnelMessage(decoding: [], revision: .zero) == .ctap([]))
        #expect(TunnelMessage.ctap([0x01, 0x02]).encoded(revision: .zero) == [0x01, 0x02])
    }

    @Test func revisionsAreOrdered() {
        #expect(ProtocolRevision.zero < .one)
        #expect(ProtocolRevision.one.description == "v2.1")
    }

    @Test func descriptionShowsTypeAndSizeButNoPayload() {
        let secret: [UInt8] = [0xC0, 0xFF, 0xEE, 0x42, 0x13]
        for message in [TunnelMessage.ctap(secret), .update(secret), .json(secret)] {
            let text = String(describing: message)
            #expect(text.contains("5 bytes"))
            expectRedacted(text, hiding: [secret])
            expectRedacted(String(reflecting: message), hiding: [secret])
        }
    }
}
