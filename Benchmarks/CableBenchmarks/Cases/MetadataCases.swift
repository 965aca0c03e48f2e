import CableCTAP
import CableTrust
import Foundation

/// Loading a FIDO MDS3 BLOB the size of the real one (about 300 entries, a few MB: metadata statements
/// carry PNG icons and root certificates), against Foundation's `JSONSerialization` parsing the same
/// payload bytes.
///
/// - `mds.load.300`: `MetadataBLOB(jwt:root:at:)`: split, header, x5c path validation to the root, the
///   ES256 signature over the whole BLOB, base64url of the payload, `JSONDecoder` into the MDS3 shape,
///   and the entries by AAGUID.
/// - baseline: `JSONSerialization.jsonObject(with:)` on the payload alone (no signature, no decoding
///   into types).
enum MetadataCases {
    static let entryCount = 300

    /// The demo setup, a payload of `entryCount` entries and the BLOB signing it.
    static func makeBLOB() throws -> (demo: DemoTrust, payload: Data, blob: [UInt8], time: Int64) {
        let time: Int64 = 1_780_000_000
        let demo = try DemoTrust.make(
            aaguid: AAGUID(bytes: [UInt8](repeating: 0x42, count: 16)),
            description: "bench",
            at: time
        )
        let root = try TrustAnchors(pem: demo.attestationRootPEM).derEncoded[0]
        // A real statement's icon is a few KB of base64 PNG; its roots one to three certificates.
        let icon =
            "data:image/png;base64,"
            + Data((0..<9_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).base64EncodedString()
        var entries: [[String: Any]] = []
        for index in 0..<Self.entryCount {
            var bytes = [UInt8](repeating: 0, count: 16)
            bytes[0] = UInt8(index & 0xFF)
            bytes[1] = UInt8(index >> 8)
            let aaguid = try AAGUID(bytes: bytes).uuidString.lowercased()
            entries.append([
                "aaguid": aaguid,
                "metadataStatement": [
                    "legalHeader":
                        "Submission of this statement and retrieval and use of this statement indicates acceptance of the appropriate agreement.",
                    "aaguid": aaguid, "description": "Benchmark Authenticator \(index)", "authenticatorVersion": 5,
                    "schema": 3,
                    "protocolFamily": "fido2", "upv": [["major": 1, "minor": 0], ["major": 1, "minor": 1]],
                    "authenticationAlgorithms": ["secp256r1_ecdsa_sha256_raw", "ed25519_eddsa_sha512_raw"],
                    "publicKeyAlgAndEncodings": ["cose"], "attestationTypes": ["basic_full"],
                    "keyProtection": ["hardware", "secure_element"], "matcherProtection": ["on_chip"],
                    "attachmentHint": ["external", "wired", "wireless", "nfc"], "tcDisplay": [],
                    "attestationRootCertificates": [
                        Data(root).base64EncodedString(), Data(root).base64EncodedString(),
                    ],
                    "icon": icon,
                    "authenticatorGetInfo": [
                        "versions": ["U2F_V2", "FIDO_2_0", "FIDO_2_1"], "extensions": ["credProtect", "hmac-secret"],
                        "aaguid": aaguid.replacingOccurrences(of: "-", with: ""),
                        "options": ["rk": true, "up": true, "plat": false, "clientPin": true], "maxMsgSize": 1200,
                    ] as [String: Any],
                ] as [String: Any],
                "statusReports": [
                    [
                        "status": "FIDO_CERTIFIED_L1", "effectiveDate": "2023-01-01",
                        "certificateNumber": "FIDO2\(index)",
                    ],
                    ["status": "FIDO_CERTIFIED", "effectiveDate": "2023-01-01"],
                ],
                "timeOfLastStatusChange": "2023-01-01",
            ])
        }
        let payload = try JSONSerialization.data(
            withJSONObject: ["legalHeader": "benchmark", "no": 1, "nextUpdate": "2026-07-01", "entries": entries]
                as [String: Any]
        )
        return (demo, payload, demo.signedBLOB(payload: Array(payload)), time)
    }

    static var all: [BenchmarkCase] {
        [
            BenchmarkCase("mds.load.300") { context in
                let (demo, payload, blob, time) = try Self.makeBLOB()
                let root = try TrustAnchors(pem: demo.metadataRootPEM)
                let baseline = TimedOperation(name: "JSONSerialization, same payload (\(payload.count / 1024) KiB)") {
                    blackHole(try? JSONSerialization.jsonObject(with: payload))
                }
                let (measurement, raw) = try context.compare(
                    {
                        let loaded = try? MetadataBLOB(jwt: blob, root: root, at: time)
                        precondition(loaded?.entries.count == Self.entryCount, "the benchmark BLOB must load")
                        blackHole(loaded)
                    },
                    with: baseline
                )
                return [.timed("mds.load.300", measurement, baseline: raw)]
            }
        ]
    }
}
