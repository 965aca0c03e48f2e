/// One selectable unit of the run: it measures its figures, and their baselines through the context,
/// and returns the rows. `--filter` matches the case name and the figure names it declares.
struct BenchmarkCase: Sendable {
    /// The case name, `group.figure` (for example `digits.encode`).
    let name: String
    /// Names of the rows it produces, for `--filter` and `--list`.
    let figures: [String]
    /// Measures and returns the rows.
    let run: @Sendable (BenchmarkContext) async throws -> [BenchmarkResult]

    init(
        _ name: String,
        figures: [String]? = nil,
        run: @escaping @Sendable (BenchmarkContext) async throws -> [BenchmarkResult]
    ) {
        self.name = name
        self.figures = figures ?? [name]
        self.run = run
    }

    /// Whether `filter` (case-insensitive substring) selects this case.
    func matches(_ filter: String?) -> Bool {
        guard let filter, !filter.isEmpty else { return true }
        let needle = filter.lowercased()
        return ([self.name] + self.figures).contains { $0.lowercased().contains(needle) }
    }
}
