import CableTestSupport
import Foundation
import Testing

/// `Spec/vectors/<name>.json` with its typed vectors.
struct VectorFile<Input: Decodable & Sendable, Expected: Decodable & Sendable>: Decodable, Sendable {
    struct Vector: Decodable, Sendable, CustomTestStringConvertible {
        var id: String
        var status: String
        var input: Input
        var expected: Expected
        var result: String
        var errorCode: String?
        var testDescription: String { self.id }
    }
    var name: String
    var vectors: [Vector]

    static func load(_ name: String) -> [Vector] {
        do {
            return try SpecVectors.load("\(name).json", as: Self.self).vectors
        } catch {
            preconditionFailure("cannot load Spec/vectors/\(name).json: \(error)")
        }
    }
}

// MARK: - ctap-getinfo.json

struct GetInfoInput: Decodable, Sendable { var postHandshakePlaintext: String }
struct GetInfoExpected: Decodable, Sendable {
    var getInfo: String
    var versions: [String]
    var extensions: [String]?
    var aaguid: String
    var options: [String: Bool]?
    var transports: [String]?
}
typealias GetInfoVectors = VectorFile<GetInfoInput, GetInfoExpected>

// MARK: - ctap-requests.json / ctap-responses.json

struct TunnelInput: Decodable, Sendable {
    var tunnelPlaintext: String
    var request: String?
}
struct RequestExpected: Decodable, Sendable {
    var command: String
    var clientDataHash: String
    var rpId: String
    var rpName: String?
    var userId: String?
    var userName: String?
    var userDisplayName: String?
    var algorithms: [Int64]?
    var excludeList: [String]?
    var options: [String: Bool]?
}
struct ResponseExpected: Decodable, Sendable {
    var status: UInt8
    var errorField: String?
}
typealias RequestVectors = VectorFile<TunnelInput, RequestExpected>
typealias ResponseVectors = VectorFile<TunnelInput, ResponseExpected>

// MARK: - webauthn-*.json

struct RegistrationInput: Decodable, Sendable {
    var rpId: String
    var origin: String
    var challenge: String
    var clientDataJSON: String
    var attestationObject: String
}
struct RegistrationExpected: Decodable, Sendable {
    var fmt: String
    var aaguid: String
    var credentialId: String
    var signCount: UInt32
    var flags: UInt8
    var credentialPublicKey: String
    var x5cCount: Int
}
typealias RegistrationVectors = VectorFile<RegistrationInput, RegistrationExpected>

struct AssertionInput: Decodable, Sendable {
    var rpId: String
    var origin: String
    var challenge: String
    var credentialId: String
    var authenticatorData: String
    var clientDataJSON: String
    var signature: String
    var userHandle: String?
    var credentialPublicKey: String
    var storedSignCount: UInt32
    var requireUserVerification: Bool
}
struct AssertionExpected: Decodable, Sendable { var newSignCount: UInt32? }
typealias AssertionVectors = VectorFile<AssertionInput, AssertionExpected>

struct ClientDataInput: Decodable, Sendable {
    var type: String
    var challenge: String
    var origin: String
    var crossOrigin: Bool
}
struct ClientDataExpected: Decodable, Sendable {
    var clientDataJSON: String
    var text: String
}
typealias ClientDataVectors = VectorFile<ClientDataInput, ClientDataExpected>

struct COSEKeyInput: Decodable, Sendable { var coseKey: String }
struct COSEKeyExpected: Decodable, Sendable {
    var x: String?
    var y: String?
}
typealias COSEKeyVectors = VectorFile<COSEKeyInput, COSEKeyExpected>
