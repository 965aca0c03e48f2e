import Testing

@testable import CableBenchmarks

@Suite struct ResidentMemoryTests {
    @Test func readsVmRSSInBytes() {
        let status = "Name:\tCableBenchmarks\nVmPeak:\t  300000 kB\nVmRSS:\t   12345 kB\nThreads:\t4\n"
        #expect(ResidentMemory.parseVmRSS(status) == 12345 * 1024)
    }

    @Test(arguments: [
        "",
        "Name:\tx\nVmPeak:\t  300000 kB\n",
        "VmRSS:\t   12345 MB\n",
        "VmRSS:\t   lots kB\n",
        "VmRSS:\t   12345\n",
        "VmRSS:\t   1 2 kB\n",
    ])
    func rejectsMissingOrMalformedVmRSS(status: String) {
        #expect(ResidentMemory.parseVmRSS(status) == nil)
    }

    @Test func thisProcessHasAResidentSetOnLinux() {
        #if os(Linux)
            #expect((ResidentMemory.current() ?? 0) > 0)
        #endif
    }
}
