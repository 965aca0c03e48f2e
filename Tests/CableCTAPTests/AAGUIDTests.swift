import CableCTAP
import Foundation
import Testing

@Suite struct AAGUIDTests {
    @Test func microsoftAuthenticatorConstantsHaveTheirPublishedAAGUIDs() {
        #expect(AAGUID.microsoftAuthenticatorIOS.uuidString == "90a3ccdf-635c-4729-a248-9b709135078f")
        #expect(AAGUID.microsoftAuthenticatorAndroid.uuidString == "de1e552d-db1d-4423-a619-566b625cdc84")
        #expect(AAGUID.microsoftAuthenticatorAndroid.bytes.first == 0xDE)
    }

    @Test func stringFormIsLowerCaseAndParsingAcceptsEitherCase() throws {
        let upper = try #require(AAGUID(uuidString: "90A3CCDF-635C-4729-A248-9B709135078F"))
        #expect(upper == .microsoftAuthenticatorIOS)
        #expect(upper.uuidString == "90a3ccdf-635c-4729-a248-9b709135078f")
        #expect(upper.description == upper.uuidString)
    }

    @Test func stringFormMatchesFoundationUUIDLayout() throws {
        let aaguid = try AAGUID(bytes: Array(0..<16))
        let foundation = UUID(uuid: (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
        #expect(aaguid.uuidString == foundation.uuidString.lowercased())
    }

    @Test(arguments: [
        "", "90a3ccdf635c4729a2489b709135078f", "90a3ccdf-635c-4729-a248-9b709135078",
        "90a3ccdf-635c-4729-a248-9b709135078ff",
        "90a3ccdg-635c-4729-a248-9b709135078f", "90a3ccdf-635c4-729-a248-9b709135078f",
        "{90a3ccdf-635c-4729-a248-9b709135078f}",
        "90a3ccdf-635c-4729-a248-9b70913507 f", "90a3ccdf--635c-4729-a248-9b709135078",
    ])
    func rejectsMalformedStrings(_ text: String) {
        #expect(AAGUID(uuidString: text) == nil)
    }

    @Test(arguments: [0, 15, 17, 32])
    func bytesMustBeSixteen(_ count: Int) {
        expectCTAPError(.invalidLength, field: "aaguid") { () throws(CTAPError) in
            try AAGUID(bytes: [UInt8](repeating: 1, count: count))
        }
    }

    @Test func zeroAAGUIDIsRecognised() throws {
        #expect(AAGUID.zero.isZero)
        #expect(!AAGUID.microsoftAuthenticatorIOS.isZero)
    }

    @Test func codableUsesTheStringForm() throws {
        let data = try JSONEncoder().encode([AAGUID.microsoftAuthenticatorIOS])
        #expect(String(decoding: data, as: UTF8.self) == "[\"90a3ccdf-635c-4729-a248-9b709135078f\"]")
        #expect(try JSONDecoder().decode([AAGUID].self, from: data) == [.microsoftAuthenticatorIOS])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([AAGUID].self, from: Data("[\"nope\"]".utf8)) }
    }
}
