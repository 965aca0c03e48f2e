import CableProtocol

/// Fuzzes the QR digit decoder (`DigitEncoding.decode`).
public enum DigitsHarness {
    /// Decodes `input` read as UTF-8 (invalid sequences become U+FFFD, which must be refused as non-digits).
    ///
    /// Invariant: each digit group has a fixed width per chunk length and its value is range-checked, so
    /// accepted digits re-encode to the same string, once the one `+` a chunk may start with (Chromium's
    /// `base::StringToUint64`) is read as the leading zero the encoder writes there.
    public static func run(_ input: [UInt8]) -> FuzzReport {
        var report = FuzzReport()
        let text = String(decoding: input, as: UTF8.self)
        if let bytes = report.attempt(
            "DigitEncoding.decode",
            { () throws(CableProtocolError) in
                try DigitEncoding.decode(text)
            }
        ) {
            // After a '+' a chunk has one digit fewer, so its value is below 10^(width - 1) and the encoder
            // writes a 0 where the '+' stood.
            let unsigned = String(text.map { $0 == "+" ? "0" : $0 })
            fuzzInvariant(DigitEncoding.encode(bytes) == unsigned, "accepted digits re-encode to the same string")
        }
        return report
    }
}
