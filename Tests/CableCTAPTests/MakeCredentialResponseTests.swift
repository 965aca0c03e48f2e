import CableCBOR
import CableCTAP
import CableTestSupport
import Testing

@Suite struct MakeCredentialResponseTests {
    /// The CTAP form (`{1: fmt, 2: authData, 3: attStmt}`) of a real registration.
    static func sampleMap(_ index: Int = 1) throws -> CBORMap {
        let vector = RegistrationVectors.load("webauthn-registrations")[index]
        let members = try #require(CBORValue(decoding: hex(vector.input.attestationObject)).mapValue)
        var ctap = CBORMap()
        ctap[1] = members["fmt"]
        ctap[2] = members["authData"]
        ctap[3] = members["attStmt"]
        return ctap
    }

    @Test func decodesARealResponseAndReencodesIt() throws {
        let map = try Self.sampleMap()
        let response = try MakeCredentialResponse(cbor: .map(map))
        #expect(response.attestationStatement.format == "packed")
        #expect(
            response.authenticatorData.attestedCredentialData?.aaguid.uuidString
                == "adce0002-35bc-c60a-648b-0b25f1f05503"
        )
        #expect(response.rawAuthenticatorData == map[2]?.bytesValue)
        #expect(response.encoded == CBORValue.map(map).encoded)
        #expect(!response.description.contains("largeBlob"))
    }

    @Test(arguments: [(Int64(1), "fmt"), (2, "authData"), (3, "attStmt")])
    func missingMemberIsMissingParameter(_ key: Int64, _ name: String) throws {
        var map = try Self.sampleMap()
        map[.integer(key)] = nil
        expectCTAPError(.missingParameter, field: "makeCredentialResponse.\(name)") { () throws(CTAPError) in
            try MakeCredentialResponse(cbor: .map(map))
        }
    }

    @Test(arguments: [
        (Int64(1), CBORValue.integer(1)), (2, .textString("authData")), (3, .array([])), (4, .integer(1)),
        (5, .textString("k")),
    ])
    func memberOfWrongTypeIsUnexpectedType(_ key: Int64, _ value: CBORValue) throws {
        var map = try Self.sampleMap()
        map[.integer(key)] = value
        expectCTAPError(.unexpectedType) { () throws(CTAPError) in try MakeCredentialResponse(cbor: .map(map)) }
    }

    @Test func authenticatorDataWithoutCredentialIsRejected() throws {
        var map = try Self.sampleMap()
        let assertion = AssertionVectors.load("webauthn-assertions")[0]
        map[2] = .byteString(hex(assertion.input.authenticatorData))
        expectCTAPError(.attestedCredentialDataMissing) { () throws(CTAPError) in
            try MakeCredentialResponse(cbor: .map(map))
        }
    }

    @Test func malformedAuthenticatorDataIsRejectedWithItsOwnCode() throws {
        var map = try Self.sampleMap()
        let raw = try #require(map[2]?.bytesValue)
        map[2] = .byteString(Array(raw.dropLast()))
        expectCTAPError(.truncated, field: "makeCredentialResponse.authData.attestedCredentialData.credentialPublicKey")
        {
            () throws(CTAPError) in try MakeCredentialResponse(cbor: .map(map))
        }
    }

    @Test func statementThatDoesNotMatchItsFormatIsRejected() throws {
        var map = try Self.sampleMap()
        map[1] = "none"
        expectCTAPError(.invalidAttestationStatement) { () throws(CTAPError) in
            try MakeCredentialResponse(cbor: .map(map))
        }
    }

    @Test func everyTruncationIsInvalidCBOR() throws {
        let bytes = CBORValue.map(try Self.sampleMap()).encoded
        for length in 0..<bytes.count {
            expectCTAPError(.invalidCBOR) { () throws(CTAPError) in
                try MakeCredentialResponse(encoded: bytes.prefix(length))
            }
        }
    }
}
