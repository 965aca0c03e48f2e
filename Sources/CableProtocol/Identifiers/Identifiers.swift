extension CableProtocolError.Code {
    /// A fixed-size identifier had the wrong number of bytes.
    public static let invalidIdentifierLength = Self(rawValue: "invalidIdentifierLength")
    /// An identifier's hex text was malformed.
    public static let invalidIdentifierHex = Self(rawValue: "invalidIdentifierHex")
}

/// The 16-byte tunnel ID, `Derive(qrSecret, ∅, tunnelID, 16)`: the last path component of
/// `/cable/new/` and `/cable/connect/` (Chromium `kTunnelIdSize`).
public struct TunnelID: Hashable, Sendable, CustomStringConvertible {
    /// Size on the wire.
    public static let byteCount = 16
    /// The raw bytes.
    public let bytes: [UInt8]

    /// Wraps exactly 16 bytes.
    public init(bytes: some Collection<UInt8>) throws(CableProtocolError) {
        guard bytes.count == Self.byteCount else {
            throw CableProtocolError(.invalidIdentifierLength, "tunnel ID must be 16 bytes, got \(bytes.count)")
        }
        self.bytes = Array(bytes)
    }

    /// Parses 32 hex characters of either case.
    public init(hex: some StringProtocol) throws(CableProtocolError) {
        guard let b = Hex.decode(hex) else {
            throw CableProtocolError(.invalidIdentifierHex, "tunnel ID is not hex")
        }
        try self.init(bytes: b)
    }

    /// For bytes whose length is right by construction (e.g. a KDF output of 16 bytes).
    package init(unchecked bytes: [UInt8]) {
        precondition(bytes.count == Self.byteCount)
        self.bytes = bytes
    }

    /// Upper-case hex, as Chromium writes it in URLs.
    public var hex: String { Hex.upper(self.bytes) }
    public var description: String { self.hex }
}

/// The 3-byte routing ID the tunnel service returns in `X-caBLE-Routing-ID` (Chromium
/// `kRoutingIdSize`). Carried in the advert and in `/cable/connect/` paths.
public struct RoutingID: Hashable, Sendable, CustomStringConvertible {
    /// Size on the wire.
    public static let byteCount = 3
    /// The raw bytes.
    public let bytes: [UInt8]

    /// Wraps exactly 3 bytes.
    public init(bytes: some Collection<UInt8>) throws(CableProtocolError) {
        guard bytes.count == Self.byteCount else {
            throw CableProtocolError(.invalidIdentifierLength, "routing ID must be 3 bytes, got \(bytes.count)")
        }
        self.bytes = Array(bytes)
    }

    /// Parses 6 hex characters of either case (Chromium parses the header case-insensitively).
    public init(hex: some StringProtocol) throws(CableProtocolError) {
        guard let b = Hex.decode(hex) else {
            throw CableProtocolError(.invalidIdentifierHex, "routing ID is not hex")
        }
        try self.init(bytes: b)
    }

    /// For bytes whose length is right by construction.
    package init(unchecked bytes: [UInt8]) {
        precondition(bytes.count == Self.byteCount)
        self.bytes = bytes
    }

    /// Upper-case hex, as in the `X-caBLE-Routing-ID` header and `/cable/connect/` paths.
    public var hex: String { Hex.upper(self.bytes) }
    public var description: String { self.hex }
}
