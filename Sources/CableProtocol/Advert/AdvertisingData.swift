extension CableProtocolError.Code {
    /// BLE advertising data whose AD structures overrun the buffer or exceed the size limit.
    public static let malformedAdvertisingData = Self(rawValue: "malformedAdvertisingData")
}

/// BLE advertising data: a sequence of AD structures `[length][type][data…]` (Bluetooth Core
/// Supplement, Part A), as a phone broadcasts it and as the virtual advert bus carries it.
public struct AdvertisingData: Hashable, Sendable {
    /// AD type "Flags".
    public static let flagsType: UInt8 = 0x01
    /// AD type "Complete List of 16-bit Service Class UUIDs".
    public static let completeServiceUUIDs16Type: UInt8 = 0x03
    /// AD type "Service Data – 16-bit UUID".
    public static let serviceData16Type: UInt8 = 0x16
    /// The FIDO SDO service UUID current phones use (`0000fff9-…`).
    public static let fidoServiceUUID: UInt16 = 0xFFF9
    /// Google's UUID that older Android phones and iOS 16 use (`0000fde2-…`).
    public static let legacyGoogleServiceUUID: UInt16 = 0xFDE2
    /// Largest advertising data accepted: extended advertising allows 254 bytes (legacy: 31).
    public static let maxSize = 254

    /// One AD structure.
    public struct Structure: Hashable, Sendable {
        /// The AD type.
        public let type: UInt8
        /// Its data (at most 254 bytes).
        public let data: [UInt8]
        public init(type: UInt8, data: [UInt8]) {
            self.type = type
            self.data = data
        }
    }

    /// The structures, in order.
    public let structures: [Structure]

    /// Wraps structures.
    public init(structures: [Structure]) { self.structures = structures }

    /// What an Android Chrome phone broadcasts (`BLEAdvert.java`): flags (LE General Discoverable,
    /// BR/EDR not supported), the service UUID list, and the 20-byte advert as service data —
    /// 3 + 4 + 24 = 31 bytes, the whole legacy payload.
    public static func phoneAdvert(_ advert: [UInt8], serviceUUID: UInt16 = fidoServiceUUID) -> AdvertisingData {
        let uuid: [UInt8] = [UInt8(serviceUUID & 0xFF), UInt8(serviceUUID >> 8)]
        return AdvertisingData(structures: [
            Structure(type: flagsType, data: [0x1A]),
            Structure(type: completeServiceUUIDs16Type, data: uuid),
            Structure(type: serviceData16Type, data: uuid + advert),
        ])
    }

    /// Parses advertising data. A zero length byte ends the significant part (the rest is padding).
    ///
    /// - Throws: ``CableProtocolError/Code/malformedAdvertisingData`` when a structure overruns the
    ///   buffer or the buffer exceeds ``maxSize``.
    public init(bytes: some Collection<UInt8>) throws(CableProtocolError) {
        let b = Array(bytes)
        guard b.count <= Self.maxSize else {
            throw CableProtocolError(
                .malformedAdvertisingData,
                "advertising data is \(b.count) bytes, max \(Self.maxSize)"
            )
        }
        var structures: [Structure] = []
        var i = 0
        while i < b.count {
            let length = Int(b[i])
            if length == 0 { break }
            guard i + 1 + length <= b.count else {
                throw CableProtocolError(.malformedAdvertisingData, "AD structure at offset \(i) overruns the data")
            }
            structures.append(Structure(type: b[i + 1], data: Array(b[(i + 2)..<(i + 1 + length)])))
            i += 1 + length
        }
        self.structures = structures
    }

    /// The encoded bytes.
    public var bytes: [UInt8] {
        self.structures.flatMap { [UInt8($0.data.count + 1), $0.type] + $0.data }
    }

    /// Service data for a 16-bit UUID (the bytes after the UUID), if present.
    public func serviceData(for uuid: UInt16) -> [UInt8]? {
        for s in self.structures where s.type == Self.serviceData16Type && s.data.count >= 2 {
            if UInt16(s.data[0]) | UInt16(s.data[1]) << 8 == uuid { return Array(s.data[2...]) }
        }
        return nil
    }

    /// The caBLE advert as Chromium's scanner picks it (`fido_cable_discovery.cc`): service data for
    /// `0xFDE2`, or if absent for `0xFFF9`, and only if it is exactly 20 bytes.
    public var cableAdvert: [UInt8]? {
        guard
            let data = self.serviceData(for: Self.legacyGoogleServiceUUID)
                ?? self.serviceData(for: Self.fidoServiceUUID),
            data.count == CableConstants.advertSize
        else { return nil }
        return data
    }
}
