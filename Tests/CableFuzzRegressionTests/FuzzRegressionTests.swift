import Testing

/// Replays every input kept under `Fuzz/` through the same harnesses the fuzz executables run.
///
/// A crash input must now be handled: the process survives (a trap or a sanitizer report would end the
/// test run), and every parser either accepts the input or refuses it with a typed, non-empty error code.
/// Nothing else is asserted: what each parser should answer is the business of its own tests.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    /// One test over all kept crash inputs (not a parameterized one, which Swift Testing reports as skipped
    /// while the directory is still empty); each expectation names its reproducer.
    @Test("every crash input libFuzzer found is accepted or refused with a typed error code")
    func crashInputsAreHandled() async {
        for input in FuzzInput.all(in: "regressions") {
            let report = await input.target.run(input.bytes)
            #expect(!report.outcomes.isEmpty, "\(input.testDescription)")
            #expect(report.everyRejectionHasACode, "\(input.testDescription): \(report)")
        }
    }

    @Test(
        "every seed of the committed corpora is accepted or refused with a typed error code",
        arguments: FuzzInput.all(in: "corpora")
    )
    func seedIsHandled(_ input: FuzzInput) async {
        let report = await input.target.run(input.bytes)
        #expect(!report.outcomes.isEmpty)
        #expect(report.everyRejectionHasACode, "\(report)")
    }

    @Test("every fuzz target has seeds, so a fresh fuzz run starts from real messages")
    func everyTargetHasSeeds() {
        let seeded = Set(FuzzInput.all(in: "corpora").map(\.target))
        #expect(seeded == Set(FuzzTarget.allCases))
    }

    @Test("every directory under Fuzz/regressions and Fuzz/corpora names a fuzz target")
    func directoriesNameTargets() {
        #expect(FuzzInput.unknownDirectories(in: "regressions").isEmpty)
        #expect(FuzzInput.unknownDirectories(in: "corpora").isEmpty)
    }
}
