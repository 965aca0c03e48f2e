import CableTerminalQR
import Testing

@Suite struct QRErrorCorrectionTests {
    @Test func levelsAreSpelledWithTheStandardsLetters() {
        #expect(QRErrorCorrection.allCases.map(\.rawValue) == ["L", "M", "Q", "H"])
        #expect(QRErrorCorrection.medium.description == "M")
    }

    @Test(arguments: [("l", QRErrorCorrection.low), ("M", .medium), ("q", .quartile), ("H", .high)])
    func parsesALetterInEitherCase(_ letter: String, _ level: QRErrorCorrection) {
        #expect(QRErrorCorrection(letter: letter) == level)
    }

    @Test(arguments: ["", "X", "MM", "medium", "7"])
    func rejectsAnythingButTheFourLetters(_ letter: String) {
        #expect(QRErrorCorrection(letter: letter) == nil)
    }

    @Test func higherLevelsNeverMakeASmallerSymbol() throws {
        let url = try QRSymbolVector.chromeURL()
        let versions = try QRErrorCorrection.allCases.map { try QRCode(encoding: url, errorCorrection: $0).version }
        #expect(versions == versions.sorted())
    }
}
