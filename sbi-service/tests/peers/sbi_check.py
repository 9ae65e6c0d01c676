"""Independent check of jemput's SBI device service and of the requests jemput's client builds.

Usage: sbi_check.py PORT CA_PEM SCHEMA_DIR REQUESTS_JSON

Talks to the service over HTTP itself (http.client), validates every message against MOSIP's
compliance-toolkit schemas with `jsonschema` (after adding the `...Decoded` fields the toolkit
adds), verifies every JWS with PyJWT and the x5c certificate against the CA with `cryptography`,
and recomputes the hash chain with hashlib. Prints one line per check; exits 1 on the first
failure.
"""
import base64
import hashlib
import http.client
import json
import sys

import jsonschema
import jwt
from cryptography import x509

port, ca_path, schema_dir, requests_path = sys.argv[1:5]
port = int(port)
ca = x509.load_pem_x509_certificate(open(ca_path, "rb").read())


def fail(msg):
    print("FAIL", msg)
    sys.exit(1)


def validate(name, instance):
    schema = json.load(open(f"{schema_dir}/{name}.json"))
    cls = jsonschema.validators.validator_for(schema)
    errors = list(cls(schema, format_checker=cls.FORMAT_CHECKER).iter_errors(instance))
    if errors:
        fail(f"{name}: " + "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]))
    print("ok", name)


def call(verb, path, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request(verb, path, body=json.dumps(body) if body is not None else None,
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    if r.status != 200:
        fail(f"{verb} {path}: HTTP {r.status}")
    return json.loads(data)


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def verified(token, what):
    header = jwt.get_unverified_header(token)
    if header.get("alg") != "RS256":
        fail(f"{what}: alg {header.get('alg')}")
    cert = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    try:
        cert.verify_directly_issued_by(ca)
    except Exception as e:  # noqa: BLE001 - any failure is the finding
        fail(f"{what}: certificate not issued by the CA: {e}")
    try:
        payload = jwt.decode(token, key=cert.public_key(), algorithms=["RS256"],
                             options={"verify_aud": False, "verify_iat": False,
                                      "verify_exp": False, "verify_nbf": False})
    except jwt.PyJWTError as e:
        fail(f"{what}: {e}")
    return payload


checks = 0
# Discovery.
disc_req = {"type": "Biometric Device"}
validate("DiscoverRequestSchema", disc_req)
found = call("MOSIPDISC", "/device", disc_req)
for d in found:
    d = dict(d, digitalIdDecoded=json.loads(b64url(d["digitalId"])))
    validate("DiscoverResponseSchema", [d])
    validate("DigitalIdResponseSchema", d["digitalIdDecoded"])
# Device info.
info = call("MOSIPDINFO", "/info", None)
for entry in info:
    decoded = verified(entry["deviceInfo"], "deviceInfo")
    decoded["digitalIdDecoded"] = verified(decoded["digitalId"], "deviceInfo.digitalId")
    print("ok jws deviceInfo")
    validate("DeviceInfoResponseSchema", [dict(entry, deviceInfoDecoded=decoded)])
# Captures: the requests jemput's client built, sent in order, chained.
previous = None
for req in json.load(open(requests_path)):
    validate("RegistrationCaptureRequestSchema", req)
    if previous is not None:
        req["bio"][0]["previousHash"] = previous
    resp = call("RCAPTURE", "/capture", req)
    prev = req["bio"][0]["previousHash"]
    for b in resp["biometrics"]:
        if b["error"]["errorCode"] != "0":
            validate("ErrorCaptureResponseSchema", {"biometrics": [b]})
            fail(f"capture error {b['error']}")
        data = verified(b["data"], "data")
        data["digitalIdDecoded"] = verified(data["digitalId"], "data.digitalId")
        print("ok jws data")
        validate("RegistrationCaptureResponseSchema", {"biometrics": [dict(b, dataDecoded=data)]})
        if data["transactionId"] != req["transactionId"]:
            fail("transactionId differs")
        record = b64url(data["bioValue"])
        prev_bytes = bytes.fromhex(prev) if prev else hashlib.sha256(b"").digest()
        want = hashlib.sha256(prev_bytes + hashlib.sha256(record).digest()).hexdigest().upper()
        if b["hash"] != want:
            fail(f"hash chain: got {b['hash']}, computed {want}")
        print("ok chain", data.get("bioSubType", "face"))
        prev = want
        checks += 1
    previous = prev
print(f"{checks} biometrics checked")
