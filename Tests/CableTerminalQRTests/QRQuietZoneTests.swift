import CableTerminalQR
import Testing

@Suite struct QRQuietZoneTests {
    @Test func theStandardIsFourModules() {
        #expect(QRQuietZone.standardModules == 4)
    }

    @Test(arguments: [4, 5, 10, 64])
    func standardOrWiderBordersHaveNoNotes(border: Int) throws {
        #expect(try QRQuietZone.notes(forBorder: border).isEmpty)
    }

    @Test(arguments: [0, 3])
    func narrowerBordersHaveExactlyOneNote(border: Int) throws {
        #expect(try QRQuietZone.notes(forBorder: border).map(\.code) == [.quietZoneBelowStandard])
    }

    @Test(arguments: [-4, 65])
    func bordersOutsideTheLimitsAreRejected(border: Int) {
        let error = #expect(throws: QRCodeError.self) { try QRQuietZone.notes(forBorder: border) }
        #expect(error?.code == .invalidBorder)
    }
}
