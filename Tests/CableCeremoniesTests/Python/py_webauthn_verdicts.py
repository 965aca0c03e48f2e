"""Verdicts of py_webauthn (PyPI `webauthn`, Duo Labs) on WebAuthn Level 3 JSON responses.

Reads a JSON file of cases and prints one JSON object on its last line:
{"webauthnVersion": "...", "verdicts": {"<case id>": {"ok": true, "signCount": N, "credentialId": "<b64url>",
 "userVerified": bool} | {"ok": false, "error": "<exception class>: <message>"}}}

Cases of kind "creationOptions" / "requestOptions" hold options JSON text in "credential"; py_webauthn's
strict options parser reads it and the verdict lists what it read (or the error).

Each case: {"id", "kind": "registration" | "authentication", "credential": "<response JSON text>",
"challenge": "<b64url>", "rpId", "origin", "requireUserVerification": bool,
and for authentication "credentialPublicKey": "<b64url COSE key>", "signCount": N}.
"""
import json
import sys
from importlib.metadata import version

from webauthn import verify_authentication_response, verify_registration_response
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_options_json,
    parse_registration_options_json,
)


def enum_value(value):
    return None if value is None else getattr(value, "value", value)


def options_verdict(case):
    if case["kind"] == "creationOptions":
        o = parse_registration_options_json(case["credential"])
        selection = o.authenticator_selection
        return {
            "ok": True,
            "challenge": bytes_to_base64url(o.challenge),
            "rpId": o.rp.id,
            "userId": bytes_to_base64url(o.user.id),
            "userName": o.user.name,
            "algorithms": [int(enum_value(p.alg)) for p in o.pub_key_cred_params],
            "excludeCredentials": [bytes_to_base64url(c.id) for c in (o.exclude_credentials or [])],
            "userVerification": enum_value(selection.user_verification) if selection else None,
            "residentKey": enum_value(selection.resident_key) if selection else None,
            "attestation": enum_value(o.attestation),
            "timeout": o.timeout,
        }
    o = parse_authentication_options_json(case["credential"])
    return {
        "ok": True,
        "challenge": bytes_to_base64url(o.challenge),
        "rpId": o.rp_id,
        "allowCredentials": [bytes_to_base64url(c.id) for c in (o.allow_credentials or [])],
        "userVerification": enum_value(o.user_verification),
        "timeout": o.timeout,
    }


def verdict(case):
    try:
        if case["kind"].endswith("Options"):
            return options_verdict(case)
        if case["kind"] == "registration":
            result = verify_registration_response(
                credential=case["credential"],
                expected_challenge=base64url_to_bytes(case["challenge"]),
                expected_rp_id=case["rpId"],
                expected_origin=case["origin"],
                require_user_verification=case["requireUserVerification"],
            )
            return {
                "ok": True,
                "signCount": result.sign_count,
                "credentialId": bytes_to_base64url(result.credential_id),
                "userVerified": result.user_verified,
            }
        result = verify_authentication_response(
            credential=case["credential"],
            expected_challenge=base64url_to_bytes(case["challenge"]),
            expected_rp_id=case["rpId"],
            expected_origin=case["origin"],
            credential_public_key=base64url_to_bytes(case["credentialPublicKey"]),
            credential_current_sign_count=case["signCount"],
            require_user_verification=case["requireUserVerification"],
        )
        return {
            "ok": True,
            "signCount": result.new_sign_count,
            "credentialId": bytes_to_base64url(result.credential_id),
            "userVerified": result.user_verified,
        }
    except Exception as error:  # every refusal, whatever its class, is a verdict
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        cases = json.load(handle)
    verdicts = {case["id"]: verdict(case) for case in cases}
    # Options verdicts carry structured fields; responses only ok/error/counters.
    print(json.dumps({"webauthnVersion": version("webauthn"), "verdicts": verdicts}))


if __name__ == "__main__":
    main()
