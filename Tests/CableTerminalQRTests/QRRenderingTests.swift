import CableTerminalQR
import Testing

@Suite struct QRRenderingTests {
    static func chromeRendering(_ style: QRRenderStyle, border: Int = 4) throws -> QRRendering {
        try QRTextRenderer(style: style, border: border).render(try QRCode(encoding: try QRSymbolVector.chromeURL()))
    }

    @Test(arguments: QRRenderStyle.allCases)
    func textIsTheLinesEachEndingInANewline(_ style: QRRenderStyle) throws {
        let rendering = try Self.chromeRendering(style)
        #expect(rendering.text.hasSuffix("\n"))
        #expect(rendering.text == rendering.lines.map { $0 + "\n" }.joined())
        #expect(rendering.lines.count == rendering.rows)
        #expect(rendering.style == style)
    }

    @Test(arguments: [
        (QRRenderStyle.utf8, 4, 45, 23), (.ansi, 4, 45, 23), (.ascii, 4, 90, 45),
        (.utf8, 0, 37, 19), (.utf8, 1, 39, 20), (.ascii, 2, 82, 41),
    ])
    func sizeInCellsFollowsTheStyle(_ style: QRRenderStyle, border: Int, columns: Int, rows: Int) throws {
        let rendering = try Self.chromeRendering(style, border: border)
        #expect(rendering.columns == columns)
        #expect(rendering.rows == rows)
    }

    @Test func descriptionGivesStyleAndSizeButNotTheDrawing() throws {
        let rendering = try Self.chromeRendering(.utf8)
        #expect(rendering.description == "QRRendering(utf8, 45×23)")
        #expect(!String(reflecting: rendering).contains("█"))
    }
}
