"""Independent reader of an SBI device service's STREAM preview (M-JPEG).

Usage: sbi_stream_check.py PORT DEVICE_ID SUB_ID TIMEOUT_MS

Sends `STREAM /stream` with http.client, reads the multipart/x-mixed-replace body with its own
parser (the boundary from the Content-Type, each part's headers, its Content-Length bytes, the CRLF
and the next delimiter; the closing delimiter), and decodes every frame with Pillow. Prints a JSON
summary: the status, the content type, each frame's format and size, whether the closing
delimiter came; for an answer that is not a stream, its JSON error. Exits 1 on anything malformed.
"""
import http.client
import io
import json
import sys

from PIL import Image

port, device_id, sub_id, timeout_ms = sys.argv[1:5]


def fail(msg):
    print("FAIL", msg, file=sys.stderr)
    sys.exit(1)


conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=15)
body = json.dumps({"deviceId": device_id, "deviceSubId": sub_id, "timeout": timeout_ms})
conn.request("STREAM", "/stream", body, {"Content-Type": "application/json", "EXT": "check"})
resp = conn.getresponse()
ctype = resp.getheader("Content-Type", "")
summary = {"status": resp.status, "content_type": ctype, "frames": [], "ended": False}

if not ctype.startswith("multipart/x-mixed-replace"):
    summary["error"] = json.loads(resp.read())["error"]
    print(json.dumps(summary))
    sys.exit(0)

params = dict(
    p.strip().split("=", 1) for p in ctype.split(";")[1:] if "=" in p
)
boundary = params.get("boundary", "").strip('"').encode()
if not boundary:
    fail("no boundary in " + ctype)
delimiter = b"--" + boundary


def line():
    got = resp.readline()
    if not got.endswith(b"\r\n"):
        fail("a line without CRLF: %r" % got[:80])
    return got[:-2]


first = line()
while first == b"":  # CRLFs before the first delimiter
    first = line()
current = first
while True:
    if current == delimiter + b"--":
        summary["ended"] = True
        break
    if current != delimiter:
        fail("expected the delimiter, got %r" % current[:80])
    headers = {}
    while True:
        h = line()
        if h == b"":
            break
        name, _, value = h.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("content-type") != "image/jpeg":
        fail("a part of type %r" % headers.get("content-type"))
    length = int(headers["content-length"])
    data = resp.read(length)
    if len(data) != length:
        fail("a part of %d bytes where Content-Length said %d" % (len(data), length))
    img = Image.open(io.BytesIO(data))
    img.load()  # decodes the whole frame
    summary["frames"].append(
        {"format": img.format, "width": img.width, "height": img.height, "bytes": length}
    )
    if resp.read(2) != b"\r\n":
        fail("no CRLF after a part's body")
    current = line()

if resp.read() != b"":
    fail("bytes after the closing delimiter")
print(json.dumps(summary))
