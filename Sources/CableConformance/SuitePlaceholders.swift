// Stand-ins until the phone and desktop suites are merged (the lead deletes this file then).
extension ConformanceSuites {
    package static var phone: [ConformanceScenario<PhoneUnderTest>] { [] }
    package static var desktop: [ConformanceScenario<DesktopUnderTest>] { [] }
}
