import CableTerminalQR
import CableTestSupport
import Testing

@Suite struct QRTextRendererTests {
    static let oracleInputs = ["chrome", "safari", "FIDO:/123412341234", "HELLO", "Hello, World! mixed Case 123"]

    static func text(_ input: String) throws -> String {
        switch input {
        case "chrome": try QRSymbolVector.chromeURL()
        case "safari": try #require(try QRSymbolVector.all().first { $0.id == "safari_ios_url_level_m" }).text()
        default: input
        }
    }

    // MARK: - Byte-identical to the qrencode CLI

    @Test(arguments: oracleInputs, [0, 2, 4, 6])
    func utf8IsByteIdenticalToQrencodeUTF8(_ input: String, border: Int) async throws {
        let text = try Self.text(input)
        let tools = try ToolBox()
        let ours = try QRTextRenderer(style: .utf8, border: border).render(try QRCode(encoding: text))
        #expect(ours.text == (try await tools.qrencode(text, level: .medium, type: "UTF8", margin: border)))
    }

    @Test(arguments: oracleInputs)
    func invertedUTF8IsByteIdenticalToQrencodeUTF8i(_ input: String) async throws {
        let text = try Self.text(input)
        let tools = try ToolBox()
        let ours = try QRTextRenderer(style: .utf8, invert: true).render(try QRCode(encoding: text))
        #expect(ours.text == (try await tools.qrencode(text, level: .medium, type: "UTF8i")))
    }

    @Test(arguments: oracleInputs)
    func ansiIsByteIdenticalToQrencodeANSI256UTF8(_ input: String) async throws {
        let text = try Self.text(input)
        let tools = try ToolBox()
        let ours = try QRTextRenderer(style: .ansi).render(try QRCode(encoding: text))
        #expect(ours.text == (try await tools.qrencode(text, level: .medium, type: "ANSI256UTF8")))
    }

    @Test(arguments: oracleInputs, [0, 1, 3, 4])
    func asciiIsByteIdenticalToQrencodeASCIIiAndInvertedToASCII(_ input: String, border: Int) async throws {
        let text = try Self.text(input)
        let tools = try ToolBox()
        let code = try QRCode(encoding: text)
        let plain = try QRTextRenderer(style: .ascii, border: border).render(code)
        let inverted = try QRTextRenderer(style: .ascii, invert: true, border: border).render(code)
        #expect(plain.text == (try await tools.qrencode(text, level: .medium, type: "ASCIIi", margin: border)))
        #expect(inverted.text == (try await tools.qrencode(text, level: .medium, type: "ASCII", margin: border)))
    }

    // MARK: - Real decoders read every style

    /// Each rendering is turned back into an image, with no extra margin, and must decode to exactly the
    /// URL in zbar and in zxing-cpp; zxing also reports the version and level it read from the symbol.
    @Test(arguments: [
        (QRRenderStyle.utf8, false), (.utf8, true), (.ansi, false), (.ansi, true), (.ascii, false), (.ascii, true),
    ])
    func zbarAndZXingDecodeTheRenderingToExactlyTheURL(_ style: QRRenderStyle, invert: Bool) async throws {
        let url = try QRSymbolVector.chromeURL()
        let tools = try ToolBox()
        let rendering = try QRTextRenderer(style: style, invert: invert).render(try QRCode(encoding: url))
        let png = try await tools.png(
            fromText: rendering.text,
            format: style == .ascii ? .ascii : .halfblock,
            // In ansi the colours follow the ink (white ink on black, or black ink on white).
            inkIsLight: !invert,
            stripANSI: style == .ansi
        )
        #expect(try await tools.zbarText(png) == url)
        let symbols = try await tools.zxing(png)
        try #require(symbols.count == 1)
        #expect(symbols[0].text == url)
        #expect(symbols[0].version == "5")
        #expect(symbols[0].ecLevel == "M")
    }

    @Test func theWrongInkConventionDoesNotDecodeSoTheDecoderTestsMeanSomething() async throws {
        let url = try QRSymbolVector.chromeURL()
        let tools = try ToolBox()
        let rendering = try QRTextRenderer(style: .utf8).render(try QRCode(encoding: url))
        let negative = try await tools.png(fromText: rendering.text, format: .halfblock, inkIsLight: false)
        await #expect(throws: ToolFailure.self) { try await tools.zbarText(negative) }
        #expect(try await tools.zxing(negative).isEmpty)
    }

    // MARK: - Layout

    @Test func chromeURLIs45ColumnsBy23RowsAndFitsAn80By24Terminal() throws {
        let vector = try #require(try QRSymbolVector.all().first { $0.id == "chrome_2022_url_level_m" })
        let rendering = try QRTextRenderer(style: .utf8).render(try QRCode(encoding: try vector.text()))
        #expect(rendering.columns == vector.expected.halfBlockColumns)
        #expect(rendering.rows == vector.expected.halfBlockRows)
        #expect(rendering.lines.count == rendering.rows)
        #expect(rendering.lines.allSatisfy { $0.count == rendering.columns })
        #expect(rendering.fit(terminalColumns: 80, terminalRows: 24).fits)
    }

    @Test func asciiUsesTwoCharactersPerModuleAndOneLinePerModuleRow() throws {
        let rendering = try QRTextRenderer(style: .ascii).render(try QRCode(encoding: try QRSymbolVector.chromeURL()))
        #expect(rendering.columns == 90)
        #expect(rendering.rows == 45)
        #expect(rendering.lines.allSatisfy { $0.count == 90 && $0.allSatisfy { $0 == "#" || $0 == " " } })
    }

    @Test(arguments: [false, true])
    func ansiSetsForegroundAndBackgroundOnEveryLineAndResetsAtItsEnd(invert: Bool) throws {
        let rendering = try QRTextRenderer(style: .ansi, invert: invert).render(try QRCode(encoding: "HELLO"))
        let start = invert ? "\u{1B}[38;5;16m\u{1B}[48;5;231m" : "\u{1B}[38;5;231m\u{1B}[48;5;16m"
        #expect(rendering.lines.count == rendering.rows)
        for line in rendering.lines {
            #expect(line.hasPrefix(start))
            #expect(line.hasSuffix("\u{1B}[0m"))
            #expect(line.dropFirst(start.count).dropLast(4).count == rendering.columns)
        }
    }

    /// qrencode rounds an odd margin down in its half-block output; ours keeps exactly `border` light
    /// modules on every side, which the decoded-back image shows.
    @Test(arguments: [1, 3, 5])
    func oddBordersAreExactOnEverySide(border: Int) throws {
        let code = try QRCode(encoding: "FIDO:/123412341234")
        let rendering = try QRTextRenderer(style: .utf8, border: border).render(code)
        let side = code.size + 2 * border
        var image: [[Bool]] = []  // true = light
        for line in rendering.lines {
            var upper: [Bool] = []
            var lower: [Bool] = []
            for glyph in line {
                upper.append(glyph == "█" || glyph == "▀")
                lower.append(glyph == "█" || glyph == "▄")
            }
            image += [upper, lower]
        }
        #expect(image.count == side + (side % 2))
        func ringIsLight(_ ring: Int) -> Bool {
            (0..<side).allSatisfy {
                image[ring][$0] && image[side - 1 - ring][$0] && image[$0][ring] && image[$0][side - 1 - ring]
            }
        }
        #expect((0..<border).allSatisfy(ringIsLight))
        // The finder pattern starts right after the quiet zone: its corner module is dark.
        #expect(!image[border][border])
        #expect(!image[side - 1 - border][border])
    }

    // MARK: - Border rules

    @Test func theStandardBorderCarriesNoNotes() throws {
        let renderer = try QRTextRenderer()
        #expect(renderer.border == 4)
        #expect(renderer.notes.isEmpty)
        #expect(renderer.render(try QRCode(encoding: "HELLO")).notes.isEmpty)
    }

    @Test(arguments: [0, 1, 2, 3])
    func aBorderBelowFourIsAllowedButTheRenderingSaysTheStandardRequiresFour(border: Int) throws {
        let rendering = try QRTextRenderer(style: .utf8, border: border).render(try QRCode(encoding: "HELLO"))
        #expect(rendering.notes.map(\.code) == [.quietZoneBelowStandard])
        #expect(rendering.notes.first?.message.contains("requires 4") == true)
    }

    @Test(arguments: [-1, 65, 1000, Int.max, Int.min])
    func aBorderOutside0To64IsAnError(border: Int) {
        let error = #expect(throws: QRCodeError.self) { try QRTextRenderer(border: border) }
        #expect(error?.code == .invalidBorder)
    }

    @Test func theWidestBorderStillRenders() throws {
        let rendering = try QRTextRenderer(style: .utf8, border: 64).render(try QRCode(encoding: "HELLO"))
        #expect(rendering.columns == 21 + 128)
    }
}
