import CableProtocol
import CableTestSupport

/// Inputs the pre-handshake cases share, built from real data: the Chrome QR code of
/// `Spec/vectors/qr-payload.json` (`qr_chrome_2022`, from webauthn-rs), a 69-byte CBOR payload that is
/// 168 digits.
struct Fixtures: Sendable {
    /// The vector the inputs come from.
    static let vectorFile = "qr-payload.json"
    /// Its id.
    static let vectorID = "qr_chrome_2022"

    /// `FIDO:/` followed by the digits.
    let url: String
    /// The decimal digits after the prefix.
    let digits: String
    /// The parsed payload.
    let payload: QRCodePayload
    /// Its canonical CBOR bytes.
    let cbor: [UInt8]

    /// Loads the Chrome QR code and parses it once (so every case times the same input).
    ///
    /// - Throws: ``BenchmarkError/Code/missingVector`` if the vector is absent or does not parse.
    static func load() throws(BenchmarkError) -> Fixtures {
        let url: String
        do {
            let file = try SpecVectors.json(Self.vectorFile) as? [String: Any]
            let vectors = file?["vectors"] as? [[String: Any]] ?? []
            let vector = vectors.first { $0["id"] as? String == Self.vectorID }
            guard let found = (vector?["input"] as? [String: Any])?["url"] as? String else {
                throw BenchmarkError(.missingVector, "\(Self.vectorID) has no input.url in \(Self.vectorFile)")
            }
            url = found
        } catch let error as BenchmarkError {
            throw error
        } catch {
            throw BenchmarkError(.missingVector, "cannot read Spec/vectors/\(Self.vectorFile): \(error)")
        }
        do {
            let payload = try QRCodePayload(url: url)
            return Fixtures(
                url: url,
                digits: String(url.dropFirst(QRCodePayload.urlPrefix.count)),
                payload: payload,
                cbor: payload.cborBytes
            )
        } catch {
            throw BenchmarkError(.missingVector, "\(Self.vectorID) does not parse: \(error.code)")
        }
    }
}
