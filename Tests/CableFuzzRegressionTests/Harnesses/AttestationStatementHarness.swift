import CableCTAP
import CableTrust

/// Fuzzes the attestation statement verifiers (`AttestationVerifier`, WebAuthn §8) and the trust policy.
///
/// Input: a 32-byte client data hash, then an attestation object (the seeds are the real vectors of
/// `Spec/vectors/attestation`, laid out so). The statement is verified under its own format and
/// relabelled as every other supported format (and an unsupported one), then judged by a policy that
/// enforces attestation.
///
/// Invariants on an accepted statement: the result names the format it was verified as; `none` gives
/// type none and no trust path; only `none` and self attestation have an empty trust path.
public enum AttestationStatementHarness {
    static let formats = AttestationVerifier.supportedFormats + ["tpm"]

    /// Verifies `input`.
    public static func run(_ input: [UInt8]) -> FuzzReport {
        var report = FuzzReport()
        guard input.count > 32 else { return report }
        let hash = Array(input.prefix(32))
        guard
            let object = report.attempt(
                "AttestationObject(encoded:)",
                { () throws(CTAPError) in
                    try AttestationObject(encoded: input.dropFirst(32))
                }
            )
        else { return report }
        let statement = object.attestationStatement.statement
        for format in Self.formats {
            guard
                let relabelled = report.attempt(
                    "AttestationStatement(format: \(format))",
                    { () throws(CTAPError) in
                        try AttestationStatement(format: format, statement: statement)
                    }
                )
            else { continue }
            var candidate = object
            candidate.attestationStatement = relabelled
            if let verified = report.attempt(
                "AttestationVerifier.verify(\(format))",
                { () throws(TrustError) in
                    try AttestationVerifier.verify(candidate, clientDataHash: hash)
                }
            ) {
                fuzzInvariant(verified.format == format, "the result names the format verified")
                fuzzInvariant((format == "none") == (verified.type == .none), "only none gives type none")
                fuzzInvariant(
                    verified.trustPath.isEmpty == !verified.type.hasCertificatePath,
                    "a trust path exactly for chain types"
                )
            }
        }
        report.attempt(
            "TrustPolicy.evaluate",
            { () throws(TrustError) in
                try TrustPolicy(enforceAttestation: true).evaluate(object, clientDataHash: hash, at: 1_700_000_000)
            }
        )
        return report
    }
}
