package enum ConformanceSuites {}
