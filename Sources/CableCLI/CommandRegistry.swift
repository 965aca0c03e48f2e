import ArgumentParser

/// The subcommands, in the order `cable --help` lists them.
enum CommandRegistry {
    static let all: [any ParsableCommand.Type] = [
        DecodeCommand.self,
    ]
}
