import CableCTAP
import CableTrust
import Foundation

// The relying party's attestation step, delegated to CableTrust: the statement's format procedure
// (WebAuthn §8) and the enterprise trust policy (allow/block lists, enforced attestation, MDS status).
// Kept in its own file so the registration flow itself changes by one call.
extension RelyingParty {
    /// The trust policy this relying party applies: ``trust`` with ``Policy``'s allow list and
    /// enforcement folded in (either one enforcing is enough).
    var effectiveTrustPolicy: TrustPolicy {
        var trust = self.trust ?? TrustPolicy()
        if let allowed = self.policy.allowedAAGUIDs {
            trust.allowedAAGUIDs = trust.allowedAAGUIDs.map { $0.intersection(allowed) } ?? allowed
        }
        trust.enforceAttestation = trust.enforceAttestation || self.policy.enforceAttestation
        return trust
    }

    /// Verifies the attestation statement and applies the trust policy at ``trustTime``.
    func evaluateTrust(_ object: AttestationObject, clientDataHash: [UInt8]) throws(RelyingPartyError) -> TrustVerdict {
        do {
            return try self.effectiveTrustPolicy.evaluate(object, clientDataHash: clientDataHash, at: self.trustTime())
        } catch {
            throw Self.relyingPartyError(error)
        }
    }

    /// A ``TrustError`` as the relying party's error: the same code name, the field the rule concerns, and
    /// a message that names the rule and the AAGUID.
    static func relyingPartyError(_ error: TrustError) -> RelyingPartyError {
        let field: String
        switch error.code {
        case .aaguidNotAllowed, .aaguidBlocked, .aaguidNotInMetadata, .authenticatorStatusRefused:
            field = "attestedCredentialData.aaguid"
        case .attestationFormatUnsupported, .attestationRequired:
            field = "attestationObject.fmt"
        default:
            field = "attStmt"
        }
        var message = "\(error.rule): \(error.reason)"
        if let aaguid = error.aaguid, !message.contains(aaguid.uuidString) {
            message += " (authenticator model AAGUID \(aaguid.uuidString))"
        }
        return RelyingPartyError(RelyingPartyError.Code(rawValue: error.code.description), field: field, message)
    }
}
