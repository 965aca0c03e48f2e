internal import CCableQREncode

/// A QR code symbol: a square matrix of dark and light modules, made by libqrencode.
///
/// The text is encoded the way `qrencode "$TEXT"` (the CLI's defaults) encodes it: the smallest
/// version that fits, and libqrencode's mixed-mode segmentation (`QR_MODE_8` hint, case-sensitive).
/// For a hybrid URL that means `FIDO:/` becomes an alphanumeric segment and the digits a numeric one,
/// which is why Chromium writes the prefix in upper case. A Chrome-sized URL (69 CBOR bytes, so
/// `FIDO:/` plus 168 digits) at level M is version 5, 37×37 modules, as in Chromium.
///
/// ### Input rules
/// - The text must not be empty (``QRCodeError/Code/empty``) and must not contain U+0000
///   (``QRCodeError/Code/containsNUL``): libqrencode takes a C string and would silently drop
///   everything after a NUL.
/// - Text longer than any symbol can hold fails with ``QRCodeError/Code/tooLong``. Longer than
///   ``maximumInputByteCount`` UTF-8 bytes is refused before libqrencode sees it; anything else that
///   does not fit at the chosen level is refused by libqrencode (`ERANGE`).
/// - Non-ASCII text is encoded as its UTF-8 bytes in 8-bit (byte) mode, **without** an ECI
///   designator. ISO/IEC 18004:2015 makes ISO-8859-1 the default for such bytes, so a decoder guesses:
///   zxing-cpp guesses UTF-8 and returns the original text; zbar guesses from the bytes and can
///   return a different string for short inputs (it reads `é` as Shift-JIS), although its raw bytes
///   (`zbarimg -Sbinary`) are exact. `FIDO:/…` URLs are ASCII, so they are never affected.
///
/// ### Secrets
/// The encoded text is not kept, and ``description`` names only the version, size and level: a
/// hybrid QR code carries the QR secret, and its matrix is as sensitive as the URL.
public struct QRCode: Sendable, Hashable, CustomStringConvertible {
    /// The most UTF-8 bytes any QR code can hold: 7089 digits in a version 40 symbol at level L.
    /// Longer input is refused without calling libqrencode.
    public static let maximumInputByteCount = 7089

    /// Versions run from 1 (21×21) to 40 (177×177); each version adds 4 modules per side.
    static let versionRange = 1...40

    /// The QR version, 1...40.
    public let version: Int
    /// Modules per side, `17 + 4 × version` (37 for version 5), without any quiet zone.
    public let size: Int
    /// The error-correction level the symbol was made with.
    public let errorCorrection: QRErrorCorrection
    /// Row-major: `true` is a dark module.
    let modules: [Bool]

    /// Encodes `text` into the smallest QR code that holds it at `errorCorrection`.
    ///
    /// - Parameters:
    ///   - text: what the symbol will contain, e.g. a `FIDO:/…` URL. See "Input rules" above.
    ///   - errorCorrection: the error-correction level; ``QRErrorCorrection/medium`` by default.
    /// - Throws: ``QRCodeError`` with code ``QRCodeError/Code/empty``, ``QRCodeError/Code/containsNUL``,
    ///   ``QRCodeError/Code/tooLong``, ``QRCodeError/Code/invalidInput``, ``QRCodeError/Code/outOfMemory``
    ///   or ``QRCodeError/Code/encoderFailure``.
    public init(encoding text: String, errorCorrection: QRErrorCorrection = .medium) throws(QRCodeError) {
        let byteCount = text.utf8.count
        guard byteCount > 0 else {
            throw QRCodeError(.empty, "there is nothing to encode")
        }
        guard byteCount <= Self.maximumInputByteCount else {
            throw QRCodeError(
                .tooLong,
                "\(byteCount) bytes is more than any QR code holds (at most \(Self.maximumInputByteCount) digits)"
            )
        }
        guard !text.utf8.contains(0) else {
            throw QRCodeError(.containsNUL, "the text contains U+0000, which a C string would cut off")
        }

        var errorNumber: Int32 = 0
        let encoded = text.withCString { cString in
            cable_qrcode_encode_string(cString, errorCorrection.libqrencodeLevel, &errorNumber)
        }
        guard let encoded else {
            throw Self.error(errorNumber: errorNumber, byteCount: byteCount, level: errorCorrection)
        }
        defer { QRcode_free(encoded) }

        // Trust nothing from C blindly: the width must be one a QR version has, and the data present.
        let width = Int(encoded.pointee.width)
        let version = Int(encoded.pointee.version)
        guard Self.versionRange.contains(version), width == 17 + 4 * version, let data = encoded.pointee.data
        else {
            throw QRCodeError(.encoderFailure, "libqrencode returned an inconsistent symbol (width \(width))")
        }

        // libqrencode sets bit 0 for a dark module; the other bits describe the module's role.
        self.version = version
        self.size = width
        self.errorCorrection = errorCorrection
        self.modules = (0..<(width * width)).map { data[$0] & 1 != 0 }
    }

    /// Whether the module at `row`, `column` (0-based, from the top left) is dark.
    ///
    /// - Precondition: `0..<size` contains both `row` and `column`.
    public subscript(row row: Int, column column: Int) -> Bool {
        precondition(row >= 0 && row < self.size && column >= 0 && column < self.size, "module outside the symbol")
        return self.modules[row * self.size + column]
    }

    /// Like the subscript, but coordinates outside the symbol are light: that is the quiet zone
    /// (and the padding row of a half-block rendering).
    func isDark(row: Int, column: Int) -> Bool {
        guard row >= 0, row < self.size, column >= 0, column < self.size else { return false }
        return self.modules[row * self.size + column]
    }

    /// Version, size and level only: the matrix is as secret as the text it encodes.
    public var description: String {
        "QRCode(version \(self.version), \(self.size)×\(self.size), level \(self.errorCorrection))"
    }

    /// Maps libqrencode's documented `errno` values to codes.
    private static func error(errorNumber: Int32, byteCount: Int, level: QRErrorCorrection) -> QRCodeError {
        switch errorNumber {
        case ERANGE:
            QRCodeError(.tooLong, "\(byteCount) bytes do not fit in a version 40 QR code at level \(level)")
        case ENOMEM:
            QRCodeError(.outOfMemory, "libqrencode could not allocate memory")
        case EINVAL:
            QRCodeError(.invalidInput, "libqrencode rejected the input as invalid (EINVAL)")
        default:
            QRCodeError(.encoderFailure, "libqrencode failed with errno \(errorNumber)")
        }
    }
}

extension QRCodeError.Code {
    /// The text to encode was empty.
    public static let empty = Self(rawValue: "empty")
    /// The text contained U+0000, which libqrencode's C-string API cannot carry.
    public static let containsNUL = Self(rawValue: "containsNUL")
    /// The text does not fit in a version 40 symbol at the chosen level (libqrencode's `ERANGE`).
    public static let tooLong = Self(rawValue: "tooLong")
    /// libqrencode rejected the input (`EINVAL`).
    public static let invalidInput = Self(rawValue: "invalidInput")
    /// libqrencode ran out of memory (`ENOMEM`).
    public static let outOfMemory = Self(rawValue: "outOfMemory")
    /// libqrencode failed in an undocumented way, or returned a malformed symbol.
    public static let encoderFailure = Self(rawValue: "encoderFailure")
}
