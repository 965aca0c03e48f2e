import CableConformance
import Testing

@Suite struct ScenarioContractTests {
    @Test func resultsPrintAsTheContractSays() {
        #expect(ScenarioResult.pass.rawValue == "PASS")
        #expect(ScenarioResult.fail.rawValue == "FAIL")
        #expect(ScenarioResult.skip.rawValue == "SKIP")
    }
}
