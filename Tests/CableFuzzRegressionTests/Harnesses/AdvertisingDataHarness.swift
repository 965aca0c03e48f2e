import CableProtocol

/// Fuzzes the advert bus datagram parser (`AdvertisingData(bytes:)`) and the caBLE advert it selects
/// (`cableAdvert`).
public enum AdvertisingDataHarness {
    /// Parses `input` as BLE advertising data.
    ///
    /// Invariants: accepted data re-encodes to structures that parse to the same value; a selected caBLE
    /// advert is exactly 20 bytes.
    public static func run(_ input: [UInt8]) -> FuzzReport {
        var report = FuzzReport()
        guard
            let data = report.attempt(
                "AdvertisingData(bytes:)",
                { () throws(CableProtocolError) in
                    try AdvertisingData(bytes: input)
                }
            )
        else {
            return report
        }
        let reparsed = try? AdvertisingData(bytes: data.bytes)
        fuzzInvariant(reparsed == data, "parsed advertising data re-encodes to the same structures")
        if let advert = data.cableAdvert {
            fuzzInvariant(advert.count == 20, "a selected caBLE advert is 20 bytes")
            report.record("AdvertisingData.cableAdvert", .accepted)
        } else {
            report.record("AdvertisingData.cableAdvert", .rejected(code: "noCableAdvert"))
        }
        return report
    }
}
