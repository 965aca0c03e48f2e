/// Draws a ``QRCode`` as terminal text in one of the ``QRRenderStyle``s.
///
/// Configure once (the border is checked here, and any ``notes`` are known here), then render any
/// number of codes; rendering cannot fail.
///
/// ```swift
/// let code = try QRCode(encoding: url)
/// let rendering = try QRTextRenderer(style: .utf8).render(code)
/// let fit = rendering.fit(terminalColumns: 80, terminalRows: 24)
/// print(fit.fits ? rendering.text : fit.hint ?? "", terminator: "")
/// ```
public struct QRTextRenderer: Sendable, Hashable {
    /// The glyph style.
    public let style: QRRenderStyle
    /// When `true`, the glyph ink paints dark modules instead of light ones (see ``QRRenderStyle``).
    public let invert: Bool
    /// The quiet zone in modules, 0...``QRQuietZone/maximumModules``.
    public let border: Int
    /// Notes every rendering carries, e.g. a quiet zone below the standard 4 modules.
    public let notes: [QRRenderNote]

    /// Creates a renderer.
    ///
    /// - Parameters:
    ///   - style: the glyph style; ``QRRenderStyle/utf8`` by default.
    ///   - invert: whether the ink paints dark modules; `false` by default, which matches `qrencode -t UTF8`.
    ///   - border: the quiet zone in modules; the standard 4 by default. 0...3 are allowed but add a
    ///     ``QRRenderNote/Code/quietZoneBelowStandard`` note.
    /// - Throws: ``QRCodeError`` with code ``QRCodeError/Code/invalidBorder`` for a border outside 0...64.
    public init(
        style: QRRenderStyle = .utf8,
        invert: Bool = false,
        border: Int = QRQuietZone.standardModules
    ) throws(QRCodeError) {
        self.notes = try QRQuietZone.notes(forBorder: border)
        self.style = style
        self.invert = invert
        self.border = border
    }

    /// Renders `code`, quiet zone included, as lines that each end in `"\n"`.
    ///
    /// - Parameter code: the symbol to draw.
    /// - Returns: the text with its size in character cells and this renderer's ``notes``.
    public func render(_ code: QRCode) -> QRRendering {
        let side = code.size + 2 * self.border
        let output: [UInt8]
        switch self.style {
        case .utf8:
            output = self.halfBlocks(code, side: side, colourStart: nil)
        case .ansi:
            output = self.halfBlocks(code, side: side, colourStart: self.invert ? ANSI.darkInk : ANSI.lightInk)
        case .ascii:
            output = self.doubleCharacters(code, side: side)
        }
        return QRRendering(
            text: String(decoding: output, as: UTF8.self),
            style: self.style,
            sideModules: side,
            notes: self.notes
        )
    }

    // MARK: - Glyphs

    /// Whether the glyph foreground paints the module at image coordinates (quiet zone included).
    private func isInk(_ code: QRCode, imageRow: Int, imageColumn: Int) -> Bool {
        code.isDark(row: imageRow - self.border, column: imageColumn - self.border) == self.invert
    }

    /// Two image rows per line; an odd last row is paired with a light padding row, as qrencode does.
    /// `colourStart`, when given, opens every line and `ANSI.reset` closes it.
    private func halfBlocks(_ code: QRCode, side: Int, colourStart: [UInt8]?) -> [UInt8] {
        let lineCount = (side + 1) / 2
        let perLine = side * Glyph.fullBlock.count + (colourStart.map { $0.count + ANSI.reset.count } ?? 0) + 1
        var output: [UInt8] = []
        output.reserveCapacity(lineCount * perLine)
        for line in 0..<lineCount {
            let upperRow = 2 * line
            let lowerRow = upperRow + 1
            if let colourStart { output.append(contentsOf: colourStart) }
            for column in 0..<side {
                let upper = self.isInk(code, imageRow: upperRow, imageColumn: column)
                // For an odd side the last lower row is padding below the image; it lies outside the
                // symbol, so `isDark` already treats it as light, like the quiet zone.
                let lower = self.isInk(code, imageRow: lowerRow, imageColumn: column)
                switch (upper, lower) {
                case (true, true): output.append(contentsOf: Glyph.fullBlock)
                case (true, false): output.append(contentsOf: Glyph.upperHalfBlock)
                case (false, true): output.append(contentsOf: Glyph.lowerHalfBlock)
                case (false, false): output.append(Glyph.space)
                }
            }
            if colourStart != nil { output.append(contentsOf: ANSI.reset) }
            output.append(Glyph.newline)
        }
        return output
    }

    /// One image row per line, two characters per module, so modules come out roughly square.
    private func doubleCharacters(_ code: QRCode, side: Int) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(side * (2 * side + 1))
        for row in 0..<side {
            for column in 0..<side {
                let glyph = self.isInk(code, imageRow: row, imageColumn: column) ? Glyph.hash : Glyph.space
                output.append(glyph)
                output.append(glyph)
            }
            output.append(Glyph.newline)
        }
        return output
    }
}

/// UTF-8 bytes of the glyphs, so rendering appends bytes instead of building `Character`s.
private enum Glyph {
    /// U+2588 FULL BLOCK.
    static let fullBlock: [UInt8] = [0xE2, 0x96, 0x88]
    /// U+2580 UPPER HALF BLOCK.
    static let upperHalfBlock: [UInt8] = [0xE2, 0x96, 0x80]
    /// U+2584 LOWER HALF BLOCK.
    static let lowerHalfBlock: [UInt8] = [0xE2, 0x96, 0x84]
    static let space = UInt8(ascii: " ")
    static let hash = UInt8(ascii: "#")
    static let newline = UInt8(ascii: "\n")
}

/// SGR sequences for ``QRRenderStyle/ansi``. The 256-colour palette entries 231 and 16 are fixed RGB
/// white and black in common terminals, unlike the 16 base colours, which themes redefine.
private enum ANSI {
    /// White ink (light modules) on black: the default convention, as `qrencode -t ANSI256UTF8`.
    static let lightInk: [UInt8] = Array("\u{1B}[38;5;231m\u{1B}[48;5;16m".utf8)
    /// Black ink (dark modules) on white: the inverted convention, same picture.
    static let darkInk: [UInt8] = Array("\u{1B}[38;5;16m\u{1B}[48;5;231m".utf8)
    /// SGR 0: back to the terminal's own colours before the newline.
    static let reset: [UInt8] = Array("\u{1B}[0m".utf8)
}
