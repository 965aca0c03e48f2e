import CableCrypto
@_spi(Fuzzing) import CableProtocol

/// The tunnel crypter: one seal on the sending side plus one open on the receiving side per operation.
///
/// Baselines, same run: a raw seal + open of the padded size through a keyed `AES256GCM.Key` — the same
/// primitive the crypter uses, so the ratio is what the crypter adds (padding, nonce construction and
/// sequence checks) — and `openssl speed -evp aes-256-gcm`,
/// whose column nearest the padded size is taken as the rate of one direction (so seal + open costs two
/// buffers' worth). OpenSSL streams into one context with no per-message setup or tag, so it is a floor.
enum CrypterCases {
    /// Message sizes from a small CTAP message to the largest the tunnel carries (issue 14: no cliff
    /// anywhere from 32 B to 1 MiB): the largest message whose padded form plus tag fits in 1 MiB.
    static let sizes: [(label: String, bytes: Int)] = [
        ("32B", 32), ("1KiB", 1024), ("16KiB", 16384), ("64KiB", 65536), ("256KiB", 262_144),
        ("1MiB", (TunnelServiceProtocol.maxMessageSize - AES256GCM.tagByteCount) / 32 * 32 - 1),
    ]

    /// One case per message size.
    static var all: [BenchmarkCase] {
        self.sizes.map { size in
            let name = "crypter.sealOpen.\(size.label)"
            return BenchmarkCase(name, figures: [name, "\(name).vsOpenSSL"]) { context in
                try self.run(context, name: name, messageBytes: size.bytes)
            }
        }
    }

    /// Seal + open of `messageBytes` through a crypter pair, against raw GCM and OpenSSL.
    static func run(_ context: BenchmarkContext, name: String, messageBytes: Int) throws -> [BenchmarkResult] {
        let desktopWriteKey = SecureRandom.bytes(count: Crypter.keyByteCount)
        let phoneWriteKey = SecureRandom.bytes(count: Crypter.keyByteCount)
        var sender = try Crypter(readKey: phoneWriteKey, writeKey: desktopWriteKey)
        var receiver = try Crypter(readKey: desktopWriteKey, writeKey: phoneWriteKey)
        let message = SecureRandom.bytes(count: messageBytes)
        guard try receiver.open(try sender.seal(message)) == message else {
            throw BenchmarkError(.operationFailed, "the crypter pair did not round-trip")
        }
        let paddedBytes = MessagePadding.paddedCount(for: messageBytes)
        let key = try AES256GCM.Key(SecureRandom.bytes(count: AES256GCM.keyByteCount))
        let nonce = SecureRandom.bytes(count: AES256GCM.nonceByteCount)
        let padded = SecureRandom.bytes(count: paddedBytes)
        // One fixed nonce: the key is random, used only here and thrown away.
        let rawGCM = TimedOperation(name: "AES-256-GCM seal+open \(paddedBytes) B (keyed, CableCrypto)") {
            let sealed = try key.seal(padded, nonce: nonce, additionalData: [UInt8]())
            blackHole(try key.open(sealed, nonce: nonce, additionalData: [UInt8]()))
        }
        let (measurement, raw) = try context.compare(
            { blackHole(try receiver.open(try sender.seal(message))) },
            with: rawGCM
        )

        return [
            .timed(name, measurement, baseline: raw, bytesPerOperation: messageBytes),
            .timed(
                "\(name).vsOpenSSL",
                measurement,
                baseline: self.openSSL(context, paddedBytes: paddedBytes),
                bytesPerOperation: messageBytes
            ),
        ]
    }

    /// Two buffers of `paddedBytes` at the rate of the nearest `openssl speed` column.
    static func openSSL(_ context: BenchmarkContext, paddedBytes: Int) -> Baseline {
        switch context.openSSLAES256GCM() {
        case .success(let rates):
            guard let column = OpenSSLSpeed.nearestColumn(to: paddedBytes, in: rates) else {
                return .unavailable("openssl speed aes-256-gcm", reason: "no buffer sizes in its output")
            }
            return .external(
                "openssl speed aes-256-gcm, \(column.size) B column, ×2",
                value: column.bytesPerSecond / 1e6,
                unit: "MB/s",
                impliedNs: 2 * Double(paddedBytes) / column.bytesPerSecond * 1e9
            )
        case .failure(let error):
            return .unavailable("openssl speed aes-256-gcm", reason: error.reason)
        }
    }
}
