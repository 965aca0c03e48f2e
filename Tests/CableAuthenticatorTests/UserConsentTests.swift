import CableAuthenticator
import CableCTAP
import Testing

@Suite struct UserConsentTests {
    @Test func alwaysApproveAndAlwaysDenyAnswerEveryKind() async {
        for kind in ConsentRequest.Kind.allCases {
            let request = ConsentRequest(kind: kind, rpID: "login.example.com")
            #expect(await AlwaysApprove().approve(request))
            #expect(await !AlwaysDeny().approve(request))
        }
    }

    @Test func denyingPhoneRefusesEveryCeremonyWithOperationDenied() async throws {
        let store = InMemoryCredentialStore()
        _ = try await Phone(store: store).register()
        let phone = PhoneAuthenticator(
            persona: .generic,
            store: store,
            consent: AlwaysDeny(),
            logger: LogCapture().logger
        )
        for frame in [
            CTAPRequest.makeCredential(Fixtures.makeCredential(user: .bob)).frame,
            CTAPRequest.getAssertion(Fixtures.getAssertion()).frame,
            CTAPRequest.selection.frame,
        ] {
            #expect(await phone.handle(frame) == [CTAPStatus.operationDenied.rawValue])
        }
        #expect(try store.list().count == 1)
    }

    @Test func selectionSucceedsOnceTheUserConfirms() async throws {
        let phone = Phone()
        #expect(await phone.authenticator.handle(CTAPRequest.selection.frame) == [CTAPStatus.ok.rawValue])
        #expect(phone.consent.requests.map(\.kind) == [.selection])
        #expect(
            await phone.authenticator.handle([CTAPCommand.selection.rawValue, 0xA0]) == [
                CTAPStatus.invalidLength.rawValue
            ]
        )
    }

    @Test func promptsReadAsQuestionsNamingTheSiteAndAccount() {
        let create = ConsentRequest(kind: .makeCredential, rpID: "login.example.com", userName: "alice@example.com")
        #expect(create.description == "Create a passkey for alice@example.com on login.example.com?")
        let signIn = ConsentRequest(kind: .getAssertion, rpID: "login.example.com", credentialCount: 2)
        #expect(signIn.description == "Sign in on login.example.com?")
    }
}
