import CableCTAP

/// Fuzzes CTAP2 response decoding on the desktop: the response frame (`CTAPResponse(frame:)`) and the
/// three result types (`MakeCredentialResponse(encoded:)`, `GetAssertionResponse(encoded:)`,
/// `GetInfoResponse(encoded:)`).
public enum CTAPResponseHarness {
    /// Decodes `input` as a response frame and as each result type.
    ///
    /// Invariant: every accepted result re-encodes to bytes that decode to the same value.
    public static func run(_ input: [UInt8]) -> FuzzReport {
        var report = FuzzReport()
        report.attempt("CTAPResponse(frame:)") { () throws(CTAPError) in try CTAPResponse(frame: input) }
        if let response = report.attempt(
            "MakeCredentialResponse(encoded:)",
            { () throws(CTAPError) in
                try MakeCredentialResponse(encoded: input)
            }
        ) {
            let again = try? MakeCredentialResponse(encoded: response.encoded)
            fuzzInvariant(again == response, "a makeCredential response re-encodes to one that decodes the same")
        }
        if let response = report.attempt(
            "GetAssertionResponse(encoded:)",
            { () throws(CTAPError) in
                try GetAssertionResponse(encoded: input)
            }
        ) {
            let again = try? GetAssertionResponse(encoded: response.encoded)
            fuzzInvariant(again == response, "a getAssertion response re-encodes to one that decodes the same")
        }
        if let response = report.attempt(
            "GetInfoResponse(encoded:)",
            { () throws(CTAPError) in
                try GetInfoResponse(encoded: input)
            }
        ) {
            let again = try? GetInfoResponse(encoded: response.encoded)
            fuzzInvariant(again == response, "a getInfo response re-encodes to one that decodes the same")
        }
        return report
    }
}
