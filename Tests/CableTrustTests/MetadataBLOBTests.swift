import CableCTAP
import CableCrypto
import Foundation
import Testing

@testable import CableTrust

/// FIDO MDS3 BLOBs built and signed by `trust_fixtures.py` (Python `cryptography`) under a throwaway
/// root, good and hostile.
@Suite struct MetadataBLOBTests {
    func load(_ name: String, root: String? = nil, at time: Int64? = nil) async throws -> MetadataBLOB {
        let fixtures = try await TrustTestSupport.loadFixtures()
        let blob = try #require(fixtures.blobs[name], "no BLOB \(name)")
        let anchors = try TrustAnchors(pem: Array((root ?? fixtures.mdsRoot).utf8))
        return try MetadataBLOB(jwt: Array(blob.utf8), root: anchors, at: time ?? fixtures.time)
    }

    func refusal(_ name: String, root: String? = nil, at time: Int64? = nil) async throws -> TrustError {
        try await #require(throws: TrustError.self, "\(name) must be refused") {
            try await self.load(name, root: root, at: time)
        }
    }

    @Test(arguments: ["rs256", "es256"])
    func loadsASignedBLOB(_ name: String) async throws {
        let fixtures = try await TrustTestSupport.loadFixtures()
        let blob = try await self.load(name)
        #expect(blob.number == 42)
        #expect(blob.nextUpdate == "2026-07-01")
        #expect(blob.entries.count == 7)  // the entry without an AAGUID (a U2F key) is skipped
        let certified = try #require(AAGUID(uuidString: fixtures.certifiedAAGUID))
        let entry = try #require(blob.entry(for: certified))
        #expect(entry.latestStatus?.status.rawValue == "FIDO_CERTIFIED_L1")
        #expect(entry.description == "Throwaway Authenticator (FIDO_CERTIFIED_L1)")
        #expect(
            try entry.trustAnchors().derEncoded == TrustAnchors(pem: Array(fixtures.attestationRoot.utf8)).derEncoded
        )
    }

    @Test func refusesAlgNone() async throws {
        #expect(try await self.refusal("alg-none").code == .metadataAlgorithmUnsupported)
    }

    @Test func refusesAnUnexpectedAlgorithm() async throws {
        #expect(try await self.refusal("alg-hs256").code == .metadataAlgorithmUnsupported)
    }

    @Test func refusesAnAlgorithmTheSigningKeyCannotMake() async throws {
        #expect(try await self.refusal("alg-mismatch").code == .metadataSignatureInvalid)
    }

    @Test func refusesAFlippedSignature() async throws {
        #expect(try await self.refusal("bad-signature").code == .metadataSignatureInvalid)
    }

    @Test func refusesAChainToAnotherRoot() async throws {
        #expect(try await self.refusal("other-root").code == .metadataCertificateUntrusted)
        // And a good BLOB under a root that is not the configured one.
        let fixtures = try await TrustTestSupport.loadFixtures()
        #expect(try await self.refusal("es256", root: fixtures.otherRoot).code == .metadataCertificateUntrusted)
    }

    @Test func refusesTheRealRootForATestBLOB() async throws {
        let fixtures = try await TrustTestSupport.loadFixtures()
        let blob = try #require(fixtures.blobs["es256"])
        let error = try #require(throws: TrustError.self) {
            try MetadataBLOB(jwt: Array(blob.utf8), root: TrustAnchors.fidoMetadataServiceRoot, at: fixtures.time)
        }
        #expect(error.code == .metadataCertificateUntrusted)
    }

    @Test func refusesABLOBPastItsNextUpdate() async throws {
        #expect(try await self.refusal("expired").code == .metadataExpired)
        // The good BLOB too, judged after 2026-07-01.
        #expect(try await self.refusal("es256", at: 1_782_864_000).code == .metadataExpired)
    }

    @Test(arguments: ["truncated", "bad-base64", "two-parts", "no-x5c", "bad-payload-shape"])
    func refusesMalformedBLOBs(_ name: String) async throws {
        let error = try await self.refusal(name)
        #expect(
            [TrustError.Code.metadataMalformed, .metadataSignatureInvalid].contains(error.code),
            "\(name): \(error)"
        )
    }

    @Test func refusesAHugeX5CArray() async throws {
        #expect(try await self.refusal("huge-x5c").code == .certificatePathTooLong)
    }

    @Test func refusesAnOversizedBLOBBeforeReadingIt() async throws {
        let fixtures = try await TrustTestSupport.loadFixtures()
        let oversized = [UInt8](repeating: UInt8(ascii: "A"), count: MetadataBLOB.maximumByteCount + 1)
        let error = try #require(throws: TrustError.self) {
            try MetadataBLOB(jwt: oversized, root: TrustAnchors(pem: Array(fixtures.mdsRoot.utf8)), at: fixtures.time)
        }
        #expect(error.code == .metadataTooLarge)
    }

    @Test func refusesGarbage() async throws {
        let fixtures = try await TrustTestSupport.loadFixtures()
        let root = try TrustAnchors(pem: Array(fixtures.mdsRoot.utf8))
        for garbage in ["", ".", "..", "a.b.c", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA", "\u{0}\u{1}"] {
            #expect(throws: TrustError.self, "\(garbage.debugDescription)") {
                try MetadataBLOB(jwt: Array(garbage.utf8), root: root, at: fixtures.time)
            }
        }
    }

    @Test func theShippedRootIsGlobalSignR3() throws {
        let root = try TrustAnchors.fidoMetadataServiceRoot
        #expect(root.count == 1)
        #expect(SHA256Hex.of(root.derEncoded[0]) == "cbb522d7b7f127ad6a0113865bdf1cd4102e7d0759af635a7cf4720dc963c53b")
    }

    @Test func metadataDatesAreUTCMidnight() {
        #expect(MetadataDate.seconds("1970-01-01") == 0)
        #expect(MetadataDate.seconds("2026-07-01") == 1_782_864_000)
        #expect(MetadataDate.seconds("2024-02-29") == 1_709_164_800)
        for bad in ["2026-7-01", "2026-13-01", "20260701", "2026-07-01T00", "abcd-ef-gh", ""] {
            #expect(MetadataDate.seconds(bad) == nil, "\(bad)")
        }
    }
}

enum SHA256Hex {
    static func of(_ bytes: [UInt8]) -> String { Hex.encode(SHA256.hash(bytes)) }
}
