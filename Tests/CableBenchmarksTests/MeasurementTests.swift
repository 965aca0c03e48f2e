import Testing

@testable import CableBenchmarks

@Suite struct MeasurementTests {
    @Test func medianAndP99AreNearestRankPercentiles() {
        // 1…100 in shuffled order: nearest rank gives the 50th and the 99th value.
        let samples = (1...100).map(Double.init).shuffled()
        let measurement = Measurement(nanosecondsPerOperation: samples, operationCount: 100)
        #expect(measurement.median == 50)
        #expect(measurement.p99 == 99)
        #expect(measurement.percentile(1) == 100)
        #expect(measurement.sortedNanoseconds == (1...100).map(Double.init))
    }

    @Test func aSingleSampleIsEveryPercentile() {
        let measurement = Measurement(nanosecondsPerOperation: [42], operationCount: 7)
        #expect(measurement.median == 42)
        #expect(measurement.p99 == 42)
        #expect(measurement.sampleCount == 1)
        #expect(measurement.operationCount == 7)
    }

    @Test func p99OfFewSamplesIsTheLargest() {
        // With fewer than 100 samples the 99th percentile rank rounds up to the last sample.
        let measurement = Measurement(nanosecondsPerOperation: [5, 1, 3, 2, 4], operationCount: 5)
        #expect(measurement.median == 3)
        #expect(measurement.p99 == 5)
    }

    @Test func durationConvertsToNanoseconds() {
        #expect(Duration.seconds(2).nanoseconds == 2e9)
        #expect(Duration.nanoseconds(1500).nanoseconds == 1500)
        #expect(Duration.milliseconds(-3).nanoseconds == -3e6)
    }
}
