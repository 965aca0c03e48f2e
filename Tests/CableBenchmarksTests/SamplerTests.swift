import Testing

@testable import CableBenchmarks

/// The sampler's bookkeeping. Nothing here asserts how long anything takes.
@Suite struct SamplerTests {
    private let tiny = Sampler(
        measuringTime: .milliseconds(2),
        warmUpTime: .microseconds(200),
        minimumSamples: 5,
        sampleTarget: .microseconds(20)
    )

    @Test func interleavedOperationsGetOneSamplePerRoundEach() throws {
        var calls = [0, 0, 0]
        let measurements = try self.tiny.measureInterleaved([
            { calls[0] += 1 },
            {
                calls[1] += 1
                blackHole(calls)
            }, { calls[2] += 1 },
        ])
        #expect(measurements.count == 3)
        // Every round samples every operation once, so the sample counts match.
        #expect(Set(measurements.map(\.sampleCount)).count == 1)
        #expect(measurements[0].sampleCount >= 5)
        // Warm-up calls come on top of the measured ones.
        for (measurement, count) in zip(measurements, calls) {
            #expect(measurement.operationCount > 0)
            #expect(count > measurement.operationCount)
        }
    }

    @Test func aSingleOperationIsMeasuredAtLeastTheMinimumNumberOfTimes() throws {
        var calls = 0
        let measurement = try self.tiny.measure { calls += 1 }
        #expect(measurement.sampleCount >= 5)
        #expect(calls >= measurement.operationCount)
    }

    @Test func anOperationThatThrowsStopsTheMeasurement() {
        var calls = 0
        #expect(throws: BenchmarkError(.operationFailed, "")) {
            _ = try self.tiny.measure {
                calls += 1
                if calls == 3 { throw BenchmarkError(.operationFailed, "third call") }
            }
        }
        #expect(calls == 3)
    }
}
