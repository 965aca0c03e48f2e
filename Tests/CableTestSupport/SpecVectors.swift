import Foundation

/// Locates and loads the conformance vectors under `Spec/vectors/` (outside every target, so found by
/// walking up from this file, as swift-crypto finds its Wycheproof files).
public enum SpecVectors {
    /// The repository's `Spec/vectors` directory.
    public static var directory: URL {
        var url = URL(fileURLWithPath: #filePath)
        while url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("Spec/vectors")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
        }
        fatalError("Spec/vectors not found above \(#filePath)")
    }

    /// Decodes `Spec/vectors/<name>` as `T`.
    public static func load<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return try JSONDecoder().decode(T.self, from: data)
    }

    /// Raw JSON object of `Spec/vectors/<name>`.
    public static func json(_ name: String) throws -> Any {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return try JSONSerialization.jsonObject(with: data)
    }
}

/// Hex for tests: decodes or traps (test input is written by us).
public func hex(_ s: String) -> [UInt8] {
    let clean = s.filter { !$0.isWhitespace }
    precondition(clean.count % 2 == 0, "odd hex")
    var out: [UInt8] = []
    var i = clean.startIndex
    while i < clean.endIndex {
        let j = clean.index(i, offsetBy: 2)
        out.append(UInt8(clean[i..<j], radix: 16)!)
        i = j
    }
    return out
}

/// Lower-case hex of bytes, for assertions.
public func hexString(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

/// A deterministic RNG (SplitMix64) for reproducible tests.
public struct DeterministicRNG: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { self.state = seed }
    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
