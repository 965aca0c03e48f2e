extension CableProtocolError.Code {
    /// An EID plaintext was not 16 bytes.
    public static let invalidAdvertPlaintextLength = Self(rawValue: "invalidAdvertPlaintextLength")
    /// The reserved first byte of an EID plaintext was not zero.
    public static let advertReservedBitsSet = Self(rawValue: "advertReservedBitsSet")
    /// The EID names an assigned tunnel-server domain this desktop does not know (2…255).
    public static let advertUnknownDomain = Self(rawValue: "advertUnknownDomain")
}

/// The 16-byte plaintext of a BLE advert, the "EID" (Chromium `eid::Components`).
///
/// | offset | length | field |
/// |---|---|---|
/// | 0 | 1 | reserved, must be 0 |
/// | 1 | 10 | random nonce |
/// | 11 | 3 | routing ID from the tunnel service |
/// | 14 | 2 | tunnel-server domain ID, little-endian |
///
/// A value of this type has passed every check Chromium's `eid::Decrypt` makes after the tag:
/// reserved byte zero, and a domain ID that is either hashed (≥ 256) or a known assigned one.
public struct AdvertPlaintext: Hashable, Sendable {
    /// Size of one AES block.
    public static let byteCount = 16
    /// The 16 bytes (also the salt of the PSK derivation).
    public let bytes: [UInt8]

    /// Builds an EID from its parts, as the phone does in the QR flow.
    public init(
        nonce: some Collection<UInt8>,
        routingID: RoutingID,
        domainID: TunnelServiceDomainID
    )
        throws(CableProtocolError)
    {
        guard nonce.count == CableConstants.eidNonceSize else {
            throw CableProtocolError(.invalidAdvertPlaintextLength, "EID nonce must be 10 bytes, got \(nonce.count)")
        }
        let d = domainID.rawValue
        self.bytes = [0] + Array(nonce) + routingID.bytes + [UInt8(d & 0xFF), UInt8(d >> 8)]
        try Self.validate(self.bytes)
    }

    /// Parses and validates 16 decrypted bytes with Chromium's checks.
    public init(bytes: some Collection<UInt8>) throws(CableProtocolError) {
        let b = Array(bytes)
        guard b.count == Self.byteCount else {
            throw CableProtocolError(.invalidAdvertPlaintextLength, "EID must be 16 bytes, got \(b.count)")
        }
        try Self.validate(b)
        self.bytes = b
    }

    /// The linked-flow EID: 16 random bytes with the reserved byte cleared. It carries no routing ID
    /// or domain; Chromium still applies the domain check when decrypting, so ≈254/65536 of these are
    /// ignored by desktops — a quirk kept on purpose.
    public static func randomLinked(using rng: inout some RandomNumberGenerator) -> [UInt8] {
        var b = rng.bytes(count: byteCount)
        b[0] = 0
        return b
    }

    /// The 10-byte nonce.
    public var nonce: ArraySlice<UInt8> { self.bytes[1..<11] }
    /// The routing ID.
    public var routingID: RoutingID { RoutingID(unchecked: Array(self.bytes[11..<14])) }
    /// The tunnel-server domain ID.
    public var domainID: TunnelServiceDomainID {
        TunnelServiceDomainID(rawValue: UInt16(self.bytes[14]) | UInt16(self.bytes[15]) << 8)
    }

    private static func validate(_ b: [UInt8]) throws(CableProtocolError) {
        // Reserved bits: future features must be negotiated through the QR code first.
        guard b[0] == 0 else {
            throw CableProtocolError(.advertReservedBitsSet, "EID reserved byte is not zero")
        }
        let domain = TunnelServiceDomainID(rawValue: UInt16(b[14]) | UInt16(b[15]) << 8)
        guard domain.isAcceptedInAdvert else {
            throw CableProtocolError(.advertUnknownDomain, "EID names unknown assigned domain \(domain.rawValue)")
        }
    }
}
