import CableCTAP
import Foundation
import Testing

@testable import CableTrust

/// The same attestation inputs, good and broken, judged by CableTrust and by independent libraries
/// (python-fido2; py_webauthn for android-key): the verdicts (accepted or refused, and the attestation
/// type when accepted) must agree.
@Suite struct AttestationOracleTests {
    struct Case: Encodable {
        let id: String
        let attestationObject: String
        let clientDataHash: String
        let clientDataJSON: String?
        let verificationTime: Int64
    }

    struct Verdicts: Decodable {
        struct Verdict: Decodable {
            let ok: Bool
            let type: String?
            let error: String?
        }
        let verdicts: [String: Verdict]
    }

    @Test func verdictsAgreeWithPythonFido2AndPyWebauthn() async throws {
        var cases: [Case] = []
        for vector in try AttestationVectors.load() {
            let object = try AttestationObject(encoded: Hex.decode(vector.input.attestationObject))
            let hash = try Hex.decode(vector.input.clientDataHash)
            cases.append(
                Case(
                    id: vector.id,
                    attestationObject: vector.input.attestationObject,
                    clientDataHash: vector.input.clientDataHash,
                    clientDataJSON: vector.input.clientDataJSON,
                    verificationTime: vector.input.verificationTime
                )
            )
            for mutation in Mutation.allCases where vector.expected.format != "none" {
                guard let (mutated, mutatedHash) = mutation.apply(to: object, clientDataHash: hash) else { continue }
                cases.append(
                    Case(
                        id: "\(vector.id)/\(mutation)",
                        attestationObject: Hex.encode(mutated.encoded),
                        clientDataHash: Hex.encode(mutatedHash),
                        clientDataJSON: vector.input.clientDataJSON,
                        verificationTime: vector.input.verificationTime
                    )
                )
            }
        }
        let fixtures = try await TrustTestSupport.loadFixtures()
        for (name, hex) in fixtures.cases {
            cases.append(
                Case(
                    id: "fixture/\(name)",
                    attestationObject: hex,
                    clientDataHash: fixtures.clientDataHash,
                    clientDataJSON: nil,
                    verificationTime: fixtures.time
                )
            )
        }

        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cable-trust-cases-\(UUID().uuidString).json"
        )
        try JSONEncoder().encode(cases).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let line = try await TrustTestSupport.runPython("attestation_oracle.py", [file.path])
        let oracle = try JSONDecoder().decode(Verdicts.self, from: Data(line.utf8)).verdicts

        var accepted = 0
        var refused = 0
        for item in cases {
            let theirs = try #require(oracle[item.id], "no oracle verdict for \(item.id)")
            let object = try AttestationObject(encoded: Hex.decode(item.attestationObject))
            let ours: Result<VerifiedAttestation, TrustError> = Result {
                try AttestationVerifier.verify(object, clientDataHash: Hex.decode(item.clientDataHash))
            }.mapError { $0 as? TrustError ?? TrustError(.attestationStatementMalformed, rule: "test", "\($0)") }
            switch ours {
            case .success(let verified):
                accepted += 1
                #expect(theirs.ok, "\(item.id): accepted here, refused by the oracle: \(theirs.error ?? "")")
                #expect(
                    theirs.type == verified.type.rawValue,
                    "\(item.id): type \(verified.type) here, \(theirs.type ?? "-") there"
                )
            case .failure(let error):
                refused += 1
                #expect(!theirs.ok, "\(item.id): refused here (\(error)), accepted by the oracle")
            }
        }
        // Both outcomes occur, so agreement is not vacuous.
        #expect(accepted >= 10)
        #expect(refused >= 20)
    }
}
