import CableAuthenticator
import CableCTAP
import Foundation
import Logging

/// Fuzzes CTAP2 request decoding on the phone (`CTAPRequest(frame:)`) and the phone model's handler
/// (`PhoneAuthenticator.handle`) with a fresh in-memory credential store per input.
public enum CTAPRequestHarness {
    /// The makeCredential frame of `ctap-requests.json` `make_credential_derived_session` (the hybrid type
    /// byte removed); registered before a fuzzed getAssertion so that assertions can find a credential.
    static let registration = Array(FuzzFixtures.makeCredential.bytes("tunnelPlaintext").dropFirst())

    /// A logger that drops everything: the handler logs one line per request.
    static let silentLogger = Logger(label: "cable.fuzz", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Decodes `input` as a request frame and hands it to a phone model.
    ///
    /// Invariants: a decoded request re-encodes to a frame that decodes to the same request; the handler
    /// always answers with a well-formed response frame, and a frame the decoder refuses (within the
    /// handler's size limit) is answered with exactly the status of the decoder's error.
    public static func run(_ input: [UInt8]) async -> FuzzReport {
        var report = FuzzReport()
        var decodingError: CTAPError?
        do throws(CTAPError) {
            let request = try CTAPRequest(frame: input)
            report.record("CTAPRequest(frame:)", .accepted)
            let again = try? CTAPRequest(frame: request.frame)
            fuzzInvariant(again == request, "a decoded request re-encodes to one that decodes the same")
        } catch {
            report.record("CTAPRequest(frame:)", .rejected(code: error.fuzzCode))
            decodingError = error
        }

        let phone = PhoneAuthenticator(
            persona: .generic,
            store: InMemoryCredentialStore(),
            consent: AlwaysApprove(),
            logger: Self.silentLogger,
            now: { Date(timeIntervalSince1970: 1_700_000_000) }
        )
        if input.first == CTAPCommand.getAssertion.rawValue {
            let registered = await phone.handle(Self.registration)
            fuzzInvariant(registered.first == CTAPStatus.ok.rawValue, "the fixture makeCredential succeeds")
        }
        let answer = await phone.handle(input)
        let response = try? CTAPResponse(frame: answer)
        fuzzInvariant(response != nil, "the phone model answers with a well-formed response frame")
        guard let response else { return report }
        if let decodingError, input.count <= PhoneAuthenticator.maxRequestSize {
            fuzzInvariant(response.status == decodingError.status, "an undecodable request gets the decoder's status")
        }
        let verdict: FuzzOutcome.Verdict = response.status.isSuccess ? .accepted : .rejected(code: "\(response.status)")
        report.record("PhoneAuthenticator.handle", verdict)
        return report
    }
}
