import CableCBOR
import CableCTAP
import CableTestSupport
import Testing

@Suite struct GetAssertionResponseTests {
    static let vector = AssertionVectors.load("webauthn-assertions")[2]

    /// The CTAP form of a real assertion with a user handle.
    static func sampleMap() -> CBORMap {
        var map = CBORMap()
        map[1] = ["id": .byteString(hex(vector.input.credentialId)), "type": "public-key"]
        map[2] = .byteString(hex(vector.input.authenticatorData))
        map[3] = .byteString(hex(vector.input.signature))
        map[4] = ["id": .byteString(hex(vector.input.userHandle ?? "")), "name": "", "displayName": ""]
        map[6] = true
        return map
    }

    @Test func decodesARealAssertionInCTAPFormAndReencodesIt() throws {
        let map = Self.sampleMap()
        let response = try GetAssertionResponse(cbor: .map(map))
        #expect(response.credential?.id == hex(Self.vector.input.credentialId))
        #expect(response.rawAuthenticatorData == hex(Self.vector.input.authenticatorData))
        #expect(response.signature == hex(Self.vector.input.signature))
        #expect(response.user?.id == hex(Self.vector.input.userHandle ?? ""))
        #expect(response.userSelected == true)
        #expect(response.encoded == CBORValue.map(map).encoded)
    }

    @Test(arguments: [(Int64(2), "authData"), (3, "signature")])
    func missingRequiredMemberIsMissingParameter(_ key: Int64, _ name: String) {
        var map = Self.sampleMap()
        map[.integer(key)] = nil
        expectCTAPError(.missingParameter, field: "getAssertionResponse.\(name)") { () throws(CTAPError) in
            try GetAssertionResponse(cbor: .map(map))
        }
    }

    @Test func credentialMayBeOmitted() throws {
        var map = Self.sampleMap()
        map[1] = nil
        #expect(try GetAssertionResponse(cbor: .map(map)).credential == nil)
    }

    @Test(arguments: [
        (Int64(1), CBORValue.byteString([1])), (2, .textString("a")), (3, .array([])), (4, .byteString([1])),
        (5, .integer(-1)), (6, .integer(1)), (7, .bool(true)),
    ])
    func memberOfWrongTypeIsUnexpectedType(_ key: Int64, _ value: CBORValue) {
        var map = Self.sampleMap()
        map[.integer(key)] = value
        expectCTAPError(.unexpectedType) { () throws(CTAPError) in try GetAssertionResponse(cbor: .map(map)) }
    }

    @Test func registrationAuthenticatorDataIsRejected() throws {
        var map = Self.sampleMap()
        let registration = RegistrationVectors.load("webauthn-registrations")[0]
        let members = try #require(CBORValue(decoding: hex(registration.input.attestationObject)).mapValue)
        map[2] = members["authData"]
        expectCTAPError(.unexpectedAttestedCredentialData) { () throws(CTAPError) in
            try GetAssertionResponse(cbor: .map(map))
        }
    }

    @Test func oversizedSignatureIsRejected() {
        var map = Self.sampleMap()
        map[3] = .byteString([UInt8](repeating: 0x30, count: GetAssertionResponse.maxSignatureLength + 1))
        expectCTAPError(.tooLong) { () throws(CTAPError) in try GetAssertionResponse(cbor: .map(map)) }
    }

    @Test func everyTruncationIsInvalidCBOR() {
        let bytes = CBORValue.map(Self.sampleMap()).encoded
        for length in 0..<bytes.count {
            expectCTAPError(.invalidCBOR) { () throws(CTAPError) in
                try GetAssertionResponse(encoded: bytes.prefix(length))
            }
        }
    }
}
