import CableCTAP
import CableTrust

/// Fuzzes the FIDO MDS3 BLOB loader (`MetadataBLOB(jwt:root:at:)`): the input as a whole BLOB under a
/// demo MDS root, and as the payload of a BLOB that the demo MDS signer signs (so the fuzzer reaches the
/// JSON decoding behind the signature check).
///
/// Invariants on an accepted BLOB: at most ``MetadataBLOB/maximumEntryCount`` entries, each filed under
/// its own AAGUID, each latest status one of its reports.
public enum MetadataBLOBHarness {
    static let time: Int64 = 1_780_000_000
    /// A demo setup made once per process (fresh keys; the seeds do not depend on them).
    static let demo: (DemoTrust, TrustAnchors)? = {
        guard let aaguid = AAGUID(uuidString: "de1e552d-db1d-4423-a619-566b625cdc84"),
            let demo = try? DemoTrust.make(aaguid: aaguid, description: "fuzz", at: time),
            let root = try? TrustAnchors(pem: demo.metadataRootPEM)
        else { return nil }
        return (demo, root)
    }()

    /// Loads `input` both ways.
    public static func run(_ input: [UInt8]) -> FuzzReport {
        var report = FuzzReport()
        guard let (demo, root) = Self.demo else {
            fuzzInvariant(false, "the demo trust setup is made")
            return report
        }
        if let blob = report.attempt(
            "MetadataBLOB(jwt:)",
            { () throws(TrustError) in
                try MetadataBLOB(jwt: input, root: root, at: Self.time)
            }
        ) {
            Self.check(blob)
        }
        let signed = demo.signedBLOB(payload: input)
        fuzzInvariant(!signed.isEmpty, "the demo signer signs any payload")
        if let blob = report.attempt(
            "MetadataBLOB(jwt:) signed payload",
            { () throws(TrustError) in
                try MetadataBLOB(jwt: signed, root: root, at: Self.time)
            }
        ) {
            Self.check(blob)
        }
        return report
    }

    static func check(_ blob: MetadataBLOB) {
        fuzzInvariant(blob.entries.count <= MetadataBLOB.maximumEntryCount, "entries are bounded")
        for (aaguid, entry) in blob.entries {
            fuzzInvariant(entry.aaguid == aaguid, "an entry is filed under its own AAGUID")
            if let latest = entry.latestStatus {
                fuzzInvariant(entry.statusReports.contains(latest), "the latest status is one of the reports")
            } else {
                fuzzInvariant(entry.statusReports.isEmpty, "a listed report makes a latest status")
            }
        }
    }
}
