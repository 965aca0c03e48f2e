import CableTerminalQR
import CableTestSupport
import Testing

/// One vector of `Spec/vectors/qr-symbol.json` (schema in `Spec/README.md`).
struct QRSymbolVector: Decodable, Sendable, CustomTestStringConvertible {
    struct Input: Decodable, Sendable {
        let text: String?
        let `repeat`: String?
        let count: Int?
        let errorCorrection: String
    }

    struct Expected: Decodable, Sendable {
        let version: Int?
        let size: Int?
        let halfBlockColumns: Int?
        let halfBlockRows: Int?
    }

    struct File: Decodable {
        let name: String
        let vectors: [QRSymbolVector]
    }

    let id: String
    let status: String
    let input: Input
    let expected: Expected
    let result: String
    let errorCode: String?

    var testDescription: String { self.id }

    /// The text to encode: `text`, or `repeat` written `count` times.
    func text() throws -> String {
        if let text = self.input.text { return text }
        let unit = try #require(self.input.repeat, "\(self.id): neither text nor repeat")
        let count = try #require(self.input.count, "\(self.id): repeat without count")
        return String(repeating: unit, count: count)
    }

    /// The level the vector asks for.
    func errorCorrection() throws -> QRErrorCorrection {
        try #require(QRErrorCorrection(letter: self.input.errorCorrection), "\(self.id): bad level")
    }

    /// Every vector in the file.
    static func all() throws -> [QRSymbolVector] {
        try SpecVectors.load("qr-symbol.json", as: File.self).vectors
    }

    /// The vectors that must encode.
    static func valid() throws -> [QRSymbolVector] { try Self.all().filter { $0.result == "valid" } }

    /// The vectors that must be refused.
    static func invalid() throws -> [QRSymbolVector] { try Self.all().filter { $0.result == "invalid" } }

    /// The Chrome desktop URL (`chrome_2022_url_level_m`), the project's reference QR payload.
    static func chromeURL() throws -> String {
        let vector = try #require(try Self.all().first { $0.id == "chrome_2022_url_level_m" })
        return try vector.text()
    }
}
