import ArgumentParser

/// The subcommands, in the order `cable --help` lists them.
enum CommandRegistry {
    static let all: [any ParsableCommand.Type] = [
        DemoCommand.self,
        QRCommand.self,
        DecodeCommand.self,
        RelayCommand.self,
        RegisterCommand.self,
        SignInCommand.self,
        PhoneCommand.self,
        PasskeysCommand.self,
        RegistrationsCommand.self,
        ConformanceCommand.self,
    ]
}
