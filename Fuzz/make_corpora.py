#!/usr/bin/env python3
"""Writes the seed corpora Fuzz/corpora/<target>/ from the known-answer vectors in Spec/vectors/*.json.

Seeds are values copied out of the vectors (hex decoded, text as UTF-8). A few are assembled from vector
values where the parser's input wraps them (a BLE advertising payload around a captured advert, a CTAP
frame without the hybrid type byte); the comment at each rule says so. Nothing is computed
cryptographically. File names are <vector file>-<vector id>-<field>; identical seeds are written once.

Usage: python3 Fuzz/make_corpora.py   (rewrites Fuzz/corpora/ completely; commit the result)
"""
import base64
import hashlib
import json
import pathlib
import shutil
import sys

FUZZ = pathlib.Path(__file__).resolve().parent
VECTORS = FUZZ.parent / "Spec" / "vectors"
CORPORA = FUZZ / "corpora"


def vectors(name):
    """The vectors of Spec/vectors/<name>.json."""
    return json.loads((VECTORS / f"{name}.json").read_text())["vectors"]


def field(vector, path):
    """input.x / expected.x of a vector, or None."""
    section, key = path.split(".", 1)
    value = vector.get(section) or {}
    return value.get(key) if isinstance(value, dict) else None


def hexfield(vector, path):
    """A hex field decoded, or None when absent or not hex."""
    value = field(vector, path)
    if not isinstance(value, str):
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def text(vector, path):
    """A text field as UTF-8, or None."""
    value = field(vector, path)
    return value.encode() if isinstance(value, str) else None


class Corpus:
    """The seeds of one target, deduplicated by content."""

    def __init__(self, target):
        self.target = target
        self.seeds = {}

    def add(self, name, data):
        if data is None:
            return
        digest = hashlib.sha1(data).hexdigest()
        if digest not in self.seeds:
            self.seeds[digest] = (name, data)

    def from_vectors(self, file, *paths, transform=lambda data: data, hexadecimal=True):
        for vector in vectors(file):
            for path in paths:
                data = hexfield(vector, path) if hexadecimal else text(vector, path)
                if data is not None:
                    self.add(f"{file}-{vector['id']}-{path.split('.')[-1]}", transform(data))

    def write(self):
        directory = CORPORA / self.target
        directory.mkdir(parents=True)
        for name, data in sorted(self.seeds.values()):
            (directory / name).write_bytes(data)
        return len(self.seeds)


def session_messages(label=None):
    """The crypter plaintexts and ciphertexts of session-qr.json, optionally of one label."""
    for vector in vectors("session-qr"):
        for index, message in enumerate(vector["expected"]["messages"]):
            if label is None or message["label"] == label:
                yield f"session-qr-{index}-{message['label']}", message


def advertising_data(advert, uuid):
    """A phone's legacy BLE payload around a 20-byte advert: flags, the service UUID list, service data
    (the layout AdvertisingData.phoneAdvert documents, after Android Chrome's BLEAdvert.java)."""
    uuid_bytes = uuid.to_bytes(2, "little")
    return bytes([2, 0x01, 0x1A, 3, 0x03]) + uuid_bytes + bytes([3 + len(advert), 0x16]) + uuid_bytes + advert


def main():
    if CORPORA.exists():
        shutil.rmtree(CORPORA)
    corpora = {}

    def corpus(target):
        return corpora.setdefault(target, Corpus(target))

    c = corpus("FuzzCBOR")
    for file in ["cbor-accept", "cbor-reject", "cbor-rfc8949"]:
        c.from_vectors(file, "input.cbor")
    c.from_vectors("qr-payload", "input.cbor")
    c.from_vectors("webauthn-cose-keys", "input.coseKey")

    c = corpus("FuzzDigits")
    c.from_vectors("digits", "input.digits", "expected.digits", hexadecimal=False)
    c.from_vectors("qr-payload", "input.url", transform=lambda url: url[len(b"FIDO:/"):], hexadecimal=False)

    c = corpus("FuzzQRPayload")
    c.from_vectors("qr-payload", "input.url", "expected.url", hexadecimal=False)
    c.from_vectors("qr-payload", "input.cbor", "expected.cbor")

    c = corpus("FuzzAdvert")
    c.from_vectors("eid-advert", "input.advert", "expected.advert", "input.plaintext", "expected.plaintext")

    c = corpus("FuzzAdvertisingData")
    for vector in vectors("eid-advert"):
        for path in ["input.advert", "expected.advert"]:
            advert = hexfield(vector, path)
            if advert is not None and len(advert) == 20:
                # Assembled: the vector's advert inside a phone's BLE payload, under both service UUIDs.
                c.add(f"eid-advert-{vector['id']}-fff9", advertising_data(advert, 0xFFF9))
                c.add(f"eid-advert-{vector['id']}-fde2", advertising_data(advert, 0xFDE2))

    for target, wanted, role in [
        ("FuzzHandshakeResponder", "expected.initiatorMessage", "responder"),
        ("FuzzHandshakeInitiator", "expected.responderMessage", "initiator"),
    ]:
        c = corpus(target)
        for file in ["noise-knpsk0", "noise-nkpsk0", "session-qr"]:
            c.from_vectors(file, wanted)
            for vector in vectors(file):
                if field(vector, "input.role") == role:
                    c.add(f"{file}-{vector['id']}-message", hexfield(vector, "input.message"))

    c = corpus("FuzzCrypterOpen")
    c.from_vectors("crypter", "expected.ciphertext", "input.ciphertext")
    for name, message in session_messages():
        c.add(f"{name}-ciphertext", bytes.fromhex(message["ciphertext"]))

    c = corpus("FuzzTunnelFrame")
    c.from_vectors("framing", "input.frame")
    c.from_vectors("crypter", "input.plaintext", "input.paddedPlaintext")
    c.from_vectors("crypter-padding", "input.padded", "input.message", "expected.padded")
    c.from_vectors("ctap-requests", "input.tunnelPlaintext")
    for name, message in session_messages():
        c.add(f"{name}-plaintext", bytes.fromhex(message["plaintext"]))

    c = corpus("FuzzPostHandshake")
    c.from_vectors("post-handshake", "input.plaintext")
    c.from_vectors("ctap-getinfo", "input.postHandshakePlaintext")
    c.from_vectors("post-handshake-padding", "input.padded", "input.map")
    for name, message in session_messages("post_handshake"):
        c.add(f"{name}-plaintext", bytes.fromhex(message["plaintext"]))
    for name, message in session_messages("update"):
        # The update payload: the frame after its type byte.
        c.add(f"{name}-payload", bytes.fromhex(message["plaintext"])[1:])

    c = corpus("FuzzCTAPRequest")
    # The CTAP frame: the tunnel plaintext after the hybrid message-type byte.
    c.from_vectors("ctap-requests", "input.tunnelPlaintext", transform=lambda frame: frame[1:])
    for name, message in session_messages():
        if message["label"].startswith("ctap_") and message["direction"] == "desktop->phone":
            c.add(f"{name}-frame", bytes.fromhex(message["plaintext"])[1:])

    c = corpus("FuzzCTAPResponse")
    c.from_vectors("ctap-responses", "input.tunnelPlaintext", transform=lambda frame: frame[1:])
    c.from_vectors("ctap-responses", "input.tunnelPlaintext", transform=lambda frame: frame[2:])
    c.from_vectors("ctap-getinfo", "expected.getInfo")
    for name, message in session_messages("ctap_response_opaque"):
        c.add(f"{name}-frame", bytes.fromhex(message["plaintext"])[1:])
        c.add(f"{name}-result", bytes.fromhex(message["plaintext"])[2:])

    c = corpus("FuzzAttestation")
    c.from_vectors("webauthn-registrations", "input.attestationObject")
    c.from_vectors("webauthn-assertions", "input.authenticatorData")
    c.from_vectors("webauthn-cose-keys", "input.coseKey")
    c.from_vectors("webauthn-assertions", "input.credentialPublicKey")

    # The attestation statement verifiers: client data hash, then the attestation object.
    c = corpus("FuzzAttestationStatement")
    for vector in json.loads((VECTORS / "attestation" / "attestation.json").read_text())["vectors"]:
        c.add(f"attestation-{vector['id']}",
              bytes.fromhex(vector["input"]["clientDataHash"]) + bytes.fromhex(vector["input"]["attestationObject"]))

    # The MDS BLOB loader: the committed BLOBs of Fuzz/seeds/FuzzMetadataBLOB (made by
    # Tests/CableTrustTests/Python/trust_fixtures.py under a throwaway root), and their payloads.
    c = corpus("FuzzMetadataBLOB")
    for path in sorted((FUZZ / "seeds" / "FuzzMetadataBLOB").glob("*.jwt")):
        blob = path.read_bytes().strip()
        c.add(path.stem, blob)
        parts = blob.split(b".")
        if len(parts) == 3:
            try:
                c.add(path.stem + "-payload", base64.urlsafe_b64decode(parts[1] + b"=" * (-len(parts[1]) % 4)))
            except ValueError:
                pass

    c = corpus("FuzzRelyingParty")
    c.from_vectors("webauthn-registrations", "input.attestationObject", "input.clientDataJSON")
    c.from_vectors("webauthn-assertions", "input.authenticatorData", "input.clientDataJSON")
    c.from_vectors("webauthn-clientdata", "expected.clientDataJSON")

    c = corpus("FuzzRelayPaths")
    c.from_vectors("tunnel-paths", "expected.path", "expected.header", hexadecimal=False)
    c.from_vectors("tunnel-paths", "input.routingID", "input.tunnelID", hexadecimal=False)
    for vector in vectors("eid-advert"):
        urls = [field(vector, "expected.newURL"), field(vector, "expected.connectURL")]
        urls += list((field(vector, "expected.connectURLs") or {}).values())
        for index, url in enumerate(u for u in urls if u):
            # The request path of the URL (after wss://<domain>), and the URL itself.
            path = "/" + url.split("://", 1)[1].split("/", 1)[1]
            c.add(f"eid-advert-{vector['id']}-path{index}", path.encode())
            c.add(f"eid-advert-{vector['id']}-url{index}", url.encode())

    total = 0
    for target in sorted(corpora):
        count = corpora[target].write()
        total += count
        print(f"{target}: {count} seeds")
    print(f"{total} seeds in {CORPORA.relative_to(FUZZ.parent)}")


if __name__ == "__main__":
    sys.exit(main())
