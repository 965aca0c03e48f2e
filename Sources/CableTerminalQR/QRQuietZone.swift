/// The light margin around a symbol, in modules, shared by every renderer.
///
/// ISO/IEC 18004 §5.3.8 requires 4 modules. Narrower margins (down to 0) are allowed when explicitly
/// asked for, because a terminal's own background or a page margin may supply the rest, but each
/// rendering then carries a ``QRRenderNote/Code/quietZoneBelowStandard`` note. Wider than
/// ``maximumModules`` is refused: it only wastes screen and memory.
public enum QRQuietZone {
    /// The width ISO/IEC 18004 requires, and the default everywhere.
    public static let standardModules = 4
    /// The widest quiet zone a renderer accepts.
    public static let maximumModules = 64

    /// Checks a requested border and returns the notes a rendering with it must carry.
    ///
    /// - Parameter border: the quiet zone in modules.
    /// - Returns: no notes for 4...64; a ``QRRenderNote/Code/quietZoneBelowStandard`` note for 0...3.
    /// - Throws: ``QRCodeError`` with code ``QRCodeError/Code/invalidBorder`` outside 0...64.
    public static func notes(forBorder border: Int) throws(QRCodeError) -> [QRRenderNote] {
        guard border >= 0, border <= Self.maximumModules else {
            throw QRCodeError(
                .invalidBorder,
                "a quiet zone of \(border) modules is outside 0...\(Self.maximumModules) (the standard is 4)"
            )
        }
        return border < Self.standardModules ? [Self.belowStandardNote(border: border)] : []
    }

    private static func belowStandardNote(border: Int) -> QRRenderNote {
        QRRenderNote(
            .quietZoneBelowStandard,
            "the quiet zone is \(border) module\(border == 1 ? "" : "s") wide, but the QR standard requires "
                + "\(Self.standardModules); some scanners will not find the code"
        )
    }
}

extension QRCodeError.Code {
    /// A quiet zone (border) below 0 or above ``QRQuietZone/maximumModules``.
    public static let invalidBorder = Self(rawValue: "invalidBorder")
}

extension QRRenderNote.Code {
    /// The quiet zone is narrower than the 4 modules ISO/IEC 18004 requires.
    public static let quietZoneBelowStandard = Self(rawValue: "quietZoneBelowStandard")
}
