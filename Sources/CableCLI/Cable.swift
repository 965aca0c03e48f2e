import ArgumentParser
@preconcurrency import Glibc

/// The `cable` command: the whole hybrid flow on loopback (its reference is `docs/cli.md`).
@main
struct Cable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cable",
        abstract: "FIDO hybrid transport (caBLE v2): QR codes, the tunnel service, desktop and phone roles.",
        version: CableVersion.current,
        subcommands: CommandRegistry.all
    )

    static func main() async {
        // Lines scripts wait for (the FIDO:/ URL, "listening on …") must leave at once, also into a pipe.
        setvbuf(stdout, nil, _IOLBF, 0)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // Failures inside a command already printed their lines; a command line that did not
            // parse or validate still owes a `--json` caller its failure object.
            if Output.jsonRequested, !(error is ExitCode), exitCode(for: error) != .success {
                Output.jsonFailureLine(message(for: error), step: "arguments")
            }
            exit(withError: error)
        }
    }
}
