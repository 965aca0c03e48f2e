import CableProtocol

/// Fuzzes the QR digit decoder (`DigitEncoding.decode`).
public enum DigitsHarness {
    /// Decodes `input` read as UTF-8 (invalid sequences become U+FFFD, which must be refused as non-digits).
    ///
    /// Invariant: each digit group has a fixed width per chunk length and its value is range-checked, so
    /// accepted digits re-encode to the same string.
    public static func run(_ input: [UInt8]) -> FuzzReport {
        var report = FuzzReport()
        let text = String(decoding: input, as: UTF8.self)
        if let bytes = report.attempt("DigitEncoding.decode", { () throws(CableProtocolError) in
            try DigitEncoding.decode(text)
        }) {
            fuzzInvariant(DigitEncoding.encode(bytes) == text, "accepted digits re-encode to the same string")
        }
        return report
    }
}
