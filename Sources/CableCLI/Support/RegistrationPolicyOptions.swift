import ArgumentParser
import CableCTAP
import CableRelyingParty

/// The relying party's registration policy, as an enterprise identity provider sets it. Only
/// `register` takes these options, so `sign-in --help` does not list them.
struct RegistrationPolicyOptions: ParsableArguments {
    @Option(
        name: .customLong("allow-aaguid"),
        help: ArgumentHelp("Allow registration only from this authenticator model (repeatable).", valueName: "uuid")
    )
    var allowAAGUIDs: [String] = []

    @Flag(
        help:
            "Require attestation that verifies up to a trust anchor for the AAGUID (--mds, --attestation-root); refuse none and self."
    )
    var enforceAttestation = false

    @Option(
        name: .customLong("block-aaguid"),
        help: ArgumentHelp("Refuse registration from this authenticator model (repeatable).", valueName: "uuid")
    )
    var blockAAGUIDs: [String] = []

    /// The relying party's policy; a malformed AAGUID is a failure that shows the expected form (checked in
    /// `run`, not `validate`, so that it is the one `error:` line and `--json` line of cli.md).
    func policy() throws(PolicyOptionError) -> RelyingParty.Policy {
        let allowed = try Self.aaguids(self.allowAAGUIDs, option: "--allow-aaguid")
        let blocked = try Self.aaguids(self.blockAAGUIDs, option: "--block-aaguid")
        return RelyingParty.Policy(
            allowedAAGUIDs: allowed.isEmpty ? nil : Set(allowed),
            blockedAAGUIDs: Set(blocked),
            enforceAttestation: self.enforceAttestation
        )
    }

    static func aaguids(_ texts: [String], option: String) throws(PolicyOptionError) -> [AAGUID] {
        var out: [AAGUID] = []
        for text in texts {
            guard let aaguid = AAGUID(uuidString: text) else { throw PolicyOptionError(option: option, value: text) }
            out.append(aaguid)
        }
        return out
    }
}
