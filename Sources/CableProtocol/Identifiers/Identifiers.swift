internal import CableCrypto

extension CableProtocolError.Code {
    /// A fixed-size identifier had the wrong number of bytes.
    public static let invalidIdentifierLength = Self(rawValue: "invalidIdentifierLength")
    /// An identifier's hex text was malformed.
    public static let invalidIdentifierHex = Self(rawValue: "invalidIdentifierHex")
}

/// A wire identifier of a fixed number of bytes, written as upper-case hex (as Chromium's
/// `base::HexEncode` does) and parsed from hex of either case.
public protocol FixedSizeIdentifier: Hashable, Sendable, CustomStringConvertible {
    /// Size on the wire.
    static var byteCount: Int { get }
    /// Name used in error messages.
    static var identifierName: String { get }
    /// The raw bytes (always ``byteCount`` of them).
    var bytes: [UInt8] { get }
    /// Wraps bytes already checked to be ``byteCount`` long.
    init(validatedBytes: [UInt8])
}

extension FixedSizeIdentifier {
    /// Wraps exactly ``byteCount`` bytes.
    public init(bytes: some Collection<UInt8>) throws(CableProtocolError) {
        guard bytes.count == Self.byteCount else {
            throw CableProtocolError(
                .invalidIdentifierLength,
                "\(Self.identifierName) must be \(Self.byteCount) bytes, got \(bytes.count)"
            )
        }
        self.init(validatedBytes: Array(bytes))
    }

    /// Parses `2 × byteCount` hex characters of either case.
    public init(hex: some StringProtocol) throws(CableProtocolError) {
        guard let b = Hex.decode(hex) else {
            throw CableProtocolError(.invalidIdentifierHex, "\(Self.identifierName) is not hex")
        }
        try self.init(bytes: b)
    }

    /// For bytes whose length is right by construction (e.g. a KDF output of the right size).
    package init(unchecked bytes: [UInt8]) {
        precondition(bytes.count == Self.byteCount)
        self.init(validatedBytes: bytes)
    }

    /// Upper-case hex, as Chromium writes it in URLs and headers.
    public var hex: String { Hex.upper(self.bytes) }
    public var description: String { self.hex }
}

/// The 16-byte tunnel ID, `Derive(qrSecret, ∅, tunnelID, 16)`: the last path component of
/// `/cable/new/` and `/cable/connect/` (Chromium `kTunnelIdSize`).
public struct TunnelID: FixedSizeIdentifier {
    public static let byteCount = 16
    public static let identifierName = "tunnel ID"
    public let bytes: [UInt8]
    public init(validatedBytes: [UInt8]) { self.bytes = validatedBytes }
}

/// The 3-byte routing ID the tunnel service returns in `X-caBLE-Routing-ID` (Chromium
/// `kRoutingIdSize`). Carried in the advert and in `/cable/connect/` paths.
public struct RoutingID: FixedSizeIdentifier {
    public static let byteCount = 3
    public static let identifierName = "routing ID"
    public let bytes: [UInt8]
    public init(validatedBytes: [UInt8]) { self.bytes = validatedBytes }
}

extension FixedSizeIdentifier {
    /// A random identifier (e.g. a tunnel service's routing ID, a load test's tunnel IDs): the one
    /// helper for it, so callers do not each map random bytes through ``init(bytes:)``.
    public static func random(using generator: inout some RandomNumberGenerator) -> Self {
        // A loop, not `map { … &generator }`: a closure that captures a zero-sized generator `inout`
        // is lent a shared address, which ThreadSanitizer reports as a race between two threads.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.byteCount)
        for _ in 0..<Self.byteCount { bytes.append(UInt8.random(in: .min ... .max, using: &generator)) }
        return Self(unchecked: bytes)
    }

    /// A random identifier from OpenSSL's CSPRNG (`RAND_bytes`), as every secret-adjacent value here.
    ///
    /// Not through ``random(using:)`` with a `SystemRandomNumberGenerator`: one source of randomness
    /// for identifiers and secrets.
    public static func random() -> Self {
        Self(unchecked: SecureRandom.bytes(count: Self.byteCount))
    }
}
