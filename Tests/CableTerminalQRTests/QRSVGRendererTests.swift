import CableTerminalQR
import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite struct QRSVGRendererTests {
    static func chromeSVG(border: Int = 4, moduleSize: Int = 8) throws -> (QRCode, String) {
        let code = try QRCode(encoding: try QRSymbolVector.chromeURL())
        return (code, try QRSVGRenderer(border: border, moduleSize: moduleSize).render(code))
    }

    // MARK: - Real rasteriser and decoders

    @Test(arguments: [4, 1])
    func librsvgRasterisesItOnABlackCanvasAndZbarAndZXingReadExactlyTheURL(border: Int) async throws {
        let url = try QRSymbolVector.chromeURL()
        let tools = try ToolBox()
        let (_, svg) = try Self.chromeSVG(border: border)
        let png = try await tools.png(fromSVG: svg)
        #expect(try await tools.zbarText(png) == url)
        let symbols = try await tools.zxing(png)
        try #require(symbols.count == 1)
        #expect(symbols[0].text == url)
        #expect(symbols[0].version == "5")
        #expect(symbols[0].ecLevel == "M")
    }

    // MARK: - Document structure

    @Test func isWellFormedXMLWithAViewBoxInModulesCrispEdgesAndAWhiteRectangleUnderTheQuietZone() throws {
        let (code, svg) = try Self.chromeSVG()
        let root = try #require(try XMLDocument(xmlString: svg).rootElement())
        #expect(root.name == "svg")
        #expect(root.uri == "http://www.w3.org/2000/svg")
        let side = code.size + 8
        #expect(
            Self.attributes(root) == [
                "version": "1.1", "width": "\(side * 8)", "height": "\(side * 8)",
                "viewBox": "0 0 \(side) \(side)", "shape-rendering": "crispEdges",
            ]
        )
        let children: [XMLElement] = root.children?.compactMap { $0 as? XMLElement } ?? []
        #expect(children.map(\.name) == ["rect", "path"])
        #expect(
            Self.attributes(children[0]) == [
                "x": "0", "y": "0", "width": "\(side)", "height": "\(side)", "fill": "#ffffff",
            ]
        )
        var pathAttributes = Self.attributes(children[1])
        #expect(pathAttributes.removeValue(forKey: "d") != nil)
        #expect(
            pathAttributes == [
                "transform": "translate(0,0.5)", "fill": "none", "stroke": "#000000", "stroke-width": "1",
            ]
        )
    }

    /// Reads the path back (the format is ours: `M x y h n`, then `m dx dy h n` per run) and compares it
    /// with the matrix qrencode makes, so every dark module is covered once and runs are maximal.
    @Test func thePathIsOneMaximalRunPerHorizontalStretchOfDarkModules() async throws {
        let tools = try ToolBox()
        let url = try QRSymbolVector.chromeURL()
        let oracle = try await tools.qrencodeModules(url, level: .medium)
        let (code, svg) = try Self.chromeSVG()
        let d = try #require(svg.firstRange(of: " d=\"").map { svg[$0.upperBound...].prefix { $0 != "\"" } })
        #expect(d.first == "M")
        var drawn = Array(repeating: Array(repeating: false, count: code.size), count: code.size)
        var pen = (x: 0, y: 0)
        for command in d.split(whereSeparator: { $0 == "M" || $0 == "m" }) {
            let numbers = command.split(whereSeparator: { $0 == " " || $0 == "h" }).compactMap { Int($0) }
            try #require(numbers.count == 3 && command.contains("h"), "command \(command)")
            let (x, y, length) = (pen.x + numbers[0] - 4, pen.y + numbers[1] - 4, numbers[2])
            for column in x..<(x + length) {
                #expect(!drawn[y][column], "drawn twice")
                drawn[y][column] = true
            }
            #expect(x == 0 || !oracle[y][x - 1], "run could extend left")
            #expect(x + length == code.size || !oracle[y][x + length], "run could extend right")
            pen = (x + length + 4, y + 4)
        }
        #expect(drawn == oracle)
    }

    @Test func isNoLargerThanQrencodesOwnSinglePathSVG() async throws {
        let tools = try ToolBox()
        let url = try QRSymbolVector.chromeURL()
        let (_, svg) = try Self.chromeSVG()
        let theirs = try await tools.qrencode(
            url,
            level: .medium,
            type: "SVG",
            margin: 4,
            extraArguments: ["--svg-path", "--rle"]
        )
        #expect(svg.utf8.count <= theirs.utf8.count)
    }

    /// swift-corelibs-foundation does not find attributes by name on an element with a default
    /// namespace, so read them all.
    static func attributes(_ element: XMLElement) -> [String: String] {
        Dictionary(
            uniqueKeysWithValues: (element.attributes ?? []).compactMap { node in
                node.name.map { ($0, node.stringValue ?? "") }
            }
        )
    }

    // MARK: - Parameter rules

    @Test(arguments: [0, 65, -1])
    func moduleSizesOutside1To64AreRejected(moduleSize: Int) {
        let error = #expect(throws: QRCodeError.self) { try QRSVGRenderer(moduleSize: moduleSize) }
        #expect(error?.code == .invalidModuleSize)
    }

    @Test(arguments: [-1, 65])
    func bordersOutside0To64AreRejected(border: Int) {
        let error = #expect(throws: QRCodeError.self) { try QRSVGRenderer(border: border) }
        #expect(error?.code == .invalidBorder)
    }

    @Test func aBorderBelowFourIsNoted() throws {
        #expect(try QRSVGRenderer(border: 2).notes.map(\.code) == [.quietZoneBelowStandard])
        #expect(try QRSVGRenderer().notes.isEmpty)
    }
}
