import CableTerminalQR
import CableTestSupport
import Testing

@Suite struct QRCodeTests {
    // MARK: - Version selection against external vectors

    @Test(arguments: try QRSymbolVector.valid())
    func choosesTheVersionTheStandardPrescribes(_ vector: QRSymbolVector) throws {
        let code = try QRCode(encoding: try vector.text(), errorCorrection: try vector.errorCorrection())
        #expect(code.version == vector.expected.version)
        #expect(code.size == vector.expected.size)
    }

    @Test(arguments: try QRSymbolVector.invalid())
    func refusesTextNoSymbolCanHold(_ vector: QRSymbolVector) throws {
        let expected = QRCodeError.Code(rawValue: try #require(vector.errorCode))
        let error = #expect(throws: QRCodeError.self) {
            try QRCode(encoding: try vector.text(), errorCorrection: try vector.errorCorrection())
        }
        #expect(error?.code == expected)
    }

    @Test func chromeSizedURLIsVersion5At37ModulesWithTheDefaultLevelM() throws {
        let code = try QRCode(encoding: try QRSymbolVector.chromeURL())
        #expect(code.errorCorrection == .medium)
        #expect(code.version == 5)
        #expect(code.size == 37)
    }

    @Test func sizeIsSeventeenPlusFourModulesPerVersion() throws {
        for count in [1, 30, 100, 500, 2000] {
            let code = try QRCode(encoding: String(repeating: "7", count: count), errorCorrection: .high)
            #expect(code.size == 17 + 4 * code.version)
        }
    }

    // MARK: - Module matrix against the qrencode CLI

    @Test(arguments: [
        ("chrome", QRErrorCorrection.medium), ("chrome", .low), ("chrome", .quartile), ("chrome", .high),
        ("FIDO:/123412341234", .medium), ("Hello, World! mixed Case 123", .medium),
        ("fido:/0123456789 lower-case prefix", .low), ("FIDO:/ünïcødé ✓", .medium),
    ])
    func modulesMatchTheQrencodeCLIModuleForModule(_ input: String, _ level: QRErrorCorrection) async throws {
        let text = input == "chrome" ? try QRSymbolVector.chromeURL() : input
        let tools = try ToolBox()
        let oracle = try await tools.qrencodeModules(text, level: level)
        let code = try QRCode(encoding: text, errorCorrection: level)
        try #require(oracle.count == code.size)
        for row in 0..<code.size {
            try #require(oracle[row].count == code.size)
            let ours = (0..<code.size).map { code[row: row, column: $0] }
            #expect(ours == oracle[row], "row \(row)")
        }
    }

    // MARK: - Bad input

    @Test func refusesEmptyText() {
        let error = #expect(throws: QRCodeError.self) { try QRCode(encoding: "") }
        #expect(error?.code == .empty)
    }

    @Test(arguments: ["\u{0}", "FIDO:/\u{0}123", "FIDO:/123\u{0}"])
    func refusesTextWithNULThatACStringWouldCutOff(_ text: String) {
        let error = #expect(throws: QRCodeError.self) { try QRCode(encoding: text) }
        #expect(error?.code == .containsNUL)
    }

    @Test func refusesMoreBytesThanAnySymbolHoldsBeforeCallingTheEncoder() {
        let text = String(repeating: "1", count: QRCode.maximumInputByteCount + 1)
        for level in QRErrorCorrection.allCases {
            let error = #expect(throws: QRCodeError.self) { try QRCode(encoding: text, errorCorrection: level) }
            #expect(error?.code == .tooLong)
        }
        // Multi-byte characters count by their UTF-8 bytes: 2400 × 3 bytes > 7089.
        let error = #expect(throws: QRCodeError.self) { try QRCode(encoding: String(repeating: "✓", count: 2400)) }
        #expect(error?.code == .tooLong)
    }

    @Test func mapsTheEncodersRangeErrorToTooLong() {
        // 2954 bytes pass our byte-count check but exceed version 40-L in byte mode (2953 bytes), so
        // this reaches libqrencode, which fails with ERANGE.
        let error = #expect(throws: QRCodeError.self) {
            try QRCode(encoding: String(repeating: "a", count: 2954), errorCorrection: .low)
        }
        #expect(error?.code == .tooLong)
    }

    @Test func errorReasonsNeverContainTheText() {
        let secretish = "FIDO:/" + String(repeating: "9876543210", count: 600)
        let error = #expect(throws: QRCodeError.self) { try QRCode(encoding: secretish, errorCorrection: .high) }
        #expect(error?.code == .tooLong)
        #expect(error.map { !"\($0)".contains("9876543210") } ?? false)
    }

    @Test func randomInputEitherEncodesConsistentlyOrFailsWithADocumentedCode() {
        let documented: Set<QRCodeError.Code> = [.empty, .containsNUL, .tooLong]
        let alphabet: [Unicode.Scalar] = [
            "0", "7", "A", "Z", ":", "/", "a", "~", " ", "\u{0}", "é", "✓", "日", "\u{1F600}",
        ]
        var rng = DeterministicRNG(seed: 0x5EED_0F_0C0DE)
        for _ in 0..<300 {
            let length = [0, 1, 17, 174, 700, 2000, 3000, 7089, 7090][Int.random(in: 0..<9, using: &rng)]
            let smallAlphabet = Int.random(in: 0..<3, using: &rng) == 0
            var scalars = String.UnicodeScalarView()
            for _ in 0..<length {
                let pick = Int.random(in: 0..<(smallAlphabet ? 2 : alphabet.count), using: &rng)
                scalars.append(alphabet[pick])
            }
            let level = QRErrorCorrection.allCases[Int.random(in: 0..<4, using: &rng)]
            do {
                let code = try QRCode(encoding: String(scalars), errorCorrection: level)
                #expect((1...40).contains(code.version))
                #expect(code.size == 17 + 4 * code.version)
            } catch {
                #expect(documented.contains(error.code), "\(error)")
            }
        }
    }

    // MARK: - Non-ASCII text

    /// Decision (documented on `QRCode`): non-ASCII text is encoded as its UTF-8 bytes in 8-bit mode,
    /// without an ECI header. The bytes survive exactly; the *text* depends on the decoder's charset guess.
    @Test func encodesNonASCIITextAsItsUTF8BytesInByteMode() async throws {
        let tools = try ToolBox()
        let renderer = try QRTextRenderer(style: .utf8)
        for text in ["FIDO:/ünïcødé ✓ 日本", "FIDO:/é"] {
            let code = try QRCode(encoding: text)
            let png = try await tools.png(fromText: renderer.render(code).text, format: .halfblock, inkIsLight: true)
            #expect(try await tools.zbarBytes(png) == Array(text.utf8))
            let symbols = try await tools.zxing(png)
            #expect(symbols.map(\.bytesHex) == [hexString(text.utf8)])
            #expect(symbols.map(\.text) == [text], "zxing-cpp guesses UTF-8")
        }
    }

    // MARK: - Secrets

    @Test func descriptionNamesVersionSizeAndLevelButNotTheContent() throws {
        let url = try QRSymbolVector.chromeURL()
        let code = try QRCode(encoding: url)
        #expect(code.description == "QRCode(version 5, 37×37, level M)")
        #expect(!String(reflecting: code).contains("1628707918"))
    }
}
