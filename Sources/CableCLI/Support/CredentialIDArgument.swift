import ArgumentParser

/// The credential ID argument of `passkeys delete` and `registrations remove`: base64url as `list`
/// prints it, taken as it is even when it begins with `-`. One ID in 64 does (`-` is a base64url
/// digit), and a plain `@Argument` would read it as an option and answer "missing argument".
struct CredentialIDArgument: ParsableArguments {
    @Argument(
        parsing: .allUnrecognized,
        help: ArgumentHelp(
            "The credential ID (base64url), as `list` prints it; one that begins with \"-\" is taken as it is.",
            valueName: "id"
        )
    )
    var given: [String] = []

    /// What was given without the `--` that ends options (this strategy collects it too; it is not an
    /// ID: two base64url digits with nonzero spare bits).
    private var words: [String] {
        guard let terminator = self.given.firstIndex(of: "--") else { return self.given }
        var words = self.given
        words.remove(at: terminator)
        return words
    }

    /// The one ID given (``validate()`` has checked there is exactly one).
    var id: String { self.words.first ?? "" }

    func validate() throws {
        let given = self.words
        switch given.count {
        case 1: return
        case 0: throw ValidationError("Missing expected argument '<id>'")
        default:
            // An unknown option lands here too, so every word is named.
            let quoted = given.map { "'\($0)'" }.joined(separator: ", ")
            throw ValidationError("Expected one credential ID, got \(given.count): \(quoted)")
        }
    }
}
