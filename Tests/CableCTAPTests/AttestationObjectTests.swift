import CableCBOR
import CableCTAP
import CableTestSupport
import Testing

@Suite struct AttestationObjectTests {
    static let vectors = RegistrationVectors.load("webauthn-registrations")

    @Test(arguments: vectors)
    func parsesRealAttestationObjectsAndReencodesThem(_ vector: RegistrationVectors.Vector) throws {
        let bytes = hex(vector.input.attestationObject)
        let object = try AttestationObject(encoded: bytes)
        #expect(object.attestationStatement.format == vector.expected.fmt)
        #expect(object.authenticatorData.attestedCredentialData?.aaguid.uuidString == vector.expected.aaguid)
        if case .packed(let packed) = object.attestationStatement {
            #expect(packed.certificateChain.count == vector.expected.x5cCount)
            #expect(packed.algorithm == .es256)
        }
        #expect(object.encoded == bytes)
    }

    @Test func convertsToAndFromTheCTAPResponseForm() throws {
        let object = try AttestationObject(encoded: hex(Self.vectors[1].input.attestationObject))
        let members = try #require(CBORValue(decoding: hex(Self.vectors[1].input.attestationObject)).mapValue)
        var ctap = CBORMap()
        ctap[1] = members["fmt"]
        ctap[2] = members["authData"]
        ctap[3] = members["attStmt"]
        let response = try MakeCredentialResponse(cbor: .map(ctap))
        #expect(response.attestationObject == object)
        #expect(response.encoded == CBORValue.map(ctap).encoded)
    }

    @Test(arguments: ["fmt", "attStmt", "authData"])
    func missingMemberIsMissingParameter(_ name: String) throws {
        var members = try #require(CBORValue(decoding: hex(Self.vectors[0].input.attestationObject)).mapValue)
        members[.textString(name)] = nil
        expectCTAPError(.missingParameter, field: "attestationObject.\(name)") { () throws(CTAPError) in
            try AttestationObject(encoded: CBORValue.map(members).encoded)
        }
    }

    @Test func extraMemberIsRejected() throws {
        var members = try #require(CBORValue(decoding: hex(Self.vectors[0].input.attestationObject)).mapValue)
        members["epAtt"] = .bool(true)
        expectCTAPError(.unexpectedParameter) { () throws(CTAPError) in
            try AttestationObject(encoded: CBORValue.map(members).encoded)
        }
    }

    @Test func authenticatorDataWithoutCredentialIsRejected() throws {
        var members = try #require(CBORValue(decoding: hex(Self.vectors[0].input.attestationObject)).mapValue)
        let assertion = AssertionVectors.load("webauthn-assertions")[0]
        members["authData"] = .byteString(hex(assertion.input.authenticatorData))
        expectCTAPError(.attestedCredentialDataMissing) { () throws(CTAPError) in
            try AttestationObject(encoded: CBORValue.map(members).encoded)
        }
    }

    @Test func everyTruncationIsInvalidCBOR() {
        let bytes = hex(Self.vectors[0].input.attestationObject)
        for length in 0..<bytes.count {
            expectCTAPError(.invalidCBOR) { () throws(CTAPError) in try AttestationObject(encoded: bytes.prefix(length))
            }
        }
    }

    @Test func everySingleBitFlipIsRejectedOrReencodesIdentically() {
        let bytes = hex(Self.vectors[1].input.attestationObject)
        for index in bytes.indices {
            for bit in 0..<8 {
                var mutated = bytes
                mutated[index] ^= 1 << bit
                if let object = try? AttestationObject(encoded: mutated) { #expect(object.encoded == mutated) }
            }
        }
    }
}
