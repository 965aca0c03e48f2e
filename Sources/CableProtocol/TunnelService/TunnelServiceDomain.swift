internal import CableCrypto

extension CableProtocolError.Code {
    /// A tunnel-server domain ID that names no domain (an unknown assigned ID, 2…255 today).
    public static let unknownTunnelServiceDomain = Self(rawValue: "unknownTunnelServiceDomain")
}

/// A tunnel-server domain ID as carried in the advert (Chromium `KnownDomainID`).
///
/// IDs 0–255 are *assigned* (0 = Google's `cable.ua5v.com`, 1 = Apple's `cable.auth.com`);
/// IDs 256–65535 are *hashed* into a domain name, so anyone can run a tunnel service without
/// registering an ID.
public struct TunnelServiceDomainID: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Google's tunnel service, the one Chromium phones name.
    public static let google = TunnelServiceDomainID(rawValue: 0)
    /// Apple's tunnel service.
    public static let apple = TunnelServiceDomainID(rawValue: 1)

    /// The assigned domains, indexed by ID (Chromium `kAssignedDomains`).
    public static let assignedDomains = ["cable.ua5v.com", "cable.auth.com"]

    /// Whether a desktop accepts this ID in an advert: hashed, or assigned and known
    /// (Chromium `eid::Decrypt`: `id >= 256 || id < number of assigned domains`).
    public var isAcceptedInAdvert: Bool {
        self.rawValue >= 256 || Int(self.rawValue) < Self.assignedDomains.count
    }

    /// The domain name (Chromium `tunnelserver::DecodeDomain`), or `nil` for an unknown assigned ID.
    public var domain: String? {
        if self.rawValue < 256 {
            let i = Int(self.rawValue)
            return i < Self.assignedDomains.count ? Self.assignedDomains[i] : nil
        }
        return Self.hashedDomain(self.rawValue)
    }

    /// The domain name, or a typed error for an unknown assigned ID.
    public func resolvedDomain() throws(CableProtocolError) -> String {
        guard let d = self.domain else {
            throw CableProtocolError(
                .unknownTunnelServiceDomain,
                "domain ID \(self.rawValue) is an unknown assigned ID"
            )
        }
        return d
    }

    public var description: String { String(self.rawValue) }

    private static let base32Alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
    private static let topLevelDomains = ["com", "org", "net", "info"]

    /// `SHA-256("caBLEv2 tunnel server domain" ‖ id (LE16) ‖ 0x00)`; the first 8 bytes (LE) pick a TLD
    /// with their low 2 bits and then spell base32 digits, least significant first, until zero.
    private static func hashedDomain(_ id: UInt16) -> String {
        let input = Array("caBLEv2 tunnel server domain".utf8) + [UInt8(id & 0xFF), UInt8(id >> 8), 0]
        let digest = SHA256.hash(input)
        var v: UInt64 = 0
        for i in (0..<8).reversed() { v = v << 8 | UInt64(digest[i]) }
        let tld = topLevelDomains[Int(v & 3)]
        v >>= 2
        var name: [UInt8] = Array("cable.".utf8)
        while v != 0 {
            name.append(base32Alphabet[Int(v & 31)])
            v >>= 5
        }
        return String(decoding: name, as: UTF8.self) + "." + tld
    }
}

extension TunnelEndpoint {
    /// The full URL on a tunnel service reached over TLS, as a phone or desktop would open it:
    /// `wss://<domain><path>` (Chromium `GetNewTunnelURL` / `GetConnectURL` / `GetContactURL`).
    public func url(domain: String) -> String { "wss://\(domain)\(self.path)" }

    /// The full URL on the domain a domain ID names.
    public func url(domainID: TunnelServiceDomainID) throws(CableProtocolError) -> String {
        self.url(domain: try domainID.resolvedDomain())
    }
}
