internal import CCableQREncode

/// The four QR error-correction levels (ISO/IEC 18004 §5.3.8), named by how much damage they recover.
///
/// The raw value is the standard's letter (`"L"`, `"M"`, `"Q"`, `"H"`), which is also what `qrencode -l`
/// and `cable qr` accept. swift-cable uses ``medium`` by default, as Chromium does for its caBLE QR code:
/// a `FIDO:/…` URL from a 69-byte payload is then version 5 (37×37).
public enum QRErrorCorrection: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Level L: about 7 % of codewords can be restored.
    case low = "L"
    /// Level M: about 15 % of codewords can be restored (the default).
    case medium = "M"
    /// Level Q: about 25 % of codewords can be restored.
    case quartile = "Q"
    /// Level H: about 30 % of codewords can be restored.
    case high = "H"

    /// Parses a level letter, ignoring case (`"m"` and `"M"` are both ``medium``).
    ///
    /// - Parameter letter: one of `L`, `M`, `Q`, `H` in either case.
    /// - Returns: the level, or `nil` for anything else.
    public init?(letter: String) {
        self.init(rawValue: letter.uppercased())
    }

    /// The standard's letter, e.g. `M`.
    public var description: String { self.rawValue }

    /// libqrencode's spelling of the level.
    var libqrencodeLevel: QRecLevel {
        switch self {
        case .low: QR_ECLEVEL_L
        case .medium: QR_ECLEVEL_M
        case .quartile: QR_ECLEVEL_Q
        case .high: QR_ECLEVEL_H
        }
    }
}
