import ArgumentParser
import CableCTAP
import CableTrust
import Foundation

/// `cable register`'s trust options (cli.md, "Trust"): FIDO metadata, its root, extra attestation roots,
/// the key restrictions (`--allow-aaguid`, `--block-aaguid`) and `--enforce-attestation` are in
/// ``RegistrationPolicyOptions``.
struct TrustOptions: ParsableArguments {
    @Option(help: "A FIDO Metadata Service (MDS3) BLOB, the JWT as published.")
    var mds: String?

    @Option(
        help:
            "The MDS root certificate (PEM) that --mds must chain to (default: the FIDO Alliance's, GlobalSign Root CA - R3)."
    )
    var mdsRoot: String?

    @Option(
        name: .customLong("attestation-root"),
        help: "Trust anchor (PEM) for attestation chains, beside the metadata's (repeatable)."
    )
    var attestationRoots: [String] = []

    func validate() throws {
        if self.mdsRoot != nil, self.mds == nil { throw ValidationError("--mds-root needs --mds") }
    }

    /// The trust policy these options describe (the key restrictions and enforcement are folded in by the
    /// relying party), with the BLOB and roots read and verified now, at `time`.
    func policy(at time: Int64) throws -> TrustPolicy {
        var policy = TrustPolicy()
        do {
            for path in self.attestationRoots {
                policy.additionalAnchors = policy.additionalAnchors.adding(
                    try TrustAnchors(pem: Self.read(path, "--attestation-root"))
                )
            }
            if let mds = self.mds {
                let root =
                    try self.mdsRoot.map { try TrustAnchors(pem: Self.read($0, "--mds-root")) }
                    ?? TrustAnchors.fidoMetadataServiceRoot
                policy.metadata = try MetadataBLOB(
                    jwt: Self.read(mds, "--mds", limit: MetadataBLOB.maximumByteCount),
                    root: root,
                    at: time
                )
            }
        } catch let error as TrustError {
            throw Output.failure("\(error.rule): \(error.reason)")
        }
        return policy
    }

    private static func read(_ path: String, _ option: String, limit: Int = 1 << 20) throws -> [UInt8] {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path)) else {
            throw Output.failure("\(option) \(path): cannot read the file")
        }
        guard data.count <= limit else {
            throw Output.failure("\(option) \(path): \(data.count) bytes, at most \(limit)")
        }
        return Array(data)
    }
}
