import CableCrypto
import Testing

@Suite("CryptoError")
struct CryptoErrorTests {
    @Test func equalityAndHashingUseTheCodeOnly() {
        #expect(CryptoError(.openSSL, "EVP_Digest: a") == CryptoError(.openSSL, "EVP_MAC_init: b"))
        #expect(CryptoError(.openSSL) != CryptoError(.invalidLength))
        #expect(Set([CryptoError(.invalidLength, "x"), CryptoError(.invalidLength, "y")]).count == 1)
    }

    @Test func descriptionNamesTheCodeAndDiagnostics() {
        #expect(CryptoError(.authenticationFailure).description == "CryptoError.authenticationFailure")
        #expect(CryptoError(.openSSL, "EVP_Digest: failed").description == "CryptoError.openSSL: EVP_Digest: failed")
    }

    @Test func lengthErrorsNameTheParameterAndLengthsOnly() {
        do {
            _ = try AES256GCM.seal(
                [UInt8](),
                key: [UInt8](repeating: 0xAB, count: 31),
                nonce: [UInt8](repeating: 0, count: 12),
                additionalData: [UInt8]()
            )
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidLength)
            #expect(error.diagnostics.contains("32"))
            #expect(error.diagnostics.contains("31"))
            #expect(!error.diagnostics.lowercased().contains("abab"))
        }
    }
}
