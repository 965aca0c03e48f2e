"""Makes a throwaway certificate authority and server certificates for the TLS tests, with the
`cryptography` package (an implementation independent of the BoringSSL that swift-nio-ssl uses).

Usage: tls_certs.py --dir DIR

Writes PEM files into DIR (P-256 keys; nothing here is ever trusted outside the test):
  ca.pem                      the test CA (self-signed), what the client is told to trust
  good.pem / good.key         leaf for DNS:localhost and IP:127.0.0.1, valid from yesterday to tomorrow
  chain.pem                   good.pem followed by ca.pem (a chain file as a relay may be given)
  expired.pem / expired.key   same names, expired yesterday
  wrongname.pem / .key        valid, but only for DNS:other.invalid
  foreign.pem / foreign.key   valid for localhost, issued by another CA nobody trusts
Prints one JSON line: {"dir": DIR, "files": [...]}.
"""

import argparse
import datetime
import ipaddress
import json
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(common_name, now):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name(common_name))
        .issuer_name(name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=30))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_leaf(ca_key, ca_cert, names, not_before, not_after):
    key = ec.generate_private_key(ec.SECP256R1())
    alt = []
    for n in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            alt.append(x509.DNSName(n))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name(names[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    day = datetime.timedelta(days=1)

    ca_key, ca = make_ca("swift-cable test CA", now)
    other_key, other = make_ca("swift-cable untrusted CA", now)
    leaves = {
        "good": make_leaf(ca_key, ca, ["localhost", "127.0.0.1"], now - day, now + day),
        "expired": make_leaf(ca_key, ca, ["localhost", "127.0.0.1"], now - 10 * day, now - day),
        "wrongname": make_leaf(ca_key, ca, ["other.invalid"], now - day, now + day),
        "foreign": make_leaf(other_key, other, ["localhost", "127.0.0.1"], now - day, now + day),
    }
    files = []

    def write(filename, data):
        with open(os.path.join(args.dir, filename), "wb") as f:
            f.write(data)
        files.append(filename)

    write("ca.pem", pem(ca))
    for label, (key, cert) in leaves.items():
        write(f"{label}.pem", pem(cert))
        write(f"{label}.key", key_pem(key))
    write("chain.pem", pem(leaves["good"][1]) + pem(ca))
    print(json.dumps({"dir": args.dir, "files": files}))


if __name__ == "__main__":
    main()
