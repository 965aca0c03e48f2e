#!/usr/bin/env python3
"""Rebuilds attestation.json and roots.json from the test suites of independent WebAuthn libraries.

Usage (the sdists come from PyPI: `pip download --no-deps --no-binary :all: webauthn==2.5.2 fido2==2.2.1`):

    python3 import.py webauthn-2.5.2/ fido2-2.2.1/

Every value is copied from the named file and test. py_webauthn keeps whole attestation objects
(base64url) with their clientDataJSON; python-fido2 keeps the statement, the authenticator data and the
client data hash separately, so for those the attestation object is the canonical CBOR map
{"fmt", "attStmt", "authData"} of the literal parts (status "mixed"; needs the fido2 package for its
CBOR encoder). The SimpleWebAuthn vector is quoted from its repository (not on PyPI).
"""
import base64
import hashlib
import json
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent


def b64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def epoch(*args):
    return int(datetime(*args, tzinfo=timezone.utc).timestamp())


def py_webauthn_credential(root, file, test):
    source = (Path(root) / "tests" / file).read_text()
    start = source.index(f"def {test}(")
    end = source.find("\n    def test_", start + 1)
    body = source[start:end if end > 0 else None]
    attestation = re.search(r'"attestationObject":\s*"([^"]+)"', body).group(1)
    client_data = re.search(r'"clientDataJSON":\s*"([^"]+)"', body).group(1)
    return b64url(attestation), b64url(client_data)


def fido2_parts(root, test):
    """Evaluates the literal statement / authData / client_param of one python-fido2 test."""
    source = (Path(root) / "tests" / "test_attestation.py").read_text()
    start = source.index(f"def {test}(")
    end = source.find("\n    def test_", start + 1)
    body = source[start:end]
    def grab(name, opener):
        index = body.index(f"{name} = ")
        depth, i = 0, index + len(name) + 3
        begin = i
        while True:
            c = body[i]
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
                if depth == 0:
                    return body[begin:i + 1]
            i += 1
    statement = eval(grab("statement", "{"))  # literal dict of bytes.fromhex(...) values
    auth_data = eval(grab("auth_data", "(").replace("AuthenticatorData(", "(", 1))
    client_param = eval(grab("client_param", "("))
    return statement, bytes(auth_data), client_param


def vector(id, source, fmt, attestation_object, client_data_hash, time, attestation_type, trust_path_length,
           client_data_json=None, status="literal", comment=None):
    entry = {
        "id": id,
        "sources": [source],
        "status": status,
        "input": {
            "attestationObject": attestation_object.hex(),
            "clientDataHash": client_data_hash.hex(),
            "verificationTime": time,
        },
        "expected": {"format": fmt, "attestationType": attestation_type, "trustPathLength": trust_path_length},
        "result": "valid",
    }
    if client_data_json is not None:
        entry["input"]["clientDataJSON"] = client_data_json.decode()
    if comment:
        entry["comment"] = comment
    return entry


def main():
    py_webauthn, fido2_root = sys.argv[1], sys.argv[2]
    from fido2 import cbor  # canonical CTAP2 CBOR

    vectors = []
    pw = lambda file, test: {"library": "py_webauthn", "version": "2.5.2", "file": f"tests/{file}", "test": test}
    for id, file, test, fmt, time, kind, length in [
        ("py_webauthn-none", "test_verify_registration_response.py", "test_verifies_none_attestation_response",
         "none", epoch(2024, 1, 1), "none", 0),
        ("py_webauthn-packed-yubikey", "test_verify_registration_response_packed.py",
         "test_verify_attestation_from_yubikey_firefox", "packed", epoch(2024, 1, 1), "basic", 1),
        ("py_webauthn-fido-u2f-yubikey", "test_verify_registration_response_fido_u2f.py",
         "test_verify_attestation_from_yubikey_firefox", "fido-u2f", epoch(2024, 1, 1), "basic", 1),
        ("py_webauthn-fido-u2f-conformance", "test_verify_registration_response_fido_u2f.py",
         "test_verify_attestation_from_fido_conformance", "fido-u2f", epoch(2024, 1, 1), "basic", 1),
        ("py_webauthn-apple-passkey", "test_verify_registration_response_apple.py",
         "test_verify_attestation_apple_passkey", "apple", epoch(2021, 9, 1), "anonca", 2),
        ("py_webauthn-android-key-pixel-8a", "test_verify_registration_response_android_key.py",
         "test_verify_attestation_android_key_hardware_authority", "android-key", epoch(2025, 1, 8), "basic", 5),
    ]:
        attestation, client_data = py_webauthn_credential(py_webauthn, file, test)
        vectors.append(vector(id, pw(file, test), fmt, attestation, hashlib.sha256(client_data).digest(), time,
                              kind, length, client_data_json=client_data))

    f2 = lambda test: {"library": "python-fido2", "version": "2.2.1", "file": "tests/test_attestation.py", "test": test}
    for id, test, fmt, time, kind, length in [
        ("fido2-packed", "test_packed_attestation", "packed", epoch(2018, 6, 1), "basic", 1),
        ("fido2-fido-u2f", "test_fido_u2f_attestation", "fido-u2f", epoch(2024, 1, 1), "basic", 1),
        ("fido2-apple", "test_apple_attestation", "apple", epoch(2020, 12, 29), "anonca", 2),
    ]:
        statement, auth_data, client_param = fido2_parts(fido2_root, test)
        attestation = cbor.encode({"fmt": fmt, "attStmt": statement, "authData": auth_data})
        vectors.append(vector(id, f2(test), fmt, attestation, client_param, time, kind, length, status="mixed",
                              comment="statement, authData and client data hash literal; the attestation object "
                                      "is their canonical CBOR map"))

    # SimpleWebAuthn: packages/server/src/attestation/verifyAttestationResponse.test.ts
    # (MasterKale/SimpleWebAuthn @ 02528c5932d61a9947fcf9aff1bed1405768b0d6), `attestationPacked`,
    # used by test 'should verify Packed (EC2) attestation': packed self attestation.
    packed_self = (
        "o2NmbXRmcGFja2VkZ2F0dFN0bXSiY2FsZyZjc2lnWEcwRQIhANvrPZMUFrl_rvlgR"
        "qz6lCPlF6B4y885FYUCCrhrzAYXAiAb4dQKXbP3IimsTTadkwXQlrRVdxzlbmPXt847-Oh6r2hhdXRoRGF0YVjhP"
        "dxHEOnAiLIp26idVjIguzn3Ipr_RlsKZWsa-5qK-KBFXsOO-a3OAAI1vMYKZIsLJfHwVQMAXQGE4WNXLCDWOCa2x"
        "8hpqk5dZy_xdc4wBd4UgCJ4M_JAHI7oJgDDVb8WUcKqRB_mzRxwCL9vdTl-ZKPXg3_-Zrt1Adgb7EnK9ivqaTOKM"
        "DqRrKsIObWYJaqpsSJtUKUBAgMmIAEhWCBKMVVaivqCBpqqAxMjuCo5jMeUdh3jDOC0EF4fLBNNTyJYILc7rqDDe"
        "X1pwCLrl3ZX7IThrtZNwKQVLQyfHiorqP-n"
    )
    packed_self_client = (
        "eyJjaGFsbGVuZ2UiOiJjelpRU1dKQ2JsQlFibkpIVGxOQ2VFNWtkRVJ5VkRkVmNsWlpT"
        "a3M1U0UwIiwib3JpZ2luIjoiaHR0cHM6Ly9kZXYuZG9udG5lZWRhLnB3IiwidHlwZSI6IndlYmF1dGhuLmNyZWF0"
        "ZSJ9"
    )
    client_data = b64url(packed_self_client)
    vectors.append(vector(
        "simplewebauthn-packed-self",
        {"library": "SimpleWebAuthn", "repo": "MasterKale/SimpleWebAuthn",
         "commit": "02528c5932d61a9947fcf9aff1bed1405768b0d6",
         "file": "packages/server/src/attestation/verifyAttestationResponse.test.ts",
         "test": "should verify Packed (EC2) attestation"},
        "packed", b64url(packed_self), hashlib.sha256(client_data).digest(), epoch(2024, 1, 1), "self", 0,
        client_data_json=client_data))

    out = {
        "name": "attestation",
        "description": "Real WebAuthn attestation objects from the test suites of independent libraries, each "
                       "with the client data hash it was made for and a time at which its certificates are valid. "
                       "expected: the format, the attestation type (WebAuthn L3 §6.5.4, lower case: none, self, "
                       "basic, attca, anonca) and the trust path length the format's verification procedure "
                       "returns. Rebuilt by import.py.",
        "specSection": "WebAuthn Level 3 §8",
        "vectors": vectors,
    }
    (HERE / "attestation.json").write_text(json.dumps(out, indent=1) + "\n")

    # Trust anchors, quoted from the same packages.
    known = (Path(py_webauthn) / "webauthn" / "helpers" / "known_root_certs.py").read_text()
    def pem(name):
        return re.search(name + r' = """(-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----)', known, re.S).group(1) + "\n"
    example = (Path(fido2_root) / "examples" / "verify_attestation.py").read_text()
    yubico_b64 = re.search(r'YUBICO_CA = b64decode\(\s*"""(.*?)"""', example, re.S).group(1)
    yubico_pem = "-----BEGIN CERTIFICATE-----\n" + yubico_b64.strip() + "\n-----END CERTIFICATE-----\n"
    roots = {
        "name": "attestation-roots",
        "description": "Public attestation root certificates (PEM), quoted from the libraries named.",
        "roots": [
            {"id": "apple-webauthn-root-ca", "pem": pem("apple_webauthn_root_ca"),
             "source": {"library": "py_webauthn", "version": "2.5.2", "file": "webauthn/helpers/known_root_certs.py",
                        "name": "apple_webauthn_root_ca"}},
        ] + [
            {"id": f"google-hardware-attestation-root-{n}", "pem": pem(f"google_hardware_attestation_root_{n}"),
             "source": {"library": "py_webauthn", "version": "2.5.2", "file": "webauthn/helpers/known_root_certs.py",
                        "name": f"google_hardware_attestation_root_{n}"}}
            for n in range(1, 5)
        ] + [
            {"id": "yubico-u2f-root-ca-457200631", "pem": yubico_pem,
             "source": {"library": "python-fido2", "version": "2.2.1", "file": "examples/verify_attestation.py",
                        "name": "YUBICO_CA"}},
        ],
    }
    (HERE / "roots.json").write_text(json.dumps(roots, indent=1) + "\n")


if __name__ == "__main__":
    main()
