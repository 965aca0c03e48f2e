import CableCBOR
import CableCTAP
import CableTestSupport
import Testing

@Suite struct GetInfoResponseTests {
    static let vectors = GetInfoVectors.load("ctap-getinfo")

    @Test(arguments: vectors)
    func decodesRealPhoneGetInfoAndReencodesItByteForByte(_ vector: GetInfoVectors.Vector) throws {
        let postHandshake = try #require(CBORValue(decoding: hex(vector.input.postHandshakePlaintext)).mapValue)
        let bytes = try #require(postHandshake[1]?.bytesValue)
        #expect(hexString(bytes) == vector.expected.getInfo)
        let info = try GetInfoResponse(encoded: bytes)
        #expect(info.versions == vector.expected.versions)
        #expect(info.extensions == vector.expected.extensions)
        #expect(info.aaguid.uuidString == vector.expected.aaguid)
        #expect(info.options == vector.expected.options)
        #expect(info.transports == vector.expected.transports)
        #expect(info.additionalMembers.isEmpty)
        #expect(info.encoded == bytes)
    }

    @Test func derivedSessionPhoneIsMicrosoftAuthenticatorForAndroid() throws {
        let vector = try #require(Self.vectors.first { $0.id == "getinfo_derived_session" })
        let info = try GetInfoResponse(encoded: hex(vector.expected.getInfo))
        #expect(info.aaguid == .microsoftAuthenticatorAndroid)
    }

    @Test func unknownMembersAreKeptAndReencoded() throws {
        var map = try #require(CBORValue(decoding: hex(Self.vectors[0].expected.getInfo)).mapValue)
        map[0x0E] = .integer(7)  // firmwareVersion
        map[0x05] = .integer(1200)
        map[0x0A] = .array([["alg": -7, "type": "public-key"]])
        let bytes = CBORValue.map(map).encoded
        let info = try GetInfoResponse(encoded: bytes)
        #expect(info.additionalMembers[0x0E] == .integer(7))
        #expect(info.maxMessageSize == 1200)
        #expect(info.algorithms == [PublicKeyCredentialParameters(algorithm: .es256)])
        #expect(info.encoded == bytes)
    }

    @Test(arguments: [(Int64(1), "getInfo.versions"), (Int64(3), "getInfo.aaguid")])
    func requiredMemberMissingIsMissingParameter(_ key: Int64, _ field: String) throws {
        var map = try #require(CBORValue(decoding: hex(Self.vectors[0].expected.getInfo)).mapValue)
        map[.integer(key)] = nil
        expectCTAPError(.missingParameter, field: field) { () throws(CTAPError) in try GetInfoResponse(cbor: .map(map))
        }
    }

    @Test(arguments: [
        (Int64(1), CBORValue.textString("FIDO_2_0")), (1, .array([.integer(2)])), (2, .textString("prf")),
        (3, .textString("aaguid")), (4, .array([])),
        (4, .map(CBORMap(uniqueKeysWithValues: [(.textString("rk"), .integer(1))]))),
        (4, .map(CBORMap(uniqueKeysWithValues: [(.integer(1), .bool(true))]))), (5, .integer(-1)),
        (5, .textString("1")),
        (6, .array([.integer(-1)])), (9, .array([.bool(true)])), (10, .array([.integer(-7)])),
    ])
    func memberOfWrongTypeIsUnexpectedType(_ key: Int64, _ value: CBORValue) throws {
        var map = try #require(CBORValue(decoding: hex(Self.vectors[0].expected.getInfo)).mapValue)
        map[.integer(key)] = value
        expectCTAPError(.unexpectedType) { () throws(CTAPError) in try GetInfoResponse(cbor: .map(map)) }
    }

    @Test func aaguidOfWrongLengthIsInvalidLength() throws {
        var map = try #require(CBORValue(decoding: hex(Self.vectors[0].expected.getInfo)).mapValue)
        map[3] = .byteString([UInt8](repeating: 0, count: 15))
        expectCTAPError(.invalidLength, field: "getInfo.aaguid") { () throws(CTAPError) in
            try GetInfoResponse(cbor: .map(map))
        }
    }

    @Test func algorithmEntryWithoutAlgIsMissingParameter() throws {
        var map = try #require(CBORValue(decoding: hex(Self.vectors[0].expected.getInfo)).mapValue)
        map[10] = .array([["type": "public-key"]])
        expectCTAPError(.missingParameter, field: "getInfo.algorithms[0].alg") { () throws(CTAPError) in
            try GetInfoResponse(cbor: .map(map))
        }
    }

    @Test func oversizedListIsTooLong() throws {
        var map = try #require(CBORValue(decoding: hex(Self.vectors[0].expected.getInfo)).mapValue)
        map[1] = .array([CBORValue](repeating: "FIDO_2_0", count: CTAPLimits.maxListCount + 1))
        expectCTAPError(.tooLong, field: "getInfo.versions") { () throws(CTAPError) in
            try GetInfoResponse(cbor: .map(map))
        }
    }

    @Test(arguments: vectors)
    func everyTruncationIsInvalidCBOR(_ vector: GetInfoVectors.Vector) {
        let bytes = hex(vector.expected.getInfo)
        for length in 0..<bytes.count {
            expectCTAPError(.invalidCBOR) { () throws(CTAPError) in try GetInfoResponse(encoded: bytes.prefix(length)) }
        }
    }

    @Test func notAMapIsUnexpectedType() {
        expectCTAPError(.unexpectedType, field: "getInfo") { () throws(CTAPError) in
            try GetInfoResponse(encoded: [0x80])
        }
    }

    @Test func randomMutationsNeverCrash() {
        let bytes = hex(Self.vectors[0].expected.getInfo)
        var rng = DeterministicRNG(seed: 0x6E71)
        for _ in 0..<3000 {
            var mutated = bytes
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                mutated[Int.random(in: 0..<mutated.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if let info = try? GetInfoResponse(encoded: mutated), info.additionalMembers.isEmpty {
                #expect(info.encoded == mutated)
            }
        }
    }
}
