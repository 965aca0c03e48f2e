import CableAuthenticator
import CableCBOR
import CableCTAP
import CableTestSupport
import Testing

/// Malformed, truncated, mistyped, oversized and random requests: each is answered with the CTAP2 status
/// the specification names, as a single byte, and never crashes the phone.
@Suite struct PhoneAuthenticatorHostileInputTests {
    private static let makeCredentialFrame = CTAPRequest.makeCredential(Fixtures.makeCredential()).frame
    private static let getAssertionFrame = CTAPRequest.getAssertion(Fixtures.getAssertion()).frame

    /// A makeCredential frame whose parameter map went through `change`.
    private static func makeCredential(_ change: (inout CBORMap) -> Void) -> [UInt8] {
        var map = Fixtures.makeCredential().cbor.mapValue ?? CBORMap()
        change(&map)
        return [CTAPCommand.makeCredential.rawValue] + CBORValue.map(map).encoded
    }

    /// A getAssertion frame whose parameter map went through `change`.
    private static func getAssertion(_ change: (inout CBORMap) -> Void) -> [UInt8] {
        var map = Fixtures.getAssertion().cbor.mapValue ?? CBORMap()
        change(&map)
        return [CTAPCommand.getAssertion.rawValue] + CBORValue.map(map).encoded
    }

    /// A response frame is either `CTAP2_OK` with a payload of the request's type, or one error byte.
    private static func expectWellFormed(
        _ frame: [UInt8],
        command: UInt8?,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let status = status(of: frame) else {
            Issue.record("empty response frame", sourceLocation: sourceLocation)
            return
        }
        guard status == .ok else {
            #expect(frame.count == 1, "error \(status) carries a payload", sourceLocation: sourceLocation)
            return
        }
        let payload = frame.dropFirst()
        switch command {
        case CTAPCommand.makeCredential.rawValue:
            #expect(throws: Never.self, sourceLocation: sourceLocation) { try MakeCredentialResponse(encoded: payload) }
        case CTAPCommand.getAssertion.rawValue:
            #expect(throws: Never.self, sourceLocation: sourceLocation) { try GetAssertionResponse(encoded: payload) }
        case CTAPCommand.getInfo.rawValue:
            #expect(throws: Never.self, sourceLocation: sourceLocation) { try GetInfoResponse(encoded: payload) }
        default:
            #expect(payload.isEmpty, sourceLocation: sourceLocation)
        }
    }

    // MARK: - Frames

    @Test func emptyFrameIsInvalidLength() async {
        #expect(await Phone().authenticator.handle([]) == [CTAPStatus.invalidLength.rawValue])
    }

    @Test(arguments: [0x00, 0x03, 0x05, 0x42, 0x7F, 0xFF] as [UInt8])
    func unknownCommandIsInvalidCommand(command: UInt8) async {
        #expect(await Phone().authenticator.handle([command, 0xA0]) == [CTAPStatus.invalidCommand.rawValue])
    }

    @Test(arguments: [CTAPCommand.clientPIN, .reset, .getNextAssertion, .credentialManagement, .config])
    func commandsNotServedOverHybridAreInvalidCommand(command: CTAPCommand) async {
        #expect(await Phone().authenticator.handle([command.rawValue]) == [CTAPStatus.invalidCommand.rawValue])
    }

    @Test func getInfoWithAPayloadIsInvalidLength() async {
        #expect(
            await Phone().authenticator.handle([CTAPCommand.getInfo.rawValue, 0xA0]) == [
                CTAPStatus.invalidLength.rawValue
            ]
        )
    }

    @Test func requestOverTheSizeLimitIsRequestTooLarge() async {
        let phone = Phone()
        let oversized =
            [CTAPCommand.makeCredential.rawValue] + Array(repeating: 0, count: PhoneAuthenticator.maxRequestSize)
        #expect(await phone.authenticator.handle(oversized) == [CTAPStatus.requestTooLarge.rawValue])
        // One byte less reaches the decoder (and is refused there as CBOR).
        #expect(await phone.authenticator.handle(Array(oversized.dropLast())) == [CTAPStatus.invalidCBOR.rawValue])
    }

    // MARK: - CBOR

    @Test func everyTruncationOfARequestIsInvalidCBOR() async throws {
        let phone = Phone()
        for frame in [Self.makeCredentialFrame, Self.getAssertionFrame] {
            for length in 1..<frame.count {
                #expect(
                    await phone.authenticator.handle(Array(frame.prefix(length))) == [CTAPStatus.invalidCBOR.rawValue],
                    "prefix \(length)"
                )
            }
        }
        #expect(try phone.store.list().isEmpty)
    }

    @Test func trailingBytesAfterTheParameterMapAreInvalidCBOR() async {
        #expect(
            await Phone().authenticator.handle(Self.makeCredentialFrame + [0x00]) == [CTAPStatus.invalidCBOR.rawValue]
        )
    }

    @Test func nonCanonicalMapOrderIsInvalidCBOR() async {
        // {2: "x", 1: h'00'}: keys out of CTAP2 canonical order.
        let frame: [UInt8] = [CTAPCommand.getAssertion.rawValue, 0xA2, 0x02, 0x61, 0x78, 0x01, 0x41, 0x00]
        #expect(await Phone().authenticator.handle(frame) == [CTAPStatus.invalidCBOR.rawValue])
    }

    // MARK: - Parameters

    @Test func parametersThatAreNotAMapAreUnexpectedType() async {
        let frame = [CTAPCommand.makeCredential.rawValue] + CBORValue.array([.integer(1)]).encoded
        #expect(await Phone().authenticator.handle(frame) == [CTAPStatus.cborUnexpectedType.rawValue])
    }

    @Test(arguments: [1, 2, 3, 4] as [Int64])
    func missingRequiredMakeCredentialParameterIsMissingParameter(key: Int64) async {
        let frame = Self.makeCredential { $0[.integer(key)] = nil }
        #expect(await Phone().authenticator.handle(frame) == [CTAPStatus.missingParameter.rawValue])
    }

    @Test(arguments: [1, 2] as [Int64])
    func missingRequiredGetAssertionParameterIsMissingParameter(key: Int64) async {
        let frame = Self.getAssertion { $0[.integer(key)] = nil }
        #expect(await Phone().authenticator.handle(frame) == [CTAPStatus.missingParameter.rawValue])
    }

    @Test func mistypedParametersAreUnexpectedType() async {
        let phone = Phone()
        let frames: [(String, [UInt8])] = [
            ("clientDataHash as text", Self.makeCredential { $0[1] = .textString(String(repeating: "a", count: 32)) }),
            ("rp as array", Self.makeCredential { $0[2] = .array([]) }),
            ("user.id as text", Self.makeCredential { $0[3] = ["id": "alice"] }),
            ("pubKeyCredParams as map", Self.makeCredential { $0[4] = ["alg": -7] }),
            ("alg as text", Self.makeCredential { $0[4] = [["alg": "ES256", "type": "public-key"]] }),
            ("excludeList entry as bytes", Self.makeCredential { $0[5] = [.byteString([1, 2])] }),
            ("options.rk as integer", Self.makeCredential { $0[7] = ["rk": 1] }),
            ("rpId as integer", Self.getAssertion { $0[1] = 7 }),
            ("allowList as map", Self.getAssertion { $0[3] = ["id": .byteString([1])] }),
            ("options.up as text", Self.getAssertion { $0[5] = ["up": "no"] }),
        ]
        for (name, frame) in frames {
            #expect(await phone.authenticator.handle(frame) == [CTAPStatus.cborUnexpectedType.rawValue], "\(name)")
        }
    }

    @Test func clientDataHashOfTheWrongLengthIsInvalidLength() async {
        let short = Self.makeCredential { $0[1] = .byteString(Array(repeating: 0, count: 31)) }
        let long = Self.getAssertion { $0[2] = .byteString(Array(repeating: 0, count: 33)) }
        #expect(await Phone().authenticator.handle(short) == [CTAPStatus.invalidLength.rawValue])
        #expect(await Phone().authenticator.handle(long) == [CTAPStatus.invalidLength.rawValue])
    }

    @Test func allowListEntryWithoutAnIDIsMissingParameter() async {
        let frame = Self.getAssertion { $0[3] = [["type": "public-key"]] }
        #expect(await Phone().authenticator.handle(frame) == [CTAPStatus.missingParameter.rawValue])
    }

    @Test func userHandleOverSixtyFourBytesIsRefused() async {
        let frame = Self.makeCredential { $0[3] = ["id": .byteString(Array(repeating: 1, count: 65))] }
        #expect(await Phone().authenticator.handle(frame) == [CTAPStatus.invalidLength.rawValue])
    }

    // MARK: - Fuzzing

    @Test func everySingleBitFlipOfARequestGetsAWellFormedAnswer() async {
        let phone = Phone()
        for frame in [Self.makeCredentialFrame, Self.getAssertionFrame] {
            for bit in 0..<(frame.count * 8) {
                var flipped = frame
                flipped[bit / 8] ^= 1 << (bit % 8)
                Self.expectWellFormed(await phone.authenticator.handle(flipped), command: flipped.first)
            }
        }
    }

    @Test func randomFramesGetWellFormedAnswers() async {
        let phone = Phone()
        var random = DeterministicRNG(seed: 0xC0FFEE)
        let commands: [UInt8] = [0x01, 0x02, 0x04, 0x0B]
        for _ in 0..<3000 {
            let length = Int.random(in: 0...96, using: &random)
            var frame = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if !frame.isEmpty, Bool.random(using: &random) {
                frame[0] = commands[Int.random(in: 0..<commands.count, using: &random)]
            }
            Self.expectWellFormed(await phone.authenticator.handle(frame), command: frame.first)
        }
    }

    @Test func randomCBORMapsAsParametersGetWellFormedAnswers() async {
        let phone = Phone()
        var random = DeterministicRNG(seed: 42)
        let values: [CBORValue] = [
            0, -7, 1, "public-key", "example.com", .byteString([]), .byteString(Array(repeating: 0xAB, count: 32)),
            .bool(true), .bool(false), .null, [], [:], [["alg": -7, "type": "public-key"]], ["id": .byteString([1])],
        ]
        for _ in 0..<2000 {
            var map = CBORMap()
            for _ in 0..<Int.random(in: 0...6, using: &random) {
                map[.integer(Int64.random(in: 0...10, using: &random))] =
                    values[Int.random(in: 0..<values.count, using: &random)]
            }
            let command = Bool.random(using: &random) ? CTAPCommand.makeCredential : .getAssertion
            let frame = [command.rawValue] + CBORValue.map(map).encoded
            Self.expectWellFormed(await phone.authenticator.handle(frame), command: command.rawValue)
        }
    }
}
