import CableCBOR
import CableCTAP
import CableTestSupport
import Testing

@Suite struct MakeCredentialRequestTests {
    /// The derived session's makeCredential parameters (a Chromium-shaped request).
    static func sampleMap() throws -> CBORMap {
        let vector = try #require(
            RequestVectors.load("ctap-requests").first { $0.id == "make_credential_derived_session" }
        )
        return try #require(CBORValue(decoding: hex(vector.input.tunnelPlaintext).dropFirst(2)).mapValue)
    }

    static func decode(_ map: CBORMap) throws(CTAPError) -> MakeCredentialRequest {
        try MakeCredentialRequest(cbor: .map(map))
    }

    @Test(arguments: [
        (Int64(1), "makeCredential.clientDataHash"), (2, "makeCredential.rp"), (3, "makeCredential.user"),
        (4, "makeCredential.pubKeyCredParams"),
    ])
    func missingRequiredParameterIsMissingParameter(_ key: Int64, _ field: String) throws {
        var map = try Self.sampleMap()
        map[.integer(key)] = nil
        let error = expectCTAPError(.missingParameter, field: field) { () throws(CTAPError) in try Self.decode(map) }
        #expect(error?.status == .missingParameter)
    }

    @Test(arguments: [
        (Int64(1), CBORValue.textString("hash")), (2, .textString("example.com")), (3, .byteString([1])),
        (4, .map(CBORMap())), (5, .map(CBORMap())), (6, .array([])), (7, .bool(true)), (8, .textString("x")),
        (9, .integer(-1)), (10, .bool(true)),
    ])
    func parameterOfWrongTypeIsCBORUnexpectedType(_ key: Int64, _ value: CBORValue) throws {
        var map = try Self.sampleMap()
        map[.integer(key)] = value
        let error = expectCTAPError(.unexpectedType) { () throws(CTAPError) in try Self.decode(map) }
        #expect(error?.status == .cborUnexpectedType)
    }

    @Test(arguments: [0, 16, 31, 33, 64])
    func clientDataHashMustBe32Bytes(_ length: Int) throws {
        var map = try Self.sampleMap()
        map[1] = .byteString([UInt8](repeating: 7, count: length))
        expectCTAPError(.invalidLength, field: "makeCredential.clientDataHash") { () throws(CTAPError) in
            try Self.decode(map)
        }
    }

    @Test func rpWithoutIDIsMissingParameter() throws {
        var map = try Self.sampleMap()
        map[2] = ["name": "Example"]
        expectCTAPError(.missingParameter, field: "makeCredential.rp.id") { () throws(CTAPError) in try Self.decode(map)
        }
    }

    @Test func userWithoutIDIsMissingParameter() throws {
        var map = try Self.sampleMap()
        map[3] = ["name": "alice"]
        expectCTAPError(.missingParameter, field: "makeCredential.user.id") { () throws(CTAPError) in
            try Self.decode(map)
        }
    }

    @Test func userIDLongerThan64BytesIsRejected() throws {
        var map = try Self.sampleMap()
        map[3] = .map(
            CBORMap(uniqueKeysWithValues: [(.textString("id"), .byteString([UInt8](repeating: 1, count: 65)))])
        )
        expectCTAPError(.tooLong, field: "makeCredential.user.id") { () throws(CTAPError) in try Self.decode(map) }
    }

    @Test func credentialParameterWithoutAlgIsMissingParameter() throws {
        var map = try Self.sampleMap()
        map[4] = [["type": "public-key"]]
        expectCTAPError(.missingParameter, field: "makeCredential.pubKeyCredParams[0].alg") { () throws(CTAPError) in
            try Self.decode(map)
        }
    }

    @Test func credentialParameterThatIsNotAMapIsUnexpectedType() throws {
        var map = try Self.sampleMap()
        map[4] = [-7]
        expectCTAPError(.unexpectedType, field: "makeCredential.pubKeyCredParams[0]") { () throws(CTAPError) in
            try Self.decode(map)
        }
    }

    @Test func excludeListEntryWithoutTypeIsMissingParameter() throws {
        var map = try Self.sampleMap()
        map[5] = .array([.map(CBORMap(uniqueKeysWithValues: [(.textString("id"), .byteString([1, 2]))]))])
        expectCTAPError(.missingParameter, field: "makeCredential.excludeList[0].type") { () throws(CTAPError) in
            try Self.decode(map)
        }
    }

    @Test func nonBooleanOptionIsUnexpectedType() throws {
        var map = try Self.sampleMap()
        map[7] = ["uv": 1]
        expectCTAPError(.unexpectedType, field: "makeCredential.options.uv") { () throws(CTAPError) in
            try Self.decode(map)
        }
    }

    @Test func extensionsKeyedByIntegersAreUnexpectedType() throws {
        var map = try Self.sampleMap()
        map[6] = .map(CBORMap(uniqueKeysWithValues: [(.integer(1), .bool(true))]))
        expectCTAPError(.unexpectedType, field: "makeCredential.extensions") { () throws(CTAPError) in
            try Self.decode(map)
        }
    }

    @Test func unknownOptionsAndUnknownParametersAreIgnored() throws {
        var map = try Self.sampleMap()
        map[7] = ["uv": true, "future": true]
        map[0x20] = .textString("from a newer platform")
        let request = try Self.decode(map)
        #expect(request.options == AuthenticatorOptions(userVerification: true))
    }

    @Test func unknownCredentialTypesAndAlgorithmsAreKeptForTheAuthenticatorToSkip() throws {
        var map = try Self.sampleMap()
        map[4] = [["alg": -257, "type": "public-key"], ["alg": -7, "type": "future-key"]]
        let request = try Self.decode(map)
        #expect(request.publicKeyCredentialParameters.map(\.algorithm) == [.rs256, .es256])
        #expect(request.publicKeyCredentialParameters[1].type == "future-key")
    }

    @Test func encodesAFullRequestCanonicallyAndDecodesItBack() throws {
        var extensions = CBORMap()
        extensions["credProtect"] = .integer(2)
        let request = MakeCredentialRequest(
            clientDataHash: [UInt8](repeating: 0x11, count: 32),
            rp: PublicKeyCredentialRPEntity(id: "login.example.com", name: "Example"),
            user: PublicKeyCredentialUserEntity(id: [1, 2, 3], name: "alice@example.com", displayName: "Alice"),
            publicKeyCredentialParameters: [PublicKeyCredentialParameters(algorithm: .es256)],
            excludeList: [PublicKeyCredentialDescriptor(id: [9, 9], transports: ["hybrid", "internal"])],
            extensions: extensions,
            options: AuthenticatorOptions(residentKey: true, userVerification: true),
            enterpriseAttestation: 1
        )
        let bytes = request.encoded
        #expect(try MakeCredentialRequest(encoded: bytes) == request)
        // Canonical: re-decoding with the strict codec and re-encoding is the identity.
        #expect(try CBORValue(decoding: bytes).encoded == bytes)
        #expect(bytes.first == 0xA8)
    }

    @Test func descriptionOmitsThePinUvAuthParameter() throws {
        var request = try Self.decode(try Self.sampleMap())
        request.pinUvAuthParam = [0xC0, 0xFF, 0xEE]
        #expect(!request.description.lowercased().contains("c0ffee"))
        #expect(!request.description.contains("192"))
        #expect(
            request.description == "MakeCredentialRequest(rp: example.com, algorithms: [ES256 (-7)], excludeList: 0)"
        )
    }
}
