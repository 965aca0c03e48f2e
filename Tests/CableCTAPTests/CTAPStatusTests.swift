import CableCTAP
import Testing

@Suite struct CTAPStatusTests {
    @Test func namedStatusesHaveTheirCTAPWireValues() {
        // CTAP 2.1 §8.2 status code table.
        let table: [(CTAPStatus, UInt8)] = [
            (.ok, 0x00), (.invalidCommand, 0x01), (.invalidParameter, 0x02), (.invalidLength, 0x03),
            (.cborUnexpectedType, 0x11), (.invalidCBOR, 0x12), (.missingParameter, 0x14),
            (.credentialExcluded, 0x19), (.unsupportedAlgorithm, 0x26), (.operationDenied, 0x27),
            (.unsupportedOption, 0x2B), (.invalidOption, 0x2C), (.noCredentials, 0x2E),
            (.userActionTimeout, 0x2F), (.notAllowed, 0x30), (.other, 0x7F),
        ]
        for (status, byte) in table {
            #expect(status.rawValue == byte)
            #expect(CTAPStatus(rawValue: byte) == status)
        }
    }

    @Test func descriptionNamesTheSpecificationConstant() {
        #expect(CTAPStatus.noCredentials.description == "CTAP2_ERR_NO_CREDENTIALS (0x2E)")
        #expect(CTAPStatus.ok.description == "CTAP2_OK (0x00)")
        #expect(CTAPStatus.invalidCommand.description == "CTAP1_ERR_INVALID_COMMAND (0x01)")
    }

    @Test func unknownStatusBytesAreRepresentableAndPrintedInHex() {
        let status = CTAPStatus(rawValue: 0xF3)
        #expect(status.name == nil)
        #expect(status.description == "CTAP status 0xF3")
        #expect(!status.isSuccess)
    }

    @Test func onlyZeroIsSuccess() {
        #expect(CTAPStatus.ok.isSuccess)
        for byte in UInt8(1)...UInt8.max { #expect(!CTAPStatus(rawValue: byte).isSuccess) }
    }

    @Test func commandBytesMatchCTAP() {
        #expect(CTAPCommand.makeCredential.rawValue == 0x01)
        #expect(CTAPCommand.getAssertion.rawValue == 0x02)
        #expect(CTAPCommand.getInfo.rawValue == 0x04)
        #expect(CTAPCommand.selection.rawValue == 0x0B)
        #expect(CTAPCommand.makeCredential.description == "authenticatorMakeCredential")
    }

    @Test func errorCodesCarryTheStatusAnAuthenticatorAnswers() {
        #expect(CTAPError.Code.missingParameter.status == .missingParameter)
        #expect(CTAPError.Code.unexpectedType.status == .cborUnexpectedType)
        #expect(CTAPError.Code.invalidCBOR.status == .invalidCBOR)
        #expect(CTAPError.Code.unsupportedCommand.status == .invalidCommand)
        #expect(CTAPError.Code.unsupportedKey.status == .unsupportedAlgorithm)
        #expect(CTAPError.Code.invalidLength.status == .invalidLength)
    }
}
