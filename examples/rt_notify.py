#!/usr/bin/env python3
"""An example webhook receiver for a jemput hub: tells each RT head which services were done.

Two commands (Python 3 standard library only):

  rt_notify.py serve --port 8090 --secret-file secret.txt --store events.jsonl
      Receives the hub's status events (docs/hub-protocol.md section 9). Each POST is checked
      before its body is parsed: `t` within 300 s of this machine's clock, the HMAC-SHA-256 of
      "jemput/webhook/v2\\n" t "\\n" event id "\\n" event "\\n" body under the shared secret,
      compared in constant time. A bad signature is answered 401 and dropped; an event id already
      stored is answered 204 and not stored twice (the hub delivers at least once). Every
      `opened` event is appended to the store, one JSON object per line.

  rt_notify.py report --store events.jsonl [--date YYYY-MM-DD] [--tz-offset +08:00]
      Groups the day's `opened` events by desa and RT/RW - from the hub's own worklist, as the
      event carries it - and prints one message per RT head, separated by blank lines. Sending
      them (WhatsApp, SMS) is the office's own channel: pipe the output there. Events of visits
      that were not on the worklist have no RT and are counted at the end.

The hub sends the resident's name and NIK only to a webhook whose `include_name_and_nik = true`
in hub.toml; with them the message lists the names, without them it counts the services.
"""

import argparse
import collections
import datetime
import hashlib
import hmac
import http.server
import json
import os
import sys
import threading

DOMAIN = "jemput/webhook/v2"
TOLERANCE_SECS = 300

# Visit categories (core/src/visit/model.rs) in Bahasa Indonesia.
CATEGORY_ID = {
    "lansia": "lansia",
    "sakit": "sakit",
    "disabilitas": "penyandang disabilitas",
    "odgj": "ODGJ",
    "rumah_sakit": "rumah sakit",
    "umum": "umum",
    "dokumen": "dokumen",
}


def check_signature(secret, header, event_id, event, body, now):
    """None when the delivery is genuine and fresh, else why it is refused."""
    fields = {}
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            return "malformed Jemput-Signature"
        fields[key] = value
    try:
        t = int(fields["t"])
        digest = fields["sha256"]
    except (KeyError, ValueError):
        return "malformed Jemput-Signature"
    if abs(now - t) > TOLERANCE_SECS:
        return "stale delivery (t is more than 300 s from this clock)"
    message = f"{DOMAIN}\n{t}\n{event_id}\n{event}\n".encode() + body
    want = hmac.new(secret, message, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, digest):
        return "signature mismatch"
    return None


class Store:
    """The received `opened` events, one JSON line each; event ids seen, for deduplication."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.seen = set()
        if os.path.exists(path):
            for ev in read_events(path):
                self.seen.add((ev.get("hub_id"), ev.get("event_id")))

    def add(self, ev):
        key = (ev.get("hub_id"), ev.get("event_id"))
        with self.lock:
            if key in self.seen:
                return False
            self.seen.add(key)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(ev, ensure_ascii=False) + "\n")
                f.flush()
                os.fsync(f.fileno())
            return True


def read_events(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def make_handler(secret, store):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            why = check_signature(
                secret,
                self.headers.get("Jemput-Signature", ""),
                self.headers.get("Jemput-Event-Id", ""),
                self.headers.get("Jemput-Event", ""),
                body,
                int(datetime.datetime.now(datetime.timezone.utc).timestamp()),
            )
            if why is not None:
                self.log_message("refused a delivery: %s", why)
                self.send_response(401)
                self.end_headers()
                return
            try:
                ev = json.loads(body)
            except ValueError:
                self.send_response(400)
                self.end_headers()
                return
            if ev.get("event") == "opened":
                store.add(ev)
            self.send_response(204)
            self.end_headers()

        def log_message(self, fmt, *args):
            sys.stderr.write("rt_notify: " + (fmt % args) + "\n")

    return Handler


def serve(args):
    with open(args.secret_file, "rb") as f:
        secret = f.read().strip()
    store = Store(args.store)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(secret, store))
    print(f"listening on http://127.0.0.1:{server.server_address[1]}/", flush=True)
    server.serve_forever()


def parse_offset(text):
    sign = -1 if text.startswith("-") else 1
    hours, _, minutes = text.lstrip("+-").partition(":")
    return datetime.timezone(sign * datetime.timedelta(hours=int(hours), minutes=int(minutes or 0)))


def event_day(ev, tz):
    # "2026-12-07T09:14:02.512345678Z": whole seconds are enough to find the day.
    at = ev["at"].split(".")[0].rstrip("Z")
    t = datetime.datetime.fromisoformat(at).replace(tzinfo=datetime.timezone.utc)
    return t.astimezone(tz).date()


def report(args):
    tz = parse_offset(args.tz_offset)
    day = datetime.date.fromisoformat(args.date) if args.date else datetime.datetime.now(tz).date()
    groups = collections.defaultdict(list)
    no_rt = 0
    for ev in read_events(args.store):
        if ev.get("event") != "opened" or event_day(ev, tz) != day:
            continue
        place = (ev.get("visit") or {}).get("worklist")
        if not place or not place.get("rt_rw"):
            no_rt += 1
            continue
        groups[(place["desa"], place["rt_rw"])].append(ev)
    tanggal = day.isoformat()
    messages = []
    for (desa, rt_rw) in sorted(groups):
        evs = sorted(groups[(desa, rt_rw)], key=lambda e: e["event_id"])
        rt, _, rw = rt_rw.partition("/")
        lines = [
            f"Kepada Yth. Ketua RT {rt} / RW {rw}, {desa}:",
            f"{len(evs)} layanan perekaman KTP-el jemput bola selesai pada {tanggal}.",
        ]
        counts = collections.Counter(e["visit"]["category"] for e in evs)
        lines.append(
            "Kategori: "
            + ", ".join(f"{CATEGORY_ID.get(c, c)} {n}" for c, n in sorted(counts.items()))
            + "."
        )
        for e in evs:
            w = e["visit"]["worklist"]
            if w.get("name"):
                nik = f" (NIK {w['nik']})" if w.get("nik") else ""
                lines.append(f"- {w['name']}{nik}, entri {w['entry_id']}")
            else:
                lines.append(f"- entri daftar kerja {w['entry_id']}")
        messages.append("\n".join(lines))
    print("\n\n".join(messages))
    if no_rt:
        print(f"\n({no_rt} layanan tanpa RT/RW di daftar kerja tidak dikirim ke ketua RT.)")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="receive and store the hub's events")
    s.add_argument("--port", type=int, default=8090)
    s.add_argument("--secret-file", required=True)
    s.add_argument("--store", required=True)
    r = sub.add_parser("report", help="one message per RT head for a day")
    r.add_argument("--store", required=True)
    r.add_argument("--date", help="YYYY-MM-DD (default: today in --tz-offset)")
    r.add_argument("--tz-offset", default="+08:00", help="the office's UTC offset (WITA: +08:00)")
    args = p.parse_args()
    serve(args) if args.command == "serve" else report(args)


if __name__ == "__main__":
    main()
