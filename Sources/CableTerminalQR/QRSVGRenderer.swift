/// Writes a ``QRCode`` as a small standalone SVG image, for `cable qr --output FILE`.
///
/// The document has a white `<rect>` covering the whole image, quiet zone included (so the code stays
/// scannable on a dark page or viewer), and a single black `<path>` that strokes one horizontal line,
/// 1 module thick, per maximal run of dark modules in a row: `M x y h n` for the first run, then
/// relative `m dx dy h n` for each next one (`translate(0,0.5)` puts the stroke's centre in the middle
/// of the module row, so integer coordinates cover whole modules). The `viewBox` is in modules,
/// `width`/`height` give pixels, and `shape-rendering="crispEdges"` stops anti-aliasing from blurring
/// module edges. This is the layout segno and `qrencode -t SVG --svg-path` use; a version 5 code is
/// about 2.5 KB.
public struct QRSVGRenderer: Sendable, Hashable {
    /// The largest pixel size per module accepted (an image of at most 305 × 64 = 19 520 pixels a side).
    public static let maximumModuleSize = 64

    /// The quiet zone in modules, 0...``QRQuietZone/maximumModules``.
    public let border: Int
    /// Pixels per module in the `width` and `height` attributes.
    public let moduleSize: Int
    /// Notes every image carries, e.g. a quiet zone below the standard 4 modules.
    public let notes: [QRRenderNote]

    /// Creates a renderer.
    ///
    /// - Parameters:
    ///   - border: the quiet zone in modules; the standard 4 by default. 0...3 are allowed but add a
    ///     ``QRRenderNote/Code/quietZoneBelowStandard`` note.
    ///   - moduleSize: pixels per module, 1...``maximumModuleSize``; 8 by default.
    /// - Throws: ``QRCodeError`` with code ``QRCodeError/Code/invalidBorder`` or
    ///   ``QRCodeError/Code/invalidModuleSize``.
    public init(border: Int = QRQuietZone.standardModules, moduleSize: Int = 8) throws(QRCodeError) {
        self.notes = try QRQuietZone.notes(forBorder: border)
        guard moduleSize >= 1, moduleSize <= Self.maximumModuleSize else {
            throw QRCodeError(
                .invalidModuleSize,
                "a module size of \(moduleSize) pixels is outside 1...\(Self.maximumModuleSize)"
            )
        }
        self.border = border
        self.moduleSize = moduleSize
    }

    /// Renders `code` as a complete SVG document ending in a newline.
    ///
    /// - Parameter code: the symbol to draw.
    /// - Returns: UTF-8 SVG text, ready to write to a `.svg` file.
    public func render(_ code: QRCode) -> String {
        let side = code.size + 2 * self.border
        let pixels = side * self.moduleSize
        var path = ""
        // The pen position after the previous run, for relative moves; nil before the first run.
        var pen: (x: Int, y: Int)? = nil
        for row in 0..<code.size {
            var column = 0
            while column < code.size {
                guard code[row: row, column: column] else {
                    column += 1
                    continue
                }
                let start = column
                while column < code.size, code[row: row, column: column] { column += 1 }
                let (x, y) = (start + self.border, row + self.border)
                if let pen {
                    path += "m\(x - pen.x) \(y - pen.y)h\(column - start)"
                } else {
                    path += "M\(x) \(y)h\(column - start)"
                }
                pen = (x + column - start, y)
            }
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(pixels)" height="\(pixels)" \
            viewBox="0 0 \(side) \(side)" shape-rendering="crispEdges">
            <rect x="0" y="0" width="\(side)" height="\(side)" fill="#ffffff"/>
            <path transform="translate(0,0.5)" fill="none" stroke="#000000" stroke-width="1" d="\(path)"/>
            </svg>

            """
    }
}

extension QRCodeError.Code {
    /// An SVG module size outside 1...``QRSVGRenderer/maximumModuleSize`` pixels.
    public static let invalidModuleSize = Self(rawValue: "invalidModuleSize")
}
