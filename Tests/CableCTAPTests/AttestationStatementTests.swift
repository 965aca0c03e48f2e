import CableCBOR
import CableCTAP
import Testing

@Suite struct AttestationStatementTests {
    static func packedMap(_ entries: [(String, CBORValue)]) -> CBORMap {
        CBORMap(uniqueKeysWithValues: entries.map { (CBORValue.textString($0.0), $0.1) })
    }

    @Test func noneIsTheEmptyMap() throws {
        let statement = try AttestationStatement(format: "none", statement: CBORMap())
        #expect(statement == .none)
        #expect(statement.format == "none")
        #expect(statement.statement.isEmpty)
    }

    @Test func noneWithMembersIsRejected() {
        expectCTAPError(.invalidAttestationStatement, field: "attStmt") { () throws(CTAPError) in
            try AttestationStatement(format: "none", statement: Self.packedMap([("alg", -7)]))
        }
    }

    @Test func packedSelfAttestationIsAlgAndSig() throws {
        let statement = try AttestationStatement(
            format: "packed",
            statement: Self.packedMap([("alg", -7), ("sig", .byteString([0x30, 0x00]))])
        )
        guard case .packed(let packed) = statement else {
            Issue.record("expected packed, got \(statement)")
            return
        }
        #expect(packed.algorithm == .es256)
        #expect(packed.signature == [0x30, 0x00])
        #expect(packed.isSelfAttestation)
        #expect(statement.statement == Self.packedMap([("alg", -7), ("sig", .byteString([0x30, 0x00]))]))
    }

    @Test func packedWithCertificatesIsFullAttestation() throws {
        let statement = try PackedAttestationStatement(
            statement: Self.packedMap([("alg", -7), ("sig", .byteString([1])), ("x5c", .array([.byteString([0x30])]))])
        )
        #expect(!statement.isSelfAttestation)
        #expect(statement.certificateChain == [[0x30]])
    }

    @Test(arguments: [
        [("sig", CBORValue.byteString([1]))],
        [("alg", CBORValue.integer(-7))],
        [("alg", CBORValue.textString("ES256")), ("sig", .byteString([1]))],
        [("alg", CBORValue.integer(-7)), ("sig", .textString("sig"))],
        [("alg", CBORValue.integer(-7)), ("sig", .byteString([1])), ("x5c", .array([]))],
        [("alg", CBORValue.integer(-7)), ("sig", .byteString([1])), ("x5c", .byteString([0x30]))],
        [("alg", CBORValue.integer(-7)), ("sig", .byteString([1])), ("x5c", .array([.textString("cert")]))],
        [("alg", CBORValue.integer(-7)), ("sig", .byteString([1])), ("ecdaaKeyId", .byteString([1]))],
        [("alg", CBORValue.integer(-7)), ("sig", .byteString([1])), ("extra", .null)],
    ])
    func malformedPackedStatementIsRejected(_ entries: [(String, CBORValue)]) {
        expectCTAPError(.invalidAttestationStatement) { () throws(CTAPError) in
            try AttestationStatement(format: "packed", statement: Self.packedMap(entries))
        }
    }

    @Test func tooManyCertificatesIsRejected() {
        let chain = CBORValue.array([CBORValue](repeating: .byteString([0x30]), count: 9))
        expectCTAPError(.invalidAttestationStatement) { () throws(CTAPError) in
            try AttestationStatement(
                format: "packed",
                statement: Self.packedMap([("alg", -7), ("sig", .byteString([1])), ("x5c", chain)])
            )
        }
    }

    @Test func otherFormatsAreKeptUnparsed() throws {
        let map = Self.packedMap([("ver", "2.0")])
        let statement = try AttestationStatement(format: "tpm", statement: map)
        #expect(statement == .unrecognized(format: "tpm", statement: map))
        #expect(statement.format == "tpm")
        #expect(statement.statement == map)
    }
}
