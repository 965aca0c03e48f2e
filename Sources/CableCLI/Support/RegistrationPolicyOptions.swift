import ArgumentParser
import CableCTAP
import CableRelyingParty

/// The relying party's registration policy, as an enterprise identity provider sets it. Only
/// `register` takes these options, so `sign-in --help` does not list them.
struct RegistrationPolicyOptions: ParsableArguments {
    @Option(
        name: .customLong("allow-aaguid"),
        help: ArgumentHelp("Allow registration only from this authenticator model (repeatable).", valueName: "uuid"))
    var allowAAGUIDs: [String] = []

    @Flag(help: "Refuse registrations with `none` attestation.")
    var enforceAttestation = false

    func validate() throws {
        for a in self.allowAAGUIDs where AAGUID(uuidString: a) == nil {
            throw ValidationError(
                "--allow-aaguid \(a) is not a UUID; give it as 8-4-4-4-12 hex digits, e.g. de1e552d-db1d-4423-a619-566b625cdc84")
        }
    }

    var policy: RelyingParty.Policy {
        RelyingParty.Policy(
            allowedAAGUIDs: self.allowAAGUIDs.isEmpty ? nil : Set(self.allowAAGUIDs.compactMap { AAGUID(uuidString: $0) }),
            enforceAttestation: self.enforceAttestation)
    }
}
