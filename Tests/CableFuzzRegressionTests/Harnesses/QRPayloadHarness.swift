import CableProtocol

/// Fuzzes the `FIDO:/` QR payload decoder, both as a URL (`QRCodePayload(url:)`) and as the CBOR behind
/// the digits (`QRCodePayload(cbor:)`).
public enum QRPayloadHarness {
    /// Parses `input` as URL text and as CBOR bytes.
    ///
    /// Invariants: an accepted payload carries a 33-byte compressed key and its 65-byte uncompressed form;
    /// a URL accepts exactly what its digits' CBOR accepts.
    public static func run(_ input: [UInt8]) -> FuzzReport {
        var report = FuzzReport()
        let url = String(decoding: input, as: UTF8.self)
        if let payload = report.attempt(
            "QRCodePayload(url:)",
            { () throws(CableProtocolError) in
                try QRCodePayload(url: url)
            }
        ) {
            Self.checkKeys(payload)
        }
        if let payload = report.attempt(
            "QRCodePayload(cbor:)",
            { () throws(CableProtocolError) in
                try QRCodePayload(cbor: input)
            }
        ) {
            Self.checkKeys(payload)
            // The same payload behind a URL must parse identically.
            let wrapped = QRCodePayload.urlPrefix + DigitEncoding.encode(input)
            if wrapped.utf8.count <= QRCodePayload.maxURLLength {
                let reparsed = try? QRCodePayload(url: wrapped)
                fuzzInvariant(reparsed == payload, "a payload parses the same from CBOR and from its FIDO:/ URL")
            }
        }
        return report
    }

    private static func checkKeys(_ payload: QRCodePayload) {
        fuzzInvariant(payload.compressedPublicKey.count == 33, "an accepted QR key is 33 bytes compressed")
        fuzzInvariant(payload.uncompressedPublicKey.count == 65, "an accepted QR key is 65 bytes uncompressed")
    }
}
