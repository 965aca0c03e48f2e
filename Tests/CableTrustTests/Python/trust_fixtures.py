#!/usr/bin/env python3
"""Builds, with Python `cryptography` and python-fido2's CBOR encoder (independent of swift-cable), the
throwaway PKI, attestation objects, certificate chains and FIDO MDS3 BLOBs the CableTrust tests use.

Usage: trust_fixtures.py OUT_DIR  ->  writes OUT_DIR/fixtures.json and prints {"ok": true} last.
Nothing here is a real authenticator's or the FIDO Alliance's key: every key is generated per run.
"""
import base64
import datetime
import hashlib
import json
import os
import sys
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from fido2 import cbor

NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)
TIME = int(NOW.timestamp())
AAGUID_OID = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")


def name(cn, ou=None, o="Throwaway Test PKI", c="US"):
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, c), x509.NameAttribute(NameOID.ORGANIZATION_NAME, o)]
    if ou:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attributes)


def cert(subject, subject_key, issuer, issuer_key, ca, extensions=(), days_before=30, days_after=3650, path_length=None):
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - datetime.timedelta(days=days_before))
               .not_valid_after(NOW + datetime.timedelta(days=days_after))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256())


def der(certificate):
    return certificate.public_bytes(serialization.Encoding.DER)


def pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def cose_key(public_key):
    numbers = public_key.public_numbers()
    return cbor.encode({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})


def auth_data(aaguid, credential_key, rp_id="example.com"):
    credential_id = os.urandom(16)
    return (hashlib.sha256(rp_id.encode()).digest() + bytes([0x45]) + (0).to_bytes(4, "big")
            + aaguid.bytes + len(credential_id).to_bytes(2, "big") + credential_id + cose_key(credential_key.public_key()))


def packed(aaguid, signer, chain, client_data_hash, credential_key=None):
    credential_key = credential_key or ec_key()
    data = auth_data(aaguid, credential_key)
    if signer is None:  # self attestation
        signature = credential_key.sign(data + client_data_hash, ec.ECDSA(hashes.SHA256()))
        statement = {"alg": -7, "sig": signature}
    else:
        signature = signer.sign(data + client_data_hash, ec.ECDSA(hashes.SHA256()))
        statement = {"alg": -7, "sig": signature, "x5c": [der(c) for c in chain]}
    return cbor.encode({"fmt": "packed", "attStmt": statement, "authData": data})


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(header, payload, key, alg):
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode())
    if alg == "RS256":
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    elif alg == "ES256":
        r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        signature = b""
    return signing_input + "." + b64url(signature)


def main():
    out = sys.argv[1]
    client_data_hash = hashlib.sha256(b'{"type":"webauthn.create","challenge":"dGVzdA","origin":"https://example.com"}').digest()

    # Attestation PKI: root -> intermediate -> leaf (packed requirements met).
    root_key, intermediate_key = ec_key(), ec_key()
    root = cert(name("Attestation Root"), root_key, name("Attestation Root"), root_key, True)
    intermediate = cert(name("Attestation CA"), intermediate_key, root.subject, root_key, True)
    other_root_key = ec_key()
    other_root = cert(name("Other Root"), other_root_key, name("Other Root"), other_root_key, True)

    certified = uuid.uuid4()
    def leaf(aaguid_value, ou="Authenticator Attestation", ca=False, critical=False, key=None):
        key = key or ec_key()
        extensions = [] if aaguid_value is None else [(x509.UnrecognizedExtension(AAGUID_OID, b"\x04\x10" + aaguid_value.bytes), critical)]
        return key, cert(name("Authenticator Leaf", ou=ou, o="Throwaway Vendor"), key, intermediate.subject, intermediate_key, ca, extensions)

    cases = {}
    key, good = leaf(certified)
    cases["packed-full-valid"] = packed(certified, key, [good, intermediate], client_data_hash)
    key, good_no_ext = leaf(None)
    cases["packed-full-no-aaguid-extension"] = packed(certified, key, [good_no_ext, intermediate], client_data_hash)
    key, wrong = leaf(uuid.uuid4())
    cases["packed-full-wrong-aaguid-extension"] = packed(certified, key, [wrong, intermediate], client_data_hash)
    key, critical = leaf(certified, critical=True)
    cases["packed-full-critical-aaguid-extension"] = packed(certified, key, [critical, intermediate], client_data_hash)
    key, ca_leaf = leaf(certified, ca=True)
    cases["packed-full-leaf-is-ca"] = packed(certified, key, [ca_leaf, intermediate], client_data_hash)
    key, wrong_ou = leaf(certified, ou="Something Else")
    cases["packed-full-wrong-ou"] = packed(certified, key, [wrong_ou, intermediate], client_data_hash)
    cases["packed-self-certified"] = packed(certified, None, [], client_data_hash)

    # Policy subjects: one AAGUID per status, one unknown to the metadata.
    statuses = ["FIDO_CERTIFIED_L1", "REVOKED", "ATTESTATION_KEY_COMPROMISE", "USER_VERIFICATION_BYPASS",
                "USER_KEY_REMOTE_COMPROMISE", "USER_KEY_PHYSICAL_COMPROMISE", "UPDATE_AVAILABLE"]
    subjects = {"FIDO_CERTIFIED_L1": certified}
    subjects.update({status: uuid.uuid4() for status in statuses[1:]})
    unknown = uuid.uuid4()
    policy_cases = {}
    for status, aaguid in list(subjects.items()) + [("UNLISTED", unknown)]:
        key, certificate = leaf(aaguid)
        policy_cases[status] = {"aaguid": str(aaguid),
                                "attestationObject": packed(aaguid, key, [certificate, intermediate], client_data_hash).hex()}

    # Chains: a loop (A issued by B, B issued by A) and one longer than any accepted path.
    loop_a_key, loop_b_key = ec_key(), ec_key()
    loop_a = cert(name("Loop A"), loop_a_key, name("Loop B"), loop_b_key, True)
    loop_b = cert(name("Loop B"), loop_b_key, name("Loop A"), loop_a_key, True)
    loop_leaf_key = ec_key()
    loop_leaf = cert(name("Loop Leaf", ou="Authenticator Attestation"), loop_leaf_key, loop_a.subject, loop_a_key, False)
    long_chain, issuer, issuer_key = [], root, root_key
    for index in range(10):
        key = ec_key()
        certificate = cert(name(f"Long {index}"), key, issuer.subject, issuer_key, True)
        long_chain.insert(0, certificate)
        issuer, issuer_key = certificate, key
    long_leaf_key = ec_key()
    long_leaf = cert(name("Long Leaf", ou="Authenticator Attestation"), long_leaf_key, issuer.subject, issuer_key, False)

    # MDS PKI: root -> CA -> signer (RSA and EC signers).
    mds_root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    mds_root = cert(name("MDS Root"), mds_root_key, name("MDS Root"), mds_root_key, True)
    mds_ca_key = ec_key()
    mds_ca = cert(name("MDS CA"), mds_ca_key, mds_root.subject, mds_root_key, True)
    rsa_signer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_signer = cert(name("MDS Signer RSA"), rsa_signer_key, mds_ca.subject, mds_ca_key, False)
    ec_signer_key = ec_key()
    ec_signer = cert(name("MDS Signer EC"), ec_signer_key, mds_ca.subject, mds_ca_key, False)
    stranger_key = ec_key()
    stranger = cert(name("Stranger Signer"), stranger_key, other_root.subject, other_root_key, False)

    def entry(aaguid, status):
        return {"aaguid": str(aaguid),
                "metadataStatement": {"aaguid": str(aaguid), "description": f"Throwaway Authenticator ({status})",
                                      "attestationRootCertificates": [base64.b64encode(der(root)).decode()],
                                      "schema": 3},
                "statusReports": [{"status": "NOT_FIDO_CERTIFIED", "effectiveDate": "2020-01-01"},
                                  {"status": status, "effectiveDate": "2024-01-01"}],
                "timeOfLastStatusChange": "2024-01-01"}
    entries = [entry(aaguid, status) for status, aaguid in subjects.items()]
    entries.append({"attestationCertificateKeyIdentifiers": ["00" * 20], "statusReports": [{"status": "FIDO_CERTIFIED"}]})
    payload = {"legalHeader": "throwaway test BLOB", "no": 42, "nextUpdate": "2026-07-01", "entries": entries}
    x5c = lambda *certs: [base64.b64encode(der(c)).decode() for c in certs]
    blobs = {
        "rs256": jwt({"alg": "RS256", "typ": "JWT", "x5c": x5c(rsa_signer, mds_ca)}, payload, rsa_signer_key, "RS256"),
        "es256": jwt({"alg": "ES256", "typ": "JWT", "x5c": x5c(ec_signer, mds_ca)}, payload, ec_signer_key, "ES256"),
        "alg-none": jwt({"alg": "none", "typ": "JWT", "x5c": x5c(rsa_signer, mds_ca)}, payload, None, "none"),
        "alg-hs256": jwt({"alg": "HS256", "typ": "JWT", "x5c": x5c(rsa_signer, mds_ca)}, payload, None, "none") + "c2VjcmV0",
        "alg-mismatch": jwt({"alg": "ES256", "typ": "JWT", "x5c": x5c(rsa_signer, mds_ca)}, payload, ec_signer_key, "ES256"),
        "other-root": jwt({"alg": "ES256", "typ": "JWT", "x5c": x5c(stranger)}, payload, stranger_key, "ES256"),
        "no-x5c": jwt({"alg": "ES256", "typ": "JWT"}, payload, ec_signer_key, "ES256"),
        "huge-x5c": jwt({"alg": "ES256", "typ": "JWT", "x5c": x5c(ec_signer, mds_ca) * 200}, payload, ec_signer_key, "ES256"),
        "expired": jwt({"alg": "ES256", "typ": "JWT", "x5c": x5c(ec_signer, mds_ca)},
                       dict(payload, nextUpdate="2026-05-01"), ec_signer_key, "ES256"),
        "bad-payload-shape": jwt({"alg": "ES256", "typ": "JWT", "x5c": x5c(ec_signer, mds_ca)},
                                 {"no": "forty-two"}, ec_signer_key, "ES256"),
    }
    good = blobs["es256"]
    header, body, signature = good.split(".")
    flipped = bytearray(base64.urlsafe_b64decode(signature + "=="))
    flipped[10] ^= 0x01
    blobs["bad-signature"] = header + "." + body + "." + b64url(bytes(flipped))
    blobs["truncated"] = good[: len(good) // 2]
    blobs["bad-base64"] = header + "." + body[:100] + "!!" + body[102:] + "." + signature
    blobs["two-parts"] = header + "." + body

    fixtures = {
        "time": TIME,
        "clientDataHash": client_data_hash.hex(),
        "certifiedAAGUID": str(certified),
        "attestationRoot": pem(root),
        "otherRoot": pem(other_root),
        "cases": {k: v.hex() for k, v in cases.items()},
        "policyCases": policy_cases,
        "loopChain": [der(loop_leaf).hex(), der(loop_a).hex(), der(loop_b).hex()],
        "longChain": [der(long_leaf).hex()] + [der(c).hex() for c in long_chain],
        "mdsRoot": pem(mds_root),
        "blobs": blobs,
    }
    with open(os.path.join(out, "fixtures.json"), "w") as handle:
        json.dump(fixtures, handle)
    print(json.dumps({"ok": True}))


if __name__ == "__main__":
    main()
