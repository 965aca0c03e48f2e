"""Copies WebAuthn Level 3 JSON responses out of py_webauthn's own test suite into
Spec/vectors/webauthn-json-responses.json. It copies values (the credential JSON text exactly as the
test holds it, the challenge, RP ID, origins, stored key and counter); it computes nothing.

Usage: python3 Spec/tools/import_webauthn_json_vectors.py PATH/TO/webauthn-3.0.1   (the PyPI sdist, unpacked)
"""
import ast
import json
import sys
from pathlib import Path

VERSION = "3.0.1"
SDIST = f"webauthn-{VERSION}.tar.gz (PyPI), tests/"

# (vector id, test file, test function, kind, result, errorCode, comment)
CASES = [
    ("registration_none_py_webauthn", "test_verify_registration_response.py", "test_verifies_none_attestation_response",
     "registration", "valid", None, "none attestation, ES256, sign count 23"),
    ("registration_hybrid_transport_py_webauthn", "test_verify_registration_response.py",
     "test_verifies_registration_over_cable", "registration", "valid", None, "transports [\"cable\"] (top-level member, ignored)"),
    ("registration_multiple_origins_py_webauthn", "test_verify_registration_response.py",
     "test_supports_multiple_expected_origins", "registration", "valid", None, "the second of two expected origins"),
    ("authentication_ec2_py_webauthn", "test_verify_authentication_response.py",
     "test_verify_authentication_response_with_EC2_public_key", "authentication", "valid", None,
     "UP only, legacy clientDataJSON member order, counter 77 -> 78"),
    ("authentication_uv_required_but_false_py_webauthn", "test_verify_authentication_response.py",
     "test_raises_exception_on_uv_required_but_false", "authentication", "invalid", "userVerificationMissing",
     "UV flag clear while the relying party requires user verification"),
    ("authentication_multiple_origins_py_webauthn", "test_verify_authentication_response.py",
     "test_supports_multiple_expected_origins", "authentication", "valid", None, "user handle present, two expected origins"),
    ("authentication_truncated_authenticator_data_py_webauthn", "test_verify_authentication_response.py",
     "test_raises_on_bad_authenticator_data", "authentication", "invalid", "authenticatorDataMalformed",
     "authenticatorData cut short"),
    ("authentication_truncated_client_data_py_webauthn", "test_verify_authentication_response.py",
     "test_raises_on_bad_client_data_json", "authentication", "invalid", "clientDataMalformed", "clientDataJSON cut short"),
]


def literal(node):
    """The value of a constant, a call base64url_to_bytes("..."), or a list of constants."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "base64url_to_bytes":
        return node.args[0].value
    if isinstance(node, ast.List):
        return [literal(e) for e in node.elts]
    raise ValueError(ast.dump(node))


def extract(tests: Path, file: str, function: str):
    tree = ast.parse((tests / file).read_text())
    func = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function)
    names = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                names[node.targets[0].id] = literal(node.value)
            except ValueError:
                pass
        if isinstance(node, ast.Call) and getattr(node.func, "id", "").startswith("verify_"):
            for kw in node.keywords:
                try:
                    names.setdefault("kw_" + kw.arg, literal(kw.value))
                except ValueError:
                    if isinstance(kw.value, ast.Name):
                        names.setdefault("kw_" + kw.arg, names.get(kw.value.id))
    return names


def main():
    tests = Path(sys.argv[1]) / "tests"
    vectors = []
    for vid, file, function, kind, result, code, comment in CASES:
        n = extract(tests, file, function)
        credential = n["kw_credential"]
        origin = n["kw_expected_origin"]
        entry = {
            "id": vid,
            "sources": [{"package": "webauthn (py_webauthn) " + VERSION, "path": SDIST + file, "test": function}],
            "status": "literal",
            "comment": comment,
            "input": {
                "kind": kind,
                "credential": credential,
                "challenge": n["kw_expected_challenge"],
                "rpId": n["kw_expected_rp_id"],
                "origins": origin if isinstance(origin, list) else [origin],
                "requireUserVerification": bool(n.get("kw_require_user_verification", False)),
            },
            "result": result,
        }
        if kind == "authentication":
            entry["input"]["credentialPublicKey"] = n["kw_credential_public_key"]
            entry["input"]["storedSignCount"] = n["kw_credential_current_sign_count"]
        if code:
            entry["errorCode"] = code
        vectors.append(entry)
    document = {
        "name": "webauthn-json-responses",
        "description": (
            "RegistrationResponseJSON / AuthenticationResponseJSON documents (WebAuthn Level 3 §5.1) exactly as "
            "py_webauthn's test suite holds them. input.credential is the JSON text; challenge and "
            "credentialPublicKey are base64url as in the source (the point of these vectors is the JSON form). "
            "A relying party for input.rpId accepting input.origins, that issued input.challenge, must accept "
            "(or refuse with errorCode); for authentication it holds one record with input.credentialPublicKey "
            "(COSE) and input.storedSignCount."
        ),
        "specSection": "WebAuthn Level 3 §5.1, §7.1, §7.2",
        "vectors": vectors,
    }
    out = Path(__file__).resolve().parent.parent / "vectors" / "webauthn-json-responses.json"
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {len(vectors)} vectors to {out}")


if __name__ == "__main__":
    main()
