import ArgumentParser
import CableDesktop
import CableProtocol
import CableRelyingParty
import CableTrust
import CableTunnel
import Foundation
import Logging

/// `cable register`: the desktop side of a cross-device registration, verified as the relying party.
struct RegisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Show a QR code, meet the phone through the tunnel, create a passkey and verify it.",
        discussion: """
            Sends authenticatorMakeCredential (ES256, resident key, user verification) and verifies the \
            attestation as an identity provider would: rpIdHash, flags, AAGUID policy, attestation.
            """
    )

    @Option(help: "The account name.")
    var user: String

    @Option(help: "A friendly name for the new passkey.")
    var name: String?

    @OptionGroup var desktop: DesktopOptions
    @OptionGroup(title: "Registration policy") var registrationPolicy: RegistrationPolicyOptions
    @OptionGroup(title: "Trust") var trustOptions: TrustOptions
    @OptionGroup var drawing: QRStyleOptions

    func run() async throws {
        let user = self.user
        let name = self.name
        let policy: RelyingParty.Policy
        do { policy = try self.registrationPolicy.policy() } catch {
            throw Output.failure(error.description, step: "arguments")
        }
        let trust = try self.trustOptions.policy(at: Int64(Date().timeIntervalSince1970))
        try await DesktopRun.run(
            ceremony: "register",
            options: self.desktop,
            policy: policy,
            trust: trust,
            drawing: self.drawing
        ) { ceremonies, timer, onEvent in
            let outcome = try await ceremonies.register(
                userName: user,
                friendlyName: name,
                timestamp: Int64(Date().timeIntervalSince1970),
                onEvent: onEvent
            )
            timer.mark("attestation verified")
            return (CeremonyOutput.human(outcome), CeremonyOutput.json(outcome))
        }
    }
}

/// `cable sign-in`: the desktop side of a cross-device sign-in.
struct SignInCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-in",
        abstract: "Show a QR code, meet the phone through the tunnel, and verify its assertion.",
        discussion: "Without --credential it asks for a discoverable credential (empty allow list)."
    )

    // Unconditional: one credential ID in 64 begins with "-", which would otherwise be read as an option.
    @Option(
        name: .customLong("credential"),
        parsing: .unconditionalSingleValue,
        help: "Allow only this credential ID (base64url; repeatable)."
    )
    var credentials: [String] = []

    @OptionGroup var desktop: DesktopOptions
    @OptionGroup var drawing: QRStyleOptions

    func validate() throws {
        for c in self.credentials where Base64URL.decode(c) == nil {
            throw ValidationError("--credential \(c) is not base64url")
        }
    }

    func run() async throws {
        let allow = self.credentials.compactMap { Base64URL.decode($0) }
        try await DesktopRun.run(ceremony: "sign-in", options: self.desktop, drawing: self.drawing) {
            ceremonies,
            timer,
            onEvent in
            let outcome = try await ceremonies.signIn(
                allowCredentials: allow,
                timestamp: Int64(Date().timeIntervalSince1970),
                onEvent: onEvent
            )
            timer.mark("assertion verified")
            return (CeremonyOutput.human(outcome), CeremonyOutput.json(outcome))
        }
    }
}
