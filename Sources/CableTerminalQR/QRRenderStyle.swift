/// How a QR code is drawn as terminal text.
///
/// Every style draws the same module matrix, quiet zone included; they differ in glyphs and colour.
/// "Ink" below is what the glyph's foreground paints. By default the ink paints the *light* modules,
/// which is right on the usual light-text-on-dark-background terminal and matches `qrencode -t UTF8`;
/// ``QRTextRenderer`` `invert` makes the ink paint the dark modules instead, for dark-on-light themes.
public enum QRRenderStyle: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Half blocks (`▀ ▄ █` and space), two module rows per line: a version 5 code with the standard
    /// quiet zone is 45 columns × 23 rows. Byte-identical to `qrencode -t UTF8` (`UTF8i` when inverted)
    /// for even borders.
    case utf8
    /// ``utf8`` with explicit 256-colour foreground (231, white) and background (16, black) set at the
    /// start of every line and reset at its end, so the code has the standard dark-on-light polarity on
    /// any theme. Byte-identical to `qrencode -t ANSI256UTF8` for even borders when not inverted; when
    /// inverted the colours swap with the ink, so the polarity stays standard.
    case ansi
    /// Two ASCII characters per module (`##` for ink, two spaces otherwise), one module row per line,
    /// for terminals or fonts without block glyphs: twice as wide and twice as tall as ``utf8``.
    /// Byte-identical to `qrencode -t ASCIIi` (`ASCII` when inverted).
    case ascii

    /// The style's name as `cable qr --style` spells it.
    public var description: String { self.rawValue }
}
