/// A QR code drawn as terminal text by ``QRTextRenderer``, with its size in character cells.
///
/// Print ``text`` as it is (it already ends in a newline) only after checking ``fit(terminalColumns:terminalRows:)``:
/// a QR code cut off by the terminal edge, or wrapped, does not scan.
public struct QRRendering: Sendable, Hashable, CustomStringConvertible {
    /// The drawing: ``rows`` lines, each ending in `"\n"`. ``QRRenderStyle/ansi`` lines also carry
    /// escape sequences, which take no cells.
    public let text: String
    /// The style it was drawn in.
    public let style: QRRenderStyle
    /// Character cells per line (escape sequences excluded).
    public let columns: Int
    /// Lines.
    public let rows: Int
    /// Things to tell the user, such as a quiet zone below the standard; empty for standard settings.
    public let notes: [QRRenderNote]
    /// Modules per side including the quiet zone, to work out the size in other styles for hints.
    let sideModules: Int

    init(text: String, style: QRRenderStyle, sideModules: Int, notes: [QRRenderNote]) {
        self.text = text
        self.style = style
        self.sideModules = sideModules
        self.notes = notes
        (self.columns, self.rows) = Self.cells(style: style, sideModules: sideModules)
    }

    /// The lines of ``text`` without their newlines.
    public var lines: [String] {
        self.text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    /// Whether the drawing fits a terminal of the given size without being cut or wrapped.
    ///
    /// - Parameters:
    ///   - terminalColumns: the terminal's width in cells.
    ///   - terminalRows: the lines available for the drawing (the terminal's height minus any lines the
    ///     caller prints below it and wants visible at the same time).
    /// - Returns: the verdict, and when it does not fit a hint to show next to the URL.
    public func fit(terminalColumns: Int, terminalRows: Int) -> QRTerminalFit {
        let fits = self.columns <= terminalColumns && self.rows <= terminalRows
        return QRTerminalFit(
            fits: fits,
            requiredColumns: self.columns,
            requiredRows: self.rows,
            terminalColumns: terminalColumns,
            terminalRows: terminalRows,
            hint: fits ? nil : self.hint(terminalColumns: terminalColumns, terminalRows: terminalRows)
        )
    }

    /// Style and size only, never the drawing: the matrix is as secret as the URL it encodes.
    public var description: String { "QRRendering(\(self.style), \(self.columns)×\(self.rows))" }

    /// Cells needed to draw `sideModules`² modules in `style`.
    static func cells(style: QRRenderStyle, sideModules: Int) -> (columns: Int, rows: Int) {
        switch style {
        case .utf8, .ansi: (sideModules, (sideModules + 1) / 2)
        case .ascii: (2 * sideModules, sideModules)
        }
    }

    private func hint(terminalColumns: Int, terminalRows: Int) -> String {
        var hint =
            "The QR code needs \(self.columns)×\(self.rows) character cells, but the terminal has "
            + "\(max(terminalColumns, 0))×\(max(terminalRows, 0)). "
        let halfBlocks = Self.cells(style: .utf8, sideModules: self.sideModules)
        if self.style == .ascii, halfBlocks.columns <= terminalColumns, halfBlocks.rows <= terminalRows {
            hint += "`--style utf8` draws it in \(halfBlocks.columns)×\(halfBlocks.rows). "
        }
        hint +=
            "Enlarge the window or reduce the font size, or write the code to an image with "
            + "`--output qr.svg`; the URL works too."
        return hint
    }
}
