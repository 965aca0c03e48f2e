import CableCrypto
import CableRelyingParty
import CableTestSupport
import Foundation
import Testing

@Suite struct ClientDataTests {
    static let vectors = ClientDataVectors.load("webauthn-clientdata")

    static func clientData(_ input: ClientDataInput) throws -> ClientData {
        let type = try #require(ClientData.CeremonyType(rawValue: input.type))
        return ClientData(
            type: type,
            challenge: hex(input.challenge),
            origin: input.origin,
            crossOrigin: input.crossOrigin
        )
    }

    @Test(arguments: vectors)
    func buildsClientDataJSONExactlyAsBrowsersDo(_ vector: ClientDataVectors.Vector) throws {
        let clientData = try Self.clientData(vector.input)
        #expect(hexString(clientData.json) == vector.expected.clientDataJSON)
        #expect(String(decoding: clientData.json, as: UTF8.self) == vector.expected.text)
        #expect(clientData.hash == SHA256.hash(hex(vector.expected.clientDataJSON)))
    }

    @Test(arguments: vectors)
    func parsesBrowserClientDataJSON(_ vector: ClientDataVectors.Vector) throws {
        #expect(try ClientData(json: hex(vector.expected.clientDataJSON)) == Self.clientData(vector.input))
    }

    @Test func rpIDInitializerUsesTheHTTPSOrigin() {
        let clientData = ClientData(type: .get, challenge: [0xFB, 0xFF], rpID: "login.example.com")
        #expect(
            String(decoding: clientData.json, as: UTF8.self)
                == #"{"type":"webauthn.get","challenge":"-_8","origin":"https://login.example.com","crossOrigin":false}"#
        )
    }

    @Test func stringsAreEscapedLikeCCDToString() throws {
        let clientData = ClientData(type: .create, challenge: [], origin: "https://a\"b\\c\u{1}é", crossOrigin: true)
        #expect(
            String(decoding: clientData.json, as: UTF8.self)
                == #"{"type":"webauthn.create","challenge":"","origin":"https://a\"b\\c\u0001é","crossOrigin":true}"#
        )
        #expect(try ClientData(json: clientData.json) == clientData)
    }

    @Test func memberOrderAndExtraMembersDoNotMatterWhenParsing() throws {
        let json =
            #"{"origin":"https://x.example","tokenBinding":{"status":"supported"},"challenge":"AQI","type":"webauthn.get"}"#
        let clientData = try ClientData(json: Array(json.utf8))
        #expect(clientData == ClientData(type: .get, challenge: [1, 2], origin: "https://x.example"))
    }

    @Test(arguments: [
        "", "[]", "{}", "not json", #"{"type":"webauthn.get","challenge":"AQI"}"#,
        #"{"type":"webauthn.get","origin":"https://x"}"#, #"{"type":1,"challenge":"AQI","origin":"https://x"}"#,
        #"{"type":"webauthn.get","challenge":"AQI=","origin":"https://x"}"#,
        #"{"type":"webauthn.get","challenge":"A+/I","origin":"https://x"}"#,
        // Non-zero trailing bits: "AQJ" would decode to the same bytes as the canonical "AQI".
        #"{"type":"webauthn.get","challenge":"AQJ","origin":"https://x"}"#,
        #"{"type":"webauthn.get","challenge":"AQI","origin":"https://x","crossOrigin":1}"#,
        #"{"type":"webauthn.get","challenge":"AQI","origin":"https://x","crossOrigin":"false"}"#,
    ])
    func malformedClientDataIsRejected(_ json: String) {
        expectRPError(.clientDataMalformed) { () throws(RelyingPartyError) in try ClientData(json: Array(json.utf8)) }
    }

    @Test func unknownCeremonyTypeIsATypeMismatch() {
        let json = #"{"type":"payment.get","challenge":"AQI","origin":"https://x"}"#
        expectRPError(.clientDataTypeMismatch) { () throws(RelyingPartyError) in try ClientData(json: Array(json.utf8))
        }
    }

    @Test func oversizedClientDataIsRejected() {
        let json =
            Array(#"{"type":"webauthn.get","challenge":""#.utf8)
            + [UInt8](repeating: 0x41, count: ClientData.maxJSONLength)
        expectRPError(.clientDataMalformed) { () throws(RelyingPartyError) in try ClientData(json: json) }
    }

    @Test func descriptionDoesNotPrintTheChallenge() {
        let clientData = ClientData(type: .get, challenge: Array("secret-challenge".utf8), rpID: "x.example")
        #expect(!clientData.description.contains("c2VjcmV0"))
        #expect(clientData.description == "ClientData(webauthn.get, origin: https://x.example)")
    }
}
