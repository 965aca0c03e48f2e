import CableCTAP

/// Fuzzes the credential structures a relying party parses: authenticator data (`AuthenticatorData`),
/// credential public keys (`COSEKey`) and attestation objects (`AttestationObject`).
public enum AttestationHarness {
    /// Parses `input` as each structure.
    ///
    /// Invariant: every accepted structure re-encodes to bytes that parse to the same value.
    public static func run(_ input: [UInt8]) -> FuzzReport {
        var report = FuzzReport()
        if let data = report.attempt(
            "AuthenticatorData(bytes:)",
            { () throws(CTAPError) in
                try AuthenticatorData(bytes: input)
            }
        ) {
            let again = try? AuthenticatorData(bytes: data.bytes)
            fuzzInvariant(again == data, "authenticator data re-encodes to bytes that parse the same")
        }
        if let key = report.attempt("COSEKey(encoded:)", { () throws(CTAPError) in try COSEKey(encoded: input) }) {
            let again = try? COSEKey(encoded: key.encoded)
            fuzzInvariant(again == key, "a COSE key re-encodes to bytes that parse the same")
        }
        if let object = report.attempt(
            "AttestationObject(encoded:)",
            { () throws(CTAPError) in
                try AttestationObject(encoded: input)
            }
        ) {
            let again = try? AttestationObject(encoded: object.encoded)
            fuzzInvariant(again == object, "an attestation object re-encodes to bytes that parse the same")
        }
        return report
    }
}
