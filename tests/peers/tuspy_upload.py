"""Uploads one jemput packet to a jemput hub with tuspy, the independent Python tus client.

The tus protocol is tuspy's own (creation, HEAD, PATCH chunks with sha1 checksums). jemput's
request authentication is added beneath it: every request tuspy sends through `requests` gets a
`Jemput-Auth` header with a fresh nonce, signed here with the kit key (ed25519 over
"jemput/request/v2\\0" METHOD "\\n" PATH "\\n" T "\\n" NONCE "\\n" then the Upload-Offset,
Upload-Length, Upload-Metadata and Upload-Checksum header values as sent, empty when absent, joined
by "\\n"; docs/hub-protocol.md section 1). The hub binds a PATCH body to the signature through its
Upload-Checksum, which tuspy sends with every chunk.
The packet prelude travels in `Upload-Metadata` as `packet <base64>`: tuspy base64-encodes each
value after encoding it with `metadata_encoding`, and latin-1 maps bytes to characters one to one.

Usage: tuspy_upload.py HUB_URL KIT_ID KIT_KEY_PEM CHUNK_SIZE PACKET:PRELUDE_LEN...
Uploads the packets one after the other; prints `UPLOADED <upload url>` for each.
"""

import base64
import secrets
import sys
import time
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from tusclient import client

DOMAIN = b"jemput/request/v2\x00"
COVERED = ("upload-offset", "upload-length", "upload-metadata", "upload-checksum")


def main():
    hub, kit_id, key_pem, chunk_size = sys.argv[1:5]
    with open(key_pem, "rb") as f:
        key = load_pem_private_key(f.read(), password=None)

    send = requests.Session.send

    def signed_send(session, request, **kwargs):
        path = urlsplit(request.url).path
        t = str(int(time.time()))
        nonce = secrets.token_hex(16)
        covered = [str(request.headers.get(name, "")) for name in COVERED]
        message = DOMAIN + "\n".join([request.method, path, t, nonce] + covered).encode()
        sig = base64.b64encode(key.sign(message)).decode()
        request.headers["Jemput-Auth"] = "kit={}, t={}, n={}, sig={}".format(kit_id, t, nonce, sig)
        return send(session, request, **kwargs)

    requests.Session.send = signed_send

    tus = client.TusClient(hub.rstrip("/") + "/v1/uploads")
    for arg in sys.argv[5:]:
        packet_path, prelude_len = arg.rsplit(":", 1)
        with open(packet_path, "rb") as f:
            prelude = f.read(int(prelude_len))
        uploader = tus.uploader(
            packet_path,
            chunk_size=int(chunk_size),
            metadata={"packet": prelude.decode("latin-1")},
            metadata_encoding="latin-1",
            upload_checksum=True,
            retries=10,
            retry_delay=1,
        )
        uploader.upload()
        print("UPLOADED", uploader.url, flush=True)


if __name__ == "__main__":
    main()
