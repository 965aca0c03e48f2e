import CableTerminalQR
import Testing

@Suite struct QRTerminalFitTests {
    static func chromeRendering(_ style: QRRenderStyle) throws -> QRRendering {
        try QRTextRenderer(style: style).render(try QRCode(encoding: try QRSymbolVector.chromeURL()))
    }

    @Test(arguments: [(45, 23), (80, 24), (200, 60)])
    func fitsWhenBothDimensionsAreLargeEnough(columns: Int, rows: Int) throws {
        let fit = try Self.chromeRendering(.utf8).fit(terminalColumns: columns, terminalRows: rows)
        #expect(fit.fits)
        #expect(fit.hint == nil)
        #expect(fit.requiredColumns == 45)
        #expect(fit.requiredRows == 23)
        #expect(fit.terminalColumns == columns)
        #expect(fit.terminalRows == rows)
    }

    @Test(arguments: [(44, 24), (80, 22), (0, 0), (-1, 100)])
    func doesNotFitWhenEitherDimensionIsShortAndThenGivesAHint(columns: Int, rows: Int) throws {
        let fit = try Self.chromeRendering(.utf8).fit(terminalColumns: columns, terminalRows: rows)
        #expect(!fit.fits)
        let hint = try #require(fit.hint)
        #expect(hint.contains("45×23"))
        #expect(hint.contains("--output qr.svg"))
        #expect(!hint.contains("--style utf8"), "already utf8")
    }

    @Test func anASCIIRenderingThatDoesNotFitSuggestsUTF8WhenThatWouldFit() throws {
        let fit = try Self.chromeRendering(.ascii).fit(terminalColumns: 80, terminalRows: 24)
        #expect(!fit.fits)
        let hint = try #require(fit.hint)
        #expect(hint.contains("90×45"))
        #expect(hint.contains("`--style utf8` draws it in 45×23"))
    }

    @Test func anASCIIRenderingInATinyTerminalDoesNotSuggestUTF8() throws {
        let hint = try #require(try Self.chromeRendering(.ascii).fit(terminalColumns: 30, terminalRows: 10).hint)
        #expect(!hint.contains("--style utf8"))
    }

    @Test func hintsNeverContainTheURL() throws {
        let hint = try #require(try Self.chromeRendering(.utf8).fit(terminalColumns: 10, terminalRows: 10).hint)
        #expect(!hint.contains("FIDO:/"))
    }

    @Test func theMissingGlyphsHintPointsToASCII() {
        #expect(QRTerminalFit.missingGlyphsHint.contains("--style ascii"))
    }
}
