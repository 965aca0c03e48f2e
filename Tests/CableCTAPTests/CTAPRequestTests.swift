import CableCBOR
import CableCTAP
import CableTestSupport
import Testing

@Suite struct CTAPRequestTests {
    static let vectors = RequestVectors.load("ctap-requests")

    /// The CTAP frame inside a tunnel plaintext (byte 0 is the hybrid message type, 1 = CTAP).
    static func frame(_ vector: RequestVectors.Vector) throws -> [UInt8] {
        let plaintext = hex(vector.input.tunnelPlaintext)
        try #require(plaintext.first == 0x01)
        return Array(plaintext.dropFirst())
    }

    @Test(arguments: vectors)
    func decodesTunnelRequestFramesAndReencodesThemIdentically(_ vector: RequestVectors.Vector) throws {
        let frame = try Self.frame(vector)
        let request = try CTAPRequest(frame: frame)
        #expect(request.frame == frame)
        let expected = vector.expected
        switch request {
        case .makeCredential(let request):
            #expect(expected.command == "makeCredential")
            #expect(hexString(request.clientDataHash) == expected.clientDataHash)
            #expect(request.rp.id == expected.rpId)
            #expect(request.rp.name == expected.rpName)
            #expect(hexString(request.user.id) == expected.userId)
            #expect(request.user.name == expected.userName)
            #expect(request.user.displayName == expected.userDisplayName)
            #expect(request.publicKeyCredentialParameters.map(\.algorithm.rawValue) == expected.algorithms)
            #expect(request.publicKeyCredentialParameters.allSatisfy { $0.type == "public-key" })
            #expect(request.excludeList?.map { hexString($0.id) } == expected.excludeList)
            #expect(Self.options(request.options) == expected.options)
        case .getAssertion(let request):
            #expect(expected.command == "getAssertion")
            #expect(request.rpID == expected.rpId)
            #expect(hexString(request.clientDataHash) == expected.clientDataHash)
            #expect(request.allowList == nil)
            #expect(Self.options(request.options) == expected.options)
        case .getInfo, .selection:
            Issue.record("unexpected \(request.command)")
        }
    }

    static func options(_ options: AuthenticatorOptions?) -> [String: Bool]? {
        guard let options else { return nil }
        var out: [String: Bool] = [:]
        out["rk"] = options.residentKey
        out["up"] = options.userPresence
        out["uv"] = options.userVerification
        return out
    }

    @Test func getInfoAndSelectionAreBareCommandBytes() throws {
        #expect(try CTAPRequest(frame: [0x04]) == .getInfo)
        #expect(try CTAPRequest(frame: [0x0B]) == .selection)
        #expect(CTAPRequest.getInfo.frame == [0x04])
        #expect(CTAPRequest.selection.frame == [0x0B])
    }

    @Test func getInfoWithAPayloadIsRejected() {
        // Chromium's phone: a getInfo with a payload is an error (hybrid-protocol.md §8.2).
        let error = expectCTAPError(.unexpectedPayload) { () throws(CTAPError) in try CTAPRequest(frame: [0x04, 0xA0]) }
        #expect(error?.status == .invalidLength)
        expectCTAPError(.unexpectedPayload) { () throws(CTAPError) in try CTAPRequest(frame: [0x0B, 0x00]) }
    }

    @Test func emptyFrameIsRejected() {
        expectCTAPError(.emptyMessage) { () throws(CTAPError) in try CTAPRequest(frame: []) }
    }

    @Test(arguments: [UInt8(0x00), 0x03, 0x05, 0x06, 0x07, 0x08, 0x0A, 0x0D, 0x40, 0xFF])
    func commandsNotServedOverHybridAreInvalidCommand(_ command: UInt8) {
        let error = expectCTAPError(.unsupportedCommand, field: "request.command") { () throws(CTAPError) in
            try CTAPRequest(frame: [command, 0xA0])
        }
        #expect(error?.status == .invalidCommand)
    }

    @Test func makeCredentialWithoutParametersIsInvalidCBOR() {
        expectCTAPError(.invalidCBOR) { () throws(CTAPError) in try CTAPRequest(frame: [0x01]) }
    }

    @Test(arguments: vectors)
    func everyTruncationOfARealFrameIsRejected(_ vector: RequestVectors.Vector) throws {
        let frame = try Self.frame(vector)
        for length in 0..<frame.count {
            #expect(throws: CTAPError.self) { try CTAPRequest(frame: frame.prefix(length)) }
        }
    }

    @Test func randomFramesNeverCrash() {
        var rng = DeterministicRNG(seed: 0xF4A3)
        for _ in 0..<3000 {
            let count = Int.random(in: 0..<64, using: &rng)
            var frame = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if !frame.isEmpty { frame[0] = [0x01, 0x02, 0x04, 0x0B].randomElement(using: &rng) ?? 0x01 }
            if let request = try? CTAPRequest(frame: frame) { #expect(request.frame == frame) }
        }
    }
}
