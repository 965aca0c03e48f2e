import CableTestSupport

/// One `Spec/vectors/crypto-*.json` file in the schema of `Spec/README.md`, with topic-specific
/// `input` and `expected` objects.
struct CryptoVectorFile<Input: Decodable, Expected: Decodable>: Decodable {
    /// One known-answer or rejection case.
    struct Vector: Decodable {
        let id: String
        let status: String
        let input: Input
        let expected: Expected?
        let result: String
        let errorCode: String?
    }

    let name: String
    let vectors: [Vector]

    /// Loads `Spec/vectors/<name>.json` and checks that the file names itself.
    static func load(_ name: String) throws -> Self {
        let file = try SpecVectors.load("\(name).json", as: Self.self)
        guard file.name == name, !file.vectors.isEmpty else {
            throw VectorFileError.malformed(name)
        }
        return file
    }
}

/// A vector file that does not match its own name or is empty.
enum VectorFileError: Error {
    case malformed(String)
}
