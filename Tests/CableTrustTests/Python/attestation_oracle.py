#!/usr/bin/env python3
"""The independent verdict on attestation statements: python-fido2 for none, packed, fido-u2f and
apple; py_webauthn for android-key (python-fido2 has no android-key verifier).

Usage: attestation_oracle.py CASES.json  ->  prints one JSON object as its last line:
  {"verdicts": {"<id>": {"ok": true, "type": "basic"} | {"ok": false, "error": "..."}}}
Each case: {"id", "attestationObject": hex, "clientDataHash": hex, "clientDataJSON": text or null,
"verificationTime": seconds}. python-fido2 checks the statement only (no trust anchors), as our
AttestationVerifier does; py_webauthn's android-key also validates the chain to Google's roots, at
verificationTime.
"""
import hashlib
import json
import sys
import traceback
from datetime import datetime, timezone
from unittest.mock import patch

from fido2 import cbor
from fido2.attestation import Attestation, AttestationType
from fido2.webauthn import AuthenticatorData

TYPES = {
    AttestationType.NONE: "none", AttestationType.SELF: "self", AttestationType.BASIC: "basic",
    AttestationType.ATT_CA: "attca", AttestationType.ANON_CA: "anonca",
}


def fido2_verdict(case):
    obj = cbor.decode(bytes.fromhex(case["attestationObject"]))
    fmt, statement, auth_data = obj["fmt"], obj["attStmt"], AuthenticatorData(obj["authData"])
    result = Attestation.for_type(fmt)().verify(statement, auth_data, bytes.fromhex(case["clientDataHash"]))
    return {"ok": True, "type": TYPES[result.attestation_type]}


def android_key_verdict(case):
    from OpenSSL.crypto import X509Store
    from webauthn.helpers import parse_attestation_object
    from webauthn.registration.formats.android_key import verify_android_key
    import webauthn.helpers.validate_certificate_chain  # noqa: F401 (loads the module)
    chain_module = sys.modules["webauthn.helpers.validate_certificate_chain"]

    raw = bytes.fromhex(case["attestationObject"])
    parsed = parse_attestation_object(raw)
    client_data = case.get("clientDataJSON")
    if client_data is None or hashlib.sha256(client_data.encode()).hexdigest() != case["clientDataHash"]:
        # py_webauthn hashes the client data itself; a case with another hash gets other client data.
        client_data = "{}" if client_data is None else client_data + " "
    store = X509Store()
    store.set_time(datetime.fromtimestamp(case["verificationTime"], tz=timezone.utc).replace(tzinfo=None))
    with patch.object(chain_module, "_generate_new_cert_store", return_value=store):
        verify_android_key(
            attestation_statement=parsed.att_stmt, attestation_object=raw, client_data_json=client_data.encode(),
            credential_public_key=parsed.auth_data.attested_credential_data.credential_public_key,
            pem_root_certs_bytes=[],
        )
    return {"ok": True, "type": "basic"}


def main():
    cases = json.load(open(sys.argv[1]))
    verdicts = {}
    for case in cases:
        try:
            fmt = cbor.decode(bytes.fromhex(case["attestationObject"]))["fmt"]
            verdicts[case["id"]] = android_key_verdict(case) if fmt == "android-key" else fido2_verdict(case)
        except Exception as error:  # every refusal, whatever its class, is a refusal
            verdicts[case["id"]] = {"ok": False, "error": f"{type(error).__name__}: {error}"[:200]}
    print(json.dumps({"verdicts": verdicts}))


if __name__ == "__main__":
    main()
