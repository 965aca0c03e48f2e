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
        // The document is built as UTF-8 bytes in one buffer sized up front, with integers written by
        // hand: string interpolation per run made rendering cost about 0.7× the encode itself. A row
        // of n modules has at most (n + 1) / 2 runs, each at most `m-ddd -ddd hddd` (15 bytes; sizes
        // are below 1000), and the fixed text with its numbers is under 400 bytes.
        var svg = SVGBytes(capacity: 512 + 16 * code.size * ((code.size + 1) / 2) + 64)
        svg.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        svg.append("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"")
        svg.append(pixels)
        svg.append("\" height=\"")
        svg.append(pixels)
        svg.append("\" viewBox=\"0 0 ")
        svg.append(side)
        svg.append(" ")
        svg.append(side)
        svg.append("\" shape-rendering=\"crispEdges\">\n<rect x=\"0\" y=\"0\" width=\"")
        svg.append(side)
        svg.append("\" height=\"")
        svg.append(side)
        svg.append("\" fill=\"#ffffff\"/>\n")
        svg.append("<path transform=\"translate(0,0.5)\" fill=\"none\" stroke=\"#000000\" stroke-width=\"1\" d=\"")
        code.modules.withUnsafeBufferPointer { modules in
            let size = code.size
            // The pen position after the previous run, for relative moves; nil before the first run.
            var pen: (x: Int, y: Int)? = nil
            for row in 0..<size {
                let rowStart = row * size
                var column = 0
                while column < size {
                    guard modules[rowStart + column] else {
                        column += 1
                        continue
                    }
                    let start = column
                    while column < size, modules[rowStart + column] { column += 1 }
                    let (x, y) = (start + self.border, row + self.border)
                    if let pen {
                        svg.append(UInt8(ascii: "m"))
                        svg.append(x - pen.x)
                        svg.append(UInt8(ascii: " "))
                        svg.append(y - pen.y)
                    } else {
                        svg.append(UInt8(ascii: "M"))
                        svg.append(x)
                        svg.append(UInt8(ascii: " "))
                        svg.append(y)
                    }
                    svg.append(UInt8(ascii: "h"))
                    svg.append(column - start)
                    pen = (x + column - start, y)
                }
            }
        }
        svg.append("\"/>\n</svg>\n")
        return svg.string
    }
}

/// An SVG document's UTF-8 bytes as they are written: ASCII text and decimal integers stored into one
/// buffer allocated once at its final capacity, then handed to a `String` without another copy.
private struct SVGBytes: ~Copyable {
    private var buffer: UnsafeMutableBufferPointer<UInt8>
    private var count = 0

    init(capacity: Int) {
        self.buffer = .allocate(capacity: capacity)
    }

    deinit { self.buffer.deallocate() }

    /// Makes room for `extra` more bytes (a move that the capacity estimate makes unnecessary).
    private mutating func reserve(_ extra: Int) {
        guard self.count + extra > self.buffer.count else { return }
        let larger = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 2 * (self.buffer.count + extra))
        _ = larger.initialize(fromContentsOf: self.buffer[..<self.count])
        self.buffer.deallocate()
        self.buffer = larger
    }

    mutating func append(_ byte: UInt8) {
        self.reserve(1)
        self.buffer[self.count] = byte
        self.count += 1
    }

    mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { utf8 in
            self.reserve(utf8.count)
            UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: self.buffer[self.count...])).copyMemory(
                from: UnsafeRawBufferPointer(utf8)
            )
            self.count += utf8.count
        }
    }

    /// `value` in decimal, with a leading `-` when negative (relative moves go left and up).
    mutating func append(_ value: Int) {
        self.reserve(21)
        if value < 0 {
            self.buffer[self.count] = UInt8(ascii: "-")
            self.count += 1
        }
        var magnitude = value.magnitude
        var digitCount = 1
        var power: UInt = 10
        while magnitude >= power, digitCount < 19 {
            digitCount += 1
            power &*= 10
        }
        if magnitude >= power { digitCount += 1 }  // Only for magnitudes of 10^19 and more.
        var index = self.count + digitCount - 1
        repeat {
            self.buffer[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
            index -= 1
        } while magnitude > 0
        self.count += digitCount
    }

    /// The text so far, copied once into the string's storage.
    var string: String { String(decoding: UnsafeBufferPointer(rebasing: self.buffer[..<self.count]), as: UTF8.self) }
}

extension QRCodeError.Code {
    /// An SVG module size outside 1...``QRSVGRenderer/maximumModuleSize`` pixels.
    public static let invalidModuleSize = Self(rawValue: "invalidModuleSize")
}
