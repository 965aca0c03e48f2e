internal import CableCrypto
import SwiftASN1

/// Decoding the DER inside certificate extensions with swift-asn1 (never by hand).
enum ASN1Readers {
    /// Apple's nonce extension: `SEQUENCE { [1] EXPLICIT OCTET STRING nonce }`.
    static func appleNonce(_ certificate: X509Certificate, oid: String, rule: String) throws(TrustError) -> [UInt8] {
        let value = try self.extensionValue(
            certificate,
            oid: oid,
            rule: rule,
            code: .attestationNonceMismatch,
            name: "Apple nonce"
        )
        do {
            let root = try DER.parse(value[...])
            return try DER.sequence(root, identifier: .sequence) { nodes in
                try DER.explicitlyTagged(&nodes, tagNumber: 1, tagClass: .contextSpecific) { node in
                    Array(try ASN1OctetString(derEncoded: node).bytes)
                }
            }
        } catch {
            throw TrustError(.attestationNonceMismatch, rule: rule, "the Apple nonce extension is malformed")
        }
    }

    /// The parts of Android's KeyDescription that WebAuthn §8.4 checks.
    struct AndroidKeyDescription {
        struct AuthorizationList {
            var purposes: [Int] = []
            var origin: Int?
            var allApplications = false
        }
        var attestationChallenge: [UInt8]
        var softwareEnforced: AuthorizationList
        var teeEnforced: AuthorizationList
    }

    /// ```
    /// KeyDescription ::= SEQUENCE {
    ///   attestationVersion INTEGER, attestationSecurityLevel ENUMERATED,
    ///   keyMintVersion INTEGER, keyMintSecurityLevel ENUMERATED,
    ///   attestationChallenge OCTET STRING, uniqueId OCTET STRING,
    ///   softwareEnforced AuthorizationList, hardwareEnforced AuthorizationList, ... }
    /// AuthorizationList ::= SEQUENCE { purpose [1] EXPLICIT SET OF INTEGER OPTIONAL, …,
    ///   allApplications [600] EXPLICIT NULL OPTIONAL, …, origin [702] EXPLICIT INTEGER OPTIONAL, … }
    /// ```
    static func androidKeyDescription(
        _ certificate: X509Certificate,
        oid: String,
        rule: String
    ) throws(TrustError) -> AndroidKeyDescription {
        let value = try self.extensionValue(
            certificate,
            oid: oid,
            rule: rule,
            code: .androidKeyDescriptionInvalid,
            name: "Android key description"
        )
        do {
            let root = try DER.parse(value[...])
            guard case .constructed(let children) = root.content, root.identifier == .sequence else {
                throw ASN1Error.unexpectedFieldType(root.identifier)
            }
            var nodes = children.makeIterator()
            _ = try Int(derEncoded: &nodes)  // attestationVersion
            guard nodes.next()?.identifier == .enumerated else {
                throw ASN1Error.invalidASN1Object(reason: "security level")
            }
            _ = try Int(derEncoded: &nodes)  // keymasterVersion
            guard nodes.next()?.identifier == .enumerated else {
                throw ASN1Error.invalidASN1Object(reason: "security level")
            }
            let challenge = try ASN1OctetString(derEncoded: &nodes)
            _ = try ASN1OctetString(derEncoded: &nodes)  // uniqueId
            guard let software = nodes.next(), let tee = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "authorization lists")
            }
            return AndroidKeyDescription(
                attestationChallenge: Array(challenge.bytes),
                softwareEnforced: try self.authorizationList(software),
                teeEnforced: try self.authorizationList(tee)
            )
        } catch let error as TrustError {
            throw error
        } catch {
            throw TrustError(
                .androidKeyDescriptionInvalid,
                rule: rule,
                "the Android key description extension is malformed"
            )
        }
    }

    private static func authorizationList(_ node: ASN1Node) throws -> AndroidKeyDescription.AuthorizationList {
        guard node.identifier == .sequence, case .constructed(let children) = node.content else {
            throw ASN1Error.unexpectedFieldType(node.identifier)
        }
        var list = AndroidKeyDescription.AuthorizationList()
        for child in children where child.identifier.tagClass == .contextSpecific {
            switch child.identifier.tagNumber {
            case 1:
                list.purposes = try DER.explicitlyTagged(child, tagNumber: 1, tagClass: .contextSpecific) { set in
                    guard set.identifier == .set, case .constructed(let members) = set.content else {
                        throw ASN1Error.unexpectedFieldType(set.identifier)
                    }
                    return try members.map { try Int(derEncoded: $0) }
                }
            case 600:
                list.allApplications = true
            case 702:
                list.origin = try DER.explicitlyTagged(child, tagNumber: 702, tagClass: .contextSpecific) {
                    try Int(derEncoded: $0)
                }
            default:
                continue
            }
        }
        return list
    }

    private static func extensionValue(
        _ certificate: X509Certificate,
        oid: String,
        rule: String,
        code: TrustError.Code,
        name: String
    ) throws(TrustError) -> [UInt8] {
        let found: (critical: Bool, value: [UInt8])?
        do throws(CryptoError) {
            found = try certificate.extensionValue(oid: oid)
        } catch {
            throw TrustError(code, rule: rule, "the \(name) extension cannot be read: \(error.diagnostics)")
        }
        guard let found else {
            throw TrustError(code, rule: rule, "the attestation certificate has no \(name) extension (\(oid))")
        }
        return found.value
    }
}
