import CableCBOR
import CableCTAP
import CableTestSupport
import Foundation
import Testing

/// Paths, the Python venv and the shared fixtures of the CableTrust tests.
enum TrustTestSupport {
    /// The repository root (three levels above this file).
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Spec/vectors/attestation/<name>`.
    static func specFile(_ name: String) throws -> Data {
        try Data(contentsOf: self.repositoryRoot.appendingPathComponent("Spec/vectors/attestation/\(name)"))
    }

    /// The venv interpreter made by `make venv`.
    static var python: URL? {
        let candidate = self.repositoryRoot.appendingPathComponent(".venv-tools/bin/python")
        return FileManager.default.isExecutableFile(atPath: candidate.path) ? candidate : nil
    }

    /// Runs `Python/<script>` with `arguments`, waits (generously) and returns its last stdout line.
    static func runPython(
        _ script: String,
        _ arguments: [String],
        timeout: Duration = .seconds(300)
    ) async throws
        -> String
    {
        guard let python = self.python else {
            throw SupportError("Python venv .venv-tools is missing: run `make venv`")
        }
        let path = self.repositoryRoot.appendingPathComponent("Tests/CableTrustTests/Python/\(script)").path
        let result: ChildOutput
        do {
            result = try await ChildProcess.run(python, [path] + arguments, timeout: timeout)
        } catch {
            throw SupportError("\(script): \(error)")
        }
        guard result.status == 0, let last = result.stdoutText.split(separator: "\n").last else {
            throw SupportError("\(script) exited \(result.status): \(result.stderrText.suffix(2000))")
        }
        return String(last)
    }

    /// The fixtures `trust_fixtures.py` builds (once per test process, awaited by every test that
    /// needs them: a test waiting for the script holds no thread).
    static let fixtures = Task<Result<Fixtures, SupportError>, Never> {
        do {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "cable-trust-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            _ = try await TrustTestSupport.runPython("trust_fixtures.py", [directory.path])
            let data = try Data(contentsOf: directory.appendingPathComponent("fixtures.json"))
            return .success(try JSONDecoder().decode(Fixtures.self, from: data))
        } catch let error as SupportError {
            return .failure(error)
        } catch {
            return .failure(SupportError("fixtures: \(error)"))
        }
    }

    static func loadFixtures() async throws -> Fixtures { try await self.fixtures.value.get() }
}

struct SupportError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What `trust_fixtures.py` writes.
struct Fixtures: Decodable, Sendable {
    struct PolicyCase: Decodable, Sendable {
        let aaguid: String
        let attestationObject: String
    }
    let time: Int64
    let clientDataHash: String
    let certifiedAAGUID: String
    let attestationRoot: String
    let otherRoot: String
    let cases: [String: String]
    let policyCases: [String: PolicyCase]
    let loopChain: [String]
    let longChain: [String]
    let mdsRoot: String
    let blobs: [String: String]

    func attestationObject(_ name: String) throws -> AttestationObject {
        guard let hex = self.cases[name] else { throw SupportError("no fixture case \(name)") }
        return try AttestationObject(encoded: Hex.decode(hex))
    }
}

/// The attestation vectors of `Spec/vectors/attestation/attestation.json`.
struct AttestationVectors: Decodable {
    struct Vector: Decodable, Sendable, CustomTestStringConvertible {
        struct Input: Decodable, Sendable {
            let attestationObject: String
            let clientDataHash: String
            let verificationTime: Int64
            let clientDataJSON: String?
        }
        struct Expected: Decodable, Sendable {
            let format: String
            let attestationType: String
            let trustPathLength: Int
        }
        let id: String
        let input: Input
        let expected: Expected
        var testDescription: String { self.id }
    }
    let vectors: [Vector]

    static func load() throws -> [Vector] {
        try JSONDecoder().decode(Self.self, from: TrustTestSupport.specFile("attestation.json")).vectors
    }
}

/// `Spec/vectors/attestation/roots.json`.
struct AttestationRoots: Decodable {
    struct Root: Decodable {
        let id: String
        let pem: String
    }
    let roots: [Root]

    static func pem(_ id: String) throws -> [UInt8] {
        let roots = try JSONDecoder().decode(Self.self, from: TrustTestSupport.specFile("roots.json")).roots
        guard let root = roots.first(where: { $0.id == id }) else { throw SupportError("no root \(id)") }
        return Array(root.pem.utf8)
    }

    static func pems(prefix: String) throws -> [UInt8] {
        let roots = try JSONDecoder().decode(Self.self, from: TrustTestSupport.specFile("roots.json")).roots
        return Array(roots.filter { $0.id.hasPrefix(prefix) }.map(\.pem).joined().utf8)
    }
}

enum Hex {
    static func decode(_ text: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count / 2)
        var iterator = text.utf8.makeIterator()
        while let high = iterator.next() {
            guard let low = iterator.next(), let h = Self.nibble(high), let l = Self.nibble(low) else {
                throw SupportError("bad hex")
            }
            bytes.append(h << 4 | l)
        }
        return bytes
    }

    static func encode(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Mutations of attestation objects: each one a rule the verifier must catch.
enum Mutation: String, CaseIterable, Sendable {
    case flippedSignatureByte, wrongClientDataHash, missingX5C, algorithmMismatch

    /// The mutated object and client data hash, or `nil` when the mutation does not apply to `format`.
    func apply(to object: AttestationObject, clientDataHash: [UInt8]) -> (AttestationObject, [UInt8])? {
        var statement = object.attestationStatement.statement
        switch self {
        case .wrongClientDataHash:
            var hash = clientDataHash
            hash[0] ^= 0x01
            return (object, hash)
        case .flippedSignatureByte:
            guard var signature = statement["sig"]?.bytesValue else { return nil }
            signature[signature.count / 2] ^= 0x01
            statement["sig"] = .byteString(signature)
        case .missingX5C:
            guard statement["x5c"] != nil else { return nil }
            statement = CBORMap(uniqueKeysWithValues: statement.filter { $0.key != "x5c" }.map { ($0.key, $0.value) })
        case .algorithmMismatch:
            // apple's statement defines no alg (Apple's platform adds one that every verifier ignores).
            guard statement["alg"] != nil, object.attestationStatement.format != "apple" else { return nil }
            statement["alg"] = .integer(-257)
        }
        var mutated = object
        guard let parsed = try? AttestationStatement(format: object.attestationStatement.format, statement: statement)
        else { return nil }
        mutated.attestationStatement = parsed
        return (mutated, clientDataHash)
    }
}
