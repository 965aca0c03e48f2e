/// Whether a ``QRRendering`` fits a terminal, and what to tell the user when it does not.
public struct QRTerminalFit: Sendable, Hashable {
    /// `true` when both the width and the height fit.
    public let fits: Bool
    /// Character cells per line the drawing needs.
    public let requiredColumns: Int
    /// Lines the drawing needs.
    public let requiredRows: Int
    /// The terminal width that was checked.
    public let terminalColumns: Int
    /// The terminal height that was checked.
    public let terminalRows: Int
    /// When it does not fit: one or two sentences naming the needed size and the alternatives
    /// (`--style utf8` when that would fit, `--output qr.svg`, the URL). `nil` when it fits.
    /// Callers print the URL and this hint instead of the drawing, never a cut-off drawing.
    public let hint: String?

    /// For help text and error output: what to do when the half-block styles come out garbled, which
    /// happens with fonts that lack the block elements. ``QRRenderStyle/ascii`` is twice the size, so
    /// it is never suggested to make a code fit.
    public static let missingGlyphsHint =
        "If the QR code looks broken, the font may lack the block characters ▀ ▄ █: use `--style ascii`."
}
