#!/usr/bin/env python3
"""Carries the pre-handshake vectors of vectors-{from-peers,derived}.json (the collections kept with
the research digest, outside this repository; see Spec/README.md) into
Spec/vectors/*.json in the schema of Spec/README.md, keeping each vector's sources and status.

Values are copied, never recomputed: the expected outputs are the peers' (or, where marked
"derived", the researcher's independent implementation's). Only the error codes are ours: they name
which swift-cable rule must reject each invalid input.

Run from the repository root: python3 Spec/tools/import_pre_handshake_vectors.py DIRECTORY
where DIRECTORY holds the two collections.
"""
import json, os, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if len(sys.argv) != 2:
    sys.exit("usage: import_pre_handshake_vectors.py DIRECTORY (the one holding vectors-from-peers.json)")
SHARED = sys.argv[1]
OUT = os.path.join(ROOT, "Spec", "vectors")

peers = {v["id"]: v for v in json.load(open(os.path.join(SHARED, "vectors-from-peers.json")))["vectors"]}
derived = json.load(open(os.path.join(SHARED, "vectors-derived.json")))
DERIVED_SOURCE = [{"document": "shared/spec/vectors-derived.json",
                   "section": "session (independent implementation from Chromium sources)"}]


def status(v):
    return "literal" if v["status"].startswith("literal") and "derived" not in v["status"] else (
        "derived" if v["status"] == "derived" else "mixed")


def write(name, description, section, vectors):
    ids = [v["id"] for v in vectors]
    assert len(ids) == len(set(ids)), f"duplicate ids in {name}"
    doc = {"name": name, "description": description, "specSection": section, "vectors": vectors}
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")


def vec(id, src, st, input, expected=None, result="valid", errorCode=None, comment=None):
    v = {"id": id, "sources": src["sources"] if isinstance(src, dict) else src, "status": st}
    if comment:
        v["comment"] = comment
    v["input"] = input
    if expected is not None:
        v["expected"] = expected
    v["result"] = result
    if errorCode:
        v["errorCode"] = errorCode
    return v


# ---- digits ------------------------------------------------------------------------------------
digits = []
for id in ["digits_abff", "digits_hello_world"]:
    p = peers[id]
    digits.append(vec(id, p, "literal", {"bytes": p["inputs"]["bytes_hex"]}, {"digits": p["expected"]["digits"]}))
p = peers["digits_zero_lengths"]
for n, d in p["inputs"]["pairs_byte_len_to_digit_len"]:
    digits.append(vec(f"digits_zero_{n}", p, "literal", {"bytes": "00" * n}, {"digits": "0" * d}))
p = peers["digits_rejects"]
codes = {"nondigit": "nonDigit", "invalid_length": "invalidDigitLength", "out_of_range": "digitGroupOutOfRange"}
for i, s in enumerate(p["inputs"]["inputs"]):
    reason = p["expected"]["reason_per_input_per_webauthn_rs"][s]
    digits.append(vec(f"digits_reject_{i}", p, "literal", {"digits": s}, None, "invalid", codes[reason],
                      comment=f"webauthn-rs reason: {reason}"))
write("digits", "QR digit encoding: input.bytes (hex) <-> expected.digits, both directions; invalid input.digits "
      "must be rejected with errorCode.", "hybrid-protocol.md §1.3", digits)

# ---- QR payloads -------------------------------------------------------------------------------
qr = []
for id in ["qr_chrome_2022", "qr_safari_ios"]:
    p = peers[id]
    m = p["expected"]["decoded_map"]
    qr.append(vec(id, p, "literal", {"url": p["inputs"]["url"]}, {
        "cbor": p["expected"]["cbor_hex"], "publicKey": m["0"], "secret": m["1"], "knownDomainCount": m["2"],
        "timestamp": m["3"], "supportsLinking": m["4"], "requestType": m["5"], "reencodesIdentically": True},
        comment="URL literal; field breakdown derived by the researcher"))
p = peers["qr_invalid_urls"]
url_codes = {"http://example.com": "invalidQRPrefix", "fido:/": "invalidQRCBOR", "FIDO:/": "invalidQRCBOR",
             "FIDO://": "nonDigit", "FIDO:/0": "invalidDigitLength", "FIDO:/999": "digitGroupOutOfRange",
             "FIDO:/000": "qrPayloadNotAMap", "nonsense": "invalidQRPrefix"}
for i, u in enumerate(p["inputs"]["urls"]):
    qr.append(vec(f"qr_invalid_{i}", p, "literal", {"url": u}, None, "invalid", url_codes[u],
                  comment="webauthn-rs: " + p["expected"]["webauthn_rs_errors"].get(u, "reject (Chromium)")))
p = peers["chromium_known_qrs"]
case_codes = {"invalid_point": "invalidQRPublicKey", "key0_int": "invalidQRPublicKey",
              "key2_string": "invalidQRKnownDomainCount", "key4_string": "invalidQRLinkingFlag",
              "key5_int": "invalidQRRequestType"}
for c in p["expected"]["cases"]:
    inp = {"url": c["qr_url_derived"], "cbor": c["cbor_hex_derived"]}
    if c["expect_valid"]:
        qr.append(vec("chromium_known_qrs_" + c["case"], p, "mixed", inp, {
            "publicKey": p["inputs"]["compressed_public_key_hex"], "secret": p["inputs"]["qr_secret_hex"],
            "knownDomainCount": c["expect_num_known_domains"], "supportsLinking": c["expect_supports_linking"],
            "requestType": c["expect_request_type"]},
            comment="expectations literal (Chromium KnownQRs); encodings derived"))
    else:
        qr.append(vec("chromium_known_qrs_" + c["case"], p, "mixed", inp, None, "invalid", case_codes[c["case"]],
                      comment="expectation literal (Chromium KnownQRs); encoding derived"))
s = derived["session"]
qr.append(vec("session_qr_from_generator_key", DERIVED_SOURCE, "derived",
              {"qrGeneratorKey": s["qr_key"], "timestamp": s["timestamp"], "requestType": "mc", "supportsLinking": True,
               "knownDomainCount": 2},
              {"url": s["qr_url"], "secret": s["qr_secret"], "uncompressedPublicKey": s["desktop_identity_public"]},
              comment="Chromium qr::Encode from a 48-byte QR generator key (seed -> EC_KEY_derive_from_secret)"))
write("qr-payload", "FIDO:/ QR payloads. Valid: input.url parses to the expected fields (hex byte strings; "
      "supportsLinking null = key 4 absent) and, where reencodesIdentically, re-encodes to the same URL. Invalid: "
      "rejected with errorCode. session_qr_from_generator_key: encoding from a QR generator key.",
      "hybrid-protocol.md §1", qr)

# ---- key derivation ----------------------------------------------------------------------------
kd = []
for id in ["hkdf_eidkey_nosalt", "hkdf_eidkey_salt"]:
    p = peers[id]
    i = p["inputs"]
    kd.append(vec(id, p, "literal", {"secret": i["secret_hex"], "salt": i["salt_hex"], "purpose": i["purpose"],
                                     "length": i["length"]}, {"output": p["expected"]["output_hex"]}))
for id in ["tunnel_id_zero_secret", "tunnel_id_known_secret"]:
    p = peers[id]
    kd.append(vec(id, p, "literal", {"secret": p["inputs"]["qr_secret_hex"], "salt": "", "purpose": 2, "length": 16},
                  {"output": p["expected"]["tunnel_id_hex"].lower()}))
p = peers["eid_decrypt_known"]
e = p["expected"]
kd.append(vec("eid_key_known_secret", p, "derived", {"secret": p["inputs"]["qr_secret_hex"], "salt": "",
                                                      "purpose": 1, "length": 64}, {"output": e["eid_key_hex_derived"]}))
kd.append(vec("psk_known_advert", p, "derived", {"secret": p["inputs"]["qr_secret_hex"],
                                                  "salt": e["eid_plaintext_hex_derived"], "purpose": 3, "length": 32},
              {"output": e["psk_hex_derived"]}))
kd.append(vec("session_eid_key", DERIVED_SOURCE, "derived", {"secret": s["qr_secret"], "salt": "", "purpose": 1,
                                                               "length": 64}, {"output": s["eid_key"]}))
kd.append(vec("session_tunnel_id", DERIVED_SOURCE, "derived", {"secret": s["qr_secret"], "salt": "", "purpose": 2,
                                                                 "length": 16}, {"output": s["tunnel_id"]}))
kd.append(vec("session_psk", DERIVED_SOURCE, "derived", {"secret": s["qr_secret"], "salt": s["plaintext_eid"],
                                                           "purpose": 3, "length": 32}, {"output": s["psk"]}))
write("key-derivation", "caBLE Derive(): HKDF-SHA256(IKM=input.secret, salt=input.salt, info=purpose as LE uint32, "
      "L=input.length) == expected.output.", "hybrid-protocol.md §2", kd)

# ---- adverts -----------------------------------------------------------------------------------
ad = []
p = peers["eid_decrypt_known"]
e = p["expected"]
ad.append(vec("eid_decrypt_known", p, "mixed", {"qrSecret": p["inputs"]["qr_secret_hex"], "advert": p["inputs"]["advert_hex"]},
              {"plaintext": e["eid_plaintext_hex_derived"], "domainID": e["tunnel_server_domain"],
               "routingID": e["routing_id_hex"], "nonce": e["nonce_hex"], "connectURL": e["connect_url"]},
              comment="advert captured from a real phone by webauthn-rs"))
p = peers["eid_encrypt_zero_secret"]
e = p["expected"]
i = p["inputs"]["eid"]
ad.append(vec("eid_encrypt_zero_secret", p, "mixed", {"qrSecret": p["inputs"]["qr_secret_hex"], "nonce": i["nonce_hex"],
                                                       "routingID": i["routing_id_hex"], "domainID": i["tunnel_server_domain"]},
              {"plaintext": e["eid_plaintext_hex_derived"], "advert": e["advert_hex_derived"], "newURL": e["new_url"],
               "connectURLs": e["connect_urls"]}))
ad.append(vec("session_advert", DERIVED_SOURCE, "derived", {"qrSecret": s["qr_secret"], "nonce": s["eid_nonce"],
                                                              "routingID": s["routing_id"], "domainID": 0},
              {"plaintext": s["plaintext_eid"], "advert": s["advert"], "newURL": s["new_tunnel_url"],
               "connectURLs": {"0": s["connect_url"]}}))
p = peers["eid_from_bytes"]
e = p["expected"]
pt = p["inputs"]["eid_plaintext_hex"]
ad.append(vec("eid_from_bytes", p, "literal", {"plaintext": pt}, {"domainID": e["tunnel_server_domain"],
                                                                   "routingID": e["routing_id_hex"], "nonce": e["nonce_hex"]}))
ad.append(vec("eid_from_bytes_domain_255", p, "literal", {"plaintext": pt[:30] + "00"}, None, "invalid",
              "advertUnknownDomain", comment="byte 15 set to 0: domain 0x00FF"))
ad.append(vec("eid_from_bytes_reserved", p, "literal", {"plaintext": "01" + pt[2:]}, None, "invalid",
              "advertReservedBitsSet", comment="byte 0 set to 1"))
for n in list(range(0, 15)) + [17]:
    ad.append(vec(f"eid_from_bytes_length_{n}", p, "literal", {"plaintext": (pt + "00")[: 2 * n]}, None, "invalid",
                  "invalidAdvertPlaintextLength"))
write("eid-advert", "BLE adverts (EIDs). eid_decrypt_known: decrypting input.advert with the EID key derived "
      "from input.qrSecret gives expected; encrypt vectors: the EID built from parts encrypts to expected.advert and "
      "the URLs derive as given; eid_from_bytes*: parsing a 16-byte plaintext.", "hybrid-protocol.md §3, §5.1", ad)

# ---- tunnel domains and paths ------------------------------------------------------------------
td = []
for id in ["tunnel_domains_literal", "tunnel_domains_derived"]:
    p = peers[id]
    for k, d in p["expected"]["domains"].items():
        if d is None:
            td.append(vec(f"{id}_{k}", p, status(p), {"domainID": int(k)}, None, "invalid", "unknownTunnelServiceDomain"))
        else:
            td.append(vec(f"{id}_{k}", p, status(p), {"domainID": int(k)}, {"domain": d}))
write("tunnel-domains", "Tunnel-server domain IDs to domain names (assigned 0-255, hashed 256-65535).",
      "hybrid-protocol.md §4", td)

tp = []
p = peers["tunnel_paths"]
tid = "".join(f"{b:02X}" for b in p["inputs"]["tunnel_id_ascii"].encode())
rid = "".join(f"{b:02X}" for b in p["inputs"]["routing_id_ascii"].encode())
tp.append(vec("tunnel_paths_new", p, "literal", {"tunnelID": tid.lower()}, {"path": p["expected"]["new_path"]}))
tp.append(vec("tunnel_paths_connect", p, "literal", {"tunnelID": tid.lower(), "routingID": rid.lower()},
              {"path": p["expected"]["connect_path"]}))
p = peers["chromium_mock_routing_id"]
tp.append(vec("chromium_mock_routing_id", p, "mixed",
              {"routingID": "".join(f"{b:02x}" for b in p["inputs"]["routing_id_bytes"])},
              {"header": p["expected"]["x_cable_routing_id_header_value"]}))
write("tunnel-paths", "Tunnel-service request paths and the routing-ID header value (upper-case hex, as Chromium "
      "emits; parsers accept either case).", "hybrid-protocol.md §5", tp)
print("wrote digits, qr-payload, key-derivation, eid-advert, tunnel-domains, tunnel-paths")
