import CableCBOR
import CableCTAP
import CableTestSupport
import Testing

@Suite struct CTAPResponseTests {
    static let vectors = ResponseVectors.load("ctap-responses")

    @Test(arguments: vectors)
    func decodesTunnelResponseFramesFromTheSession(_ vector: ResponseVectors.Vector) throws {
        let plaintext = hex(vector.input.tunnelPlaintext)
        try #require(plaintext.first == 0x01)
        let response = try CTAPResponse(frame: plaintext.dropFirst())
        #expect(response.status.rawValue == vector.expected.status)
        #expect(response.frame == Array(plaintext.dropFirst()))
        guard vector.result == "invalid" else {
            #expect(response.payload.isEmpty)
            return
        }
        // A status-OK makeCredential answer that lacks authData must not get past the desktop.
        #expect(vector.input.request == "makeCredential")
        let error = expectCTAPError(
            CTAPError.Code(vector.errorCode ?? "", status: .ok),
            field: vector.expected.errorField
        ) {
            () throws(CTAPError) in try MakeCredentialResponse(encoded: response.payload)
        }
        #expect(error?.status == .missingParameter)
    }

    @Test func noCredentialsStatusIsNamed() throws {
        let response = try CTAPResponse(frame: [0x2E])
        #expect(response.status == .noCredentials)
        #expect(response.description == "CTAPResponse(CTAP2_ERR_NO_CREDENTIALS (0x2E), 0 bytes)")
    }

    @Test func emptyFrameIsRejected() {
        expectCTAPError(.emptyMessage) { () throws(CTAPError) in try CTAPResponse(frame: []) }
    }

    @Test func errorStatusWithAPayloadIsRejected() {
        expectCTAPError(.unexpectedPayload) { () throws(CTAPError) in try CTAPResponse(frame: [0x2E, 0xA0]) }
    }

    @Test func successCarriesTheEncodedValue() {
        let response = CTAPResponse.success(["fmt": "none"])
        #expect(response.frame == [0x00, 0xA1, 0x63, 0x66, 0x6D, 0x74, 0x64, 0x6E, 0x6F, 0x6E, 0x65])
        #expect(CTAPResponse.failure(.operationDenied).frame == [0x27])
    }
}
