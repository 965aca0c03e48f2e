import CableCBOR
import CableCTAP
import CableTestSupport
import Testing

@Suite struct GetAssertionRequestTests {
    static func sampleMap() throws -> CBORMap {
        let vector = try #require(
            RequestVectors.load("ctap-requests").first { $0.id == "get_assertion_derived_session" }
        )
        return try #require(CBORValue(decoding: hex(vector.input.tunnelPlaintext).dropFirst(2)).mapValue)
    }

    static func decode(_ map: CBORMap) throws(CTAPError) -> GetAssertionRequest {
        try GetAssertionRequest(cbor: .map(map))
    }

    @Test(arguments: [(Int64(1), "getAssertion.rpId"), (2, "getAssertion.clientDataHash")])
    func missingRequiredParameterIsMissingParameter(_ key: Int64, _ field: String) throws {
        var map = try Self.sampleMap()
        map[.integer(key)] = nil
        expectCTAPError(.missingParameter, field: field) { () throws(CTAPError) in try Self.decode(map) }
    }

    @Test(arguments: [
        (Int64(1), CBORValue.byteString([1])), (2, .textString("hash")), (3, .map(CBORMap())), (4, .array([])),
        (5, .array([])), (6, .integer(1)), (7, .textString("2")),
    ])
    func parameterOfWrongTypeIsCBORUnexpectedType(_ key: Int64, _ value: CBORValue) throws {
        var map = try Self.sampleMap()
        map[.integer(key)] = value
        expectCTAPError(.unexpectedType) { () throws(CTAPError) in try Self.decode(map) }
    }

    @Test func clientDataHashMustBe32Bytes() throws {
        var map = try Self.sampleMap()
        map[2] = .byteString([UInt8](repeating: 1, count: 20))
        expectCTAPError(.invalidLength, field: "getAssertion.clientDataHash") { () throws(CTAPError) in
            try Self.decode(map)
        }
    }

    @Test func allowListEntryWithoutIDIsMissingParameter() throws {
        var map = try Self.sampleMap()
        map[3] = [["type": "public-key"]]
        expectCTAPError(.missingParameter, field: "getAssertion.allowList[0].id") { () throws(CTAPError) in
            try Self.decode(map)
        }
    }

    @Test func allowListCredentialIDLongerThan1023BytesIsRejected() throws {
        var map = try Self.sampleMap()
        let id = CBORValue.byteString([UInt8](repeating: 1, count: 1024))
        map[3] = .array([
            .map(CBORMap(uniqueKeysWithValues: [(.textString("id"), id), (.textString("type"), "public-key")]))
        ])
        expectCTAPError(.tooLong, field: "getAssertion.allowList[0].id") { () throws(CTAPError) in try Self.decode(map)
        }
    }

    @Test func encodesWithAnAllowListAndDecodesItBack() throws {
        let request = GetAssertionRequest(
            rpID: "login.example.com",
            clientDataHash: [UInt8](repeating: 2, count: 32),
            allowList: [PublicKeyCredentialDescriptor(id: [1, 2, 3], transports: ["hybrid"])],
            options: AuthenticatorOptions(userPresence: true, userVerification: true)
        )
        #expect(try GetAssertionRequest(encoded: request.encoded) == request)
        #expect(try CTAPRequest(frame: CTAPRequest.getAssertion(request).frame) == .getAssertion(request))
    }
}
