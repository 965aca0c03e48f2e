import Testing

@testable import CableBenchmarks

@Suite struct BenchmarkCaseTests {
    private let crypter = BenchmarkCase(
        "crypter.sealOpen.1KiB",
        figures: ["crypter.sealOpen.1KiB", "crypter.sealOpen.1KiB.vsOpenSSL"]
    ) { _ in [] }

    @Test(arguments: [nil, "", "crypter", "CRYPTER", "1kib", "vsOpenSSL", "sealOpen.1KiB"])
    func filterSelectsByCaseOrFigureNameIgnoringCase(filter: String?) {
        #expect(self.crypter.matches(filter))
    }

    @Test(arguments: ["relay", "16KiB", "crypter.sealOpen.1KiB.vsRaw"])
    func filterRejectsOtherNames(filter: String) {
        #expect(!self.crypter.matches(filter))
    }

    @Test func caseNamesAreUnique() {
        let names = BenchmarkCommand.cases.map(\.name)
        #expect(Set(names).count == names.count)
    }

    @Test func everyFigureIsFoundByItsOwnName() {
        for benchmark in BenchmarkCommand.cases {
            for figure in benchmark.figures {
                #expect(benchmark.matches(figure))
            }
        }
    }
}
