import CableCBOR

/// Fuzzes the strict CBOR decoder (`CBORValue(decoding:)`), the one parser every CBOR-carrying message
/// goes through.
public enum CBORHarness {
    /// Decodes `input` with the default limits and with a tight depth limit.
    ///
    /// Invariant: the decoder accepts only CTAP2-canonical CBOR, and its documentation promises the
    /// encoder writes "exactly the one encoding the decoder accepts", so every accepted input must
    /// re-encode to itself, byte for byte.
    public static func run(_ input: [UInt8]) -> FuzzReport {
        var report = FuzzReport()
        if let value = report.attempt(
            "CBORValue(decoding:)",
            { () throws(CBORError) in
                try CBORValue(decoding: input)
            }
        ) {
            fuzzInvariant(value.encoded == input, "an accepted CBOR item re-encodes to the same bytes")
        }
        // A shallow limit reaches the nesting check with short inputs.
        let shallow = CBORDecodingLimits(maxDepth: 2, maxInputSize: 4096, maxItems: 64)
        report.attempt("CBORValue(decoding:limits:)") { () throws(CBORError) in
            try CBORValue(decoding: input, limits: shallow)
        }
        return report
    }
}
