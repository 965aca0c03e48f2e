import CableTestSupport
import Foundation
import Testing

/// `cable decode` shows a QR code's age from its timestamp (key 3) and says when it is stale.
@Suite(.serialized, .timeLimit(.minutes(2))) struct DecodeAgeTests {
    @Test func aCodeChromeShowedIn2022IsStale() async throws {
        let human = try CableProcess(["decode", FailureOutputTests.chrome2022])
        #expect(try await human.waitForExit() == 0)
        let timestamp = try #require(human.stdout.first { $0.hasPrefix("timestamp") })
        // Key 3 of that code is 0x6356217b = 1666589051 (Spec/vectors/qr-payload.json, its CBOR).
        #expect(
            timestamp.contains("1666589051 (2022-10-24 05:24:11 UTC, ") && timestamp.hasSuffix("years ago: stale)"),
            "\(timestamp)"
        )
        #expect(human.stderr.contains { $0.hasPrefix("note: this QR code is stale") })

        let json = try CableProcess(["decode", FailureOutputTests.chrome2022, "--json"])
        #expect(try await json.waitForExit() == 0)
        let object = try json.lastJSON()
        #expect(object["stale"] as? Bool == true)
        #expect(object["timestamp"] as? Int == 1_666_589_051)
        let age = try #require(object["ageSeconds"] as? Int)
        #expect(abs(age - (Int(Date().timeIntervalSince1970) - 1_666_589_051)) < 600)
    }

    @Test func aFreshCodeIsNotStale() async throws {
        let qr = try CableProcess(["qr", "--style", "ascii"])
        let url = try await qr.waitForLine(startingWith: "FIDO:/")
        #expect(try await qr.waitForExit() == 0)
        let decode = try CableProcess(["decode", url, "--json"])
        #expect(try await decode.waitForExit() == 0)
        let object = try decode.lastJSON()
        #expect(object["stale"] as? Bool == false)
        let age = try #require(object["ageSeconds"] as? Int)
        #expect((0..<300).contains(age))
        #expect(!decode.stderr.contains { $0.contains("stale") })
    }

    @Test func aCodeWithoutATimestampHasNoAge() async throws {
        // Chromium's unit-test QR code without key 3 (Spec/vectors/qr-payload.json, chromium_known_qrs_basic).
        let url =
            "FIDO:/21451485302227106379487559113723092434570048571579929725294386093726313840430492013630000000134226708900000000000000000000000000000000"
        let decode = try CableProcess(["decode", url, "--json"])
        #expect(try await decode.waitForExit() == 0)
        let object = try decode.lastJSON()
        #expect(object["stale"] is NSNull && object["ageSeconds"] is NSNull && object["timestamp"] is NSNull)
    }
}
