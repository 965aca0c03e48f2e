import ArgumentParser
import CableProtocol
import Foundation

/// `cable decode URL [--json]`: decodes a `FIDO:/…` URL with Chromium's rules.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode a FIDO:/ QR URL and print its fields.",
        discussion: """
            Decoding follows Chromium: case-insensitive prefix, strict canonical CBOR, unknown keys \
            ignored, unknown request types read as "ga". A malformed URL exits non-zero with one \
            error line naming the reason. The timestamp line shows the code's age; a code older than \
            5 minutes (or dated in the future) is stale: no desktop is waiting for it any more.
            """
    )

    @Argument(help: "The FIDO:/… URL (quote it in the shell).")
    var url: String

    @Flag(help: "Print one JSON object as the last line of stdout.")
    var json = false

    func run() throws {
        let payload: QRCodePayload
        do {
            payload = try QRCodePayload(url: self.url)
        } catch {
            throw Output.failure("invalid FIDO:/ URL: \(error.reason)", step: "decode")
        }
        let age = payload.timestamp.map { QRCodeAge(timestamp: $0, now: Int64(Date().timeIntervalSince1970)) }
        let publicKey = Hex.lower(payload.compressedPublicKey)
        let secret = Hex.lower(payload.secret.bytes)
        if self.json {
            var line = JSONLine()
            line.add("publicKey", publicKey)
            line.add("secret", secret)
            line.add("knownDomains", payload.knownDomainCount)
            line.add("timestamp", payload.timestamp)
            line.add("linking", payload.supportsLinking)
            line.add("requestType", payload.requestType.wireValue)
            line.add("ageSeconds", age?.seconds)
            line.add("stale", age?.isStale)
            print(line.text)
        } else {
            print("public key     \(publicKey) (P-256, compressed, on curve)")
            print("secret         \(secret)")
            print("known domains  \(payload.knownDomainCount)")
            print(
                "timestamp      \(age.map { "\($0.timestamp) (\($0.summary))" } ?? "absent (the code's age is unknown)")"
            )
            print(
                "linking        \(payload.supportsLinking.map { $0 ? "supported" : "not supported" } ?? "absent (unknown)")"
            )
            print("request type   \(payload.requestType.wireValue)")
            print("tunnel ID      \(payload.secret.tunnelID.hex)")
        }
        if let age, age.isStale {
            Output.diagnostic(
                "note: this QR code is stale (\(age.relative)); a desktop waits about 2 minutes for the phone, so none is waiting for it now"
            )
        }
    }
}

/// How old a QR code is, from its timestamp (key 3): a desktop waits about two minutes for the phone
/// (Chromium's request timeout; `cable register --timeout` defaults to 120 s), so a code older than
/// five minutes, or dated more than a minute ahead, can no longer be used.
struct QRCodeAge {
    static let staleAfterSeconds: Int64 = 300
    static let futureToleranceSeconds: Int64 = 60

    let timestamp: Int64
    /// Seconds since the code was made (negative: dated in the future).
    let seconds: Int64

    init(timestamp: Int64, now: Int64) {
        self.timestamp = timestamp
        let (difference, overflow) = now.subtractingReportingOverflow(timestamp)
        self.seconds = overflow ? (timestamp > now ? Int64.min : Int64.max) : difference
    }

    var isStale: Bool { self.seconds > Self.staleAfterSeconds || self.seconds < -Self.futureToleranceSeconds }

    /// `3 min ago`, `2 years ago`, `5 s in the future`.
    var relative: String {
        let magnitude = self.seconds == Int64.min ? Int64.max : abs(self.seconds)
        let amount: String
        switch magnitude {
        case ..<120: amount = "\(magnitude) s"
        case ..<7_200: amount = "\(magnitude / 60) min"
        case ..<172_800: amount = "\(magnitude / 3_600) h"
        case ..<63_072_000: amount = "\(magnitude / 86_400) days"
        default: amount = "\(magnitude / 31_536_000) years"
        }
        return self.seconds < 0 ? "\(amount) in the future" : "\(amount) ago"
    }

    /// `2022-10-24 05:07:07 UTC, 4 years ago: stale`.
    var summary: String {
        var text = ""
        if abs(Double(self.timestamp)) < 253_402_300_800 {  // a date before year 10000 prints sensibly
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
            text = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(self.timestamp))) + ", "
        }
        return text + self.relative + (self.isStale ? ": stale" : "")
    }
}
