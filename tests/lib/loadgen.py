#!/usr/bin/python3
"""loadgen.py - steady event traffic with a client-side ledger, for
tests/integration/faults.sh and bench/soak.sh.

Each of --threads sender threads sends a batch of --batch events every
--threads * --batch / --rate seconds (so the whole offers --rate events/s)
to BASE/v1/events, and behaves as libeyeclient does: a new UUID event_id per
event, kept across retries; NDJSON bodies gzipped (every other batch a plain
JSON array, so both decoders are exercised); network errors, 5xx, 408 and
429 retried with exponential backoff and equal jitter, never sooner than
Retry-After. A batch is retried until it is answered 202/422, or until
--give-up seconds after the stop was asked for.

--invalid is the share of events the rules reject (unknown event type, a
wrong type in data, a missing member), which must end in event_errors.
--hostile is the share of requests that are hostile bodies instead of a
batch (not JSON, invalid UTF-8, nesting too deep, a bad gzip stream, a
wrong key, an empty array...): each must get its 4xx and is never retried.
--reads is the share of requests that are GETs instead: a session's events
through the read API (with --read-key) or /v1/health; each must get 200.

Files written into --out (appended to, one line per fact, flushed at once
so a killed run leaves a readable ledger):

  ledger.tsv    EVENT_ID <tab> A|R|G <tab> SESSION <tab> CODE <tab> PATH
                A: acknowledged as accepted in a 202; R: acknowledged as
                rejected (CODE is the per-event code); G: never answered,
                given up at the deadline (may or may not be stored; CODE
                is the status that ended it, if any). PATH is data.path
                as sent (unique per event). Every event sent appears
                exactly once.
  requests.tsv  THREAD <tab> START <tab> END <tab> STATUS <tab> CODE <tab> EVENTS <tab> KIND
                one line per HTTP attempt; START/END are wall-clock
                seconds since the epoch (comparable with `date +%s.%N`),
                STATUS the HTTP status or ERR (CODE is then the Python
                exception's name), KIND "batch" or the hostile shape's name.

The run stops when the file --stop exists (or after --duration seconds);
then each thread finishes its batch in hand (retrying) and exits. The
summary is printed as KEY=VALUE lines on stdout. Exit status 0 unless a
batch got an answer a batch should never get (a 4xx other than 413 for a
well-formed batch, or a malformed 202 body), or a hostile body was not
answered with its 4xx.
"""

import argparse
import gzip
import http.client
import json
import os
import random
import sys
import threading
import time
import uuid
from datetime import datetime, timezone

def now_ts():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Shared:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.ledger = open(os.path.join(args.out, "ledger.tsv"), "a", buffering=1)
        self.requests = open(os.path.join(args.out, "requests.tsv"), "a", buffering=1)
        self.counts = {}
        self.bad = []
        self.stop_at = None
        self.t0 = time.monotonic()

    def count(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def record(self, line_ledger=None, line_request=None):
        with self.lock:
            if line_ledger:
                self.ledger.write(line_ledger)
            if line_request:
                self.requests.write(line_request)

    def problem(self, what):
        with self.lock:
            self.bad.append(what)
        sys.stderr.write("loadgen: %s\n" % what)

    def stopping(self):
        if self.stop_at is not None:
            return True
        a = self.args
        if (a.stop and os.path.exists(a.stop)) or (
            a.duration > 0 and time.monotonic() - self.t0 >= a.duration
        ):
            with self.lock:
                if self.stop_at is None:
                    self.stop_at = time.monotonic()
            return True
        return False


def make_event(rng, args, thread, seq):
    """Returns (event dict, expected verdict letter)."""
    session = "%s-%d-%d" % (args.prefix, thread, rng.randrange(args.sessions))
    ev = {
        "event_id": str(uuid.uuid4()),
        "session_id": session,
        "category": "page interaction",
        "name": "pageview",
        "data": {"host": "load.example.com", "path": "/%d/%d" % (thread, seq)},
        "timestamp": now_ts(),
    }
    if rng.random() < args.invalid:
        kind = rng.randrange(3)
        if kind == 0:
            ev["name"] = "no such event"  # unknown_event_type
        elif kind == 1:
            ev["data"]["path"] = seq  # wrong_type
        else:
            del ev["data"]["host"]  # missing_field
        return ev, "R"
    if rng.random() < 0.3:
        ev["category"] = "page interaction"
        ev["name"] = "cta click"
        ev["data"]["element"] = "button-%d" % (seq % 7)
    return ev, "A"


# Hostile requests: name -> (headers, body, expected status). They carry
# no event the ledger must account for (a request-level 4xx from a known
# application is recorded in event_errors with a NULL event_id).
def hostile_shapes(key):
    auth = {"Authorization": "Bearer " + key}
    js = dict(auth, **{"Content-Type": "application/json"})
    deep = b"[" * 100 + b"]" * 100
    good_event = json.dumps(
        {
            "session_id": "hostile-1",
            "category": "page interaction",
            "name": "pageview",
            "data": {"host": "h.example.com", "path": "/"},
            "timestamp": "2021-01-01 09:15:27.243860",
        }
    ).encode()
    return [
        ("not_json", js, b"{this is not json", 400),
        ("truncated", js, good_event[:-5], 400),
        ("invalid_utf8_body", js, b'{"session_id": "\xff\xfe", "x": 1}', 400),
        ("nesting", js, deep, 400),
        ("empty_batch", js, b"[]", 400),
        ("not_an_event", js, b"42", 400),
        ("duplicate_key", js, b'{"a": 1, "a": 2}', 400),
        ("bad_gzip", dict(js, **{"Content-Encoding": "gzip"}), b"\x1f\x8bnot gzip at all", 400),
        ("wrong_media", dict(auth, **{"Content-Type": "text/plain"}), good_event, 415),
        ("bad_key", {"Authorization": "Bearer eye_00000000_" + "0" * 64,
                     "Content-Type": "application/json"}, good_event, 401),
        ("no_key", {"Content-Type": "application/json"}, good_event, 401),
        ("too_many_events", js, b"[" + b",".join([good_event] * 501) + b"]", 413),
    ]


def post(args, path, headers, body, method="POST"):
    """One attempt. Returns (status or None, headers dict, body bytes, error)."""
    conn = http.client.HTTPConnection(args.host, args.port, timeout=args.timeout)
    try:
        h = dict(headers)
        if body is not None:
            h["Content-Length"] = str(len(body))
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, None
    except Exception as e:  # refused, reset, timeout, bad status line...
        return None, {}, b"", type(e).__name__
    finally:
        conn.close()


def error_code(body):
    try:
        doc = json.loads(body)
        if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
            return str(doc["error"].get("code", "-"))
    except Exception:
        pass
    return "-"


def retry_after(headers):
    v = headers.get("retry-after")
    try:
        return float(v) if v is not None else 0.0
    except ValueError:
        return 0.0


def send_batch(sh, rng, thread, batch_no, events):
    args = sh.args
    attempt = 0
    while True:
        headers = {"Authorization": "Bearer " + args.key}
        for ev, _ in events:
            ev["sent_at"] = now_ts()
        lines = [json.dumps(ev, separators=(",", ":")) for ev, _ in events]
        if batch_no % 2 == 0:
            body = gzip.compress(("\n".join(lines) + "\n").encode(), 1)
            headers["Content-Type"] = "application/x-ndjson"
            headers["Content-Encoding"] = "gzip"
        else:
            body = ("[" + ",".join(lines) + "]").encode()
            headers["Content-Type"] = "application/json"
        start = time.time()
        status, rh, data, err = post(args, "/v1/events", headers, body)
        end = time.time()
        code = err if status is None else error_code(data)
        sh.record(
            line_request="%d\t%.3f\t%.3f\t%s\t%s\t%d\tbatch\n"
            % (thread, start, end, status if status is not None else "ERR", code, len(events))
        )
        sh.count("status_%s" % (status if status is not None else "ERR"))
        if status in (202, 422):
            try:
                doc = json.loads(data)
                rejected = {}
                for e in doc["errors"]:
                    rejected[events[e["index"]][0]["event_id"]] = e["code"]
                    if e.get("event_id") != events[e["index"]][0]["event_id"]:
                        raise ValueError("event_id mismatch at index %d" % e["index"])
                if doc["accepted"] + doc["rejected"] != len(events) or doc["rejected"] != len(rejected):
                    raise ValueError("counts do not add up")
            except Exception as e:
                sh.problem("thread %d: malformed %d answer (%s): %r" % (thread, status, e, data[:300]))
                rejected = None
            if rejected is not None:
                out = []
                for ev, want in events:
                    got = "R" if ev["event_id"] in rejected else "A"
                    if got != want:
                        sh.problem("thread %d: event %s expected %s, got %s (%s)"
                                   % (thread, ev["event_id"], want, got, rejected.get(ev["event_id"], "")))
                    out.append("%s\t%s\t%s\t%s\t%s\n" % (ev["event_id"], got, ev["session_id"],
                                                         rejected.get(ev["event_id"], ""),
                                                         ev["data"].get("path")))
                sh.record(line_ledger="".join(out))
                sh.count("acked", len(events))
                sh.count("rejected", len(rejected))
                if attempt > 0:
                    sh.count("batches_after_retry")
                return
            # fall through: treat a malformed answer as not delivered
        elif status is not None and 400 <= status < 500 and status not in (408, 429):
            sh.problem("thread %d: batch refused with %d %s: %r" % (thread, status, code, data[:300]))
            sh.record(line_ledger="".join(
                "%s\tG\t%s\t%d\t%s\n" % (ev["event_id"], ev["session_id"], status, ev["data"].get("path"))
                for ev, _ in events))
            return
        # Retryable: network error, 5xx, 408, 429 (as libeyeclient).
        attempt += 1
        sh.count("retries")
        if sh.stopping() and time.monotonic() - sh.stop_at > args.give_up:
            sh.record(line_ledger="".join(
                "%s\tG\t%s\t\t%s\n" % (ev["event_id"], ev["session_id"], ev["data"].get("path"))
                for ev, _ in events))
            sh.count("given_up", len(events))
            return
        cap = min(args.retry_max, args.retry_base * (2 ** min(attempt - 1, 16)))
        wait = cap / 2 + rng.random() * cap / 2
        wait = max(wait, retry_after(rh))
        time.sleep(wait)


def send_hostile(sh, rng, thread, shapes):
    name, headers, body, want = shapes[rng.randrange(len(shapes))]
    start = time.time()
    status, _, data, err = post(sh.args, "/v1/events", headers, body)
    end = time.time()
    code = err if status is None else error_code(data)
    sh.record(line_request="%d\t%.3f\t%.3f\t%s\t%s\t0\t%s\n"
              % (thread, start, end, status if status is not None else "ERR", code, name))
    sh.count("hostile")
    sh.count("hostile_status_%s" % status)
    if status != want:
        sh.problem("thread %d: hostile %s answered %s %s, expected %d" % (thread, name, status, code, want))


def send_read(sh, rng, thread):
    """A read API request (GET, read key): a session's events, or health."""
    args = sh.args
    if rng.random() < 0.2:
        name, path, headers = "health", "/v1/health", {}
    else:
        session = "%s-%d-%d" % (args.prefix, thread, rng.randrange(args.sessions))
        name, path = "read", "/v1/events?session_id=%s&limit=20" % session
        headers = {"Authorization": "Bearer " + args.read_key}
    start = time.time()
    status, _, data, err = post(args, path, headers, None, method="GET")
    end = time.time()
    code = err if status is None else error_code(data)
    sh.record(line_request="%d\t%.3f\t%.3f\t%s\t%s\t0\t%s\n"
              % (thread, start, end, status if status is not None else "ERR", code, name))
    sh.count("reads")
    if status != 200:
        sh.problem("thread %d: %s answered %s %s, expected 200" % (thread, path, status, code))


def sender(sh, thread):
    args = sh.args
    rng = random.Random()
    interval = args.threads * args.batch / args.rate
    shapes = hostile_shapes(args.key)
    next_at = time.monotonic() + rng.random() * interval
    seq = 0
    batch_no = thread
    while not sh.stopping():
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(min(delay, 0.2))
            continue
        next_at += interval
        if next_at < time.monotonic() - 5 * interval:
            next_at = time.monotonic()  # fell behind (retries): do not burst
        roll = rng.random()
        if roll < args.hostile:
            send_hostile(sh, rng, thread, shapes)
            continue
        if roll < args.hostile + args.reads:
            send_read(sh, rng, thread)
            continue
        events = []
        for _ in range(args.batch):
            events.append(make_event(rng, args, thread, seq))
            seq += 1
        sh.count("sent", len(events))
        send_batch(sh, rng, thread, batch_no, events)
        batch_no += 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--stop", default="")
    p.add_argument("--duration", type=float, default=0)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--batch", type=int, default=20)
    p.add_argument("--rate", type=float, default=400.0, help="events/s offered in all")
    p.add_argument("--sessions", type=int, default=10, help="sessions per thread")
    p.add_argument("--prefix", default="load")
    p.add_argument("--invalid", type=float, default=0.05)
    p.add_argument("--hostile", type=float, default=0.0)
    p.add_argument("--reads", type=float, default=0.0, help="share of requests that are reads")
    p.add_argument("--read-key", default="")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per attempt")
    p.add_argument("--retry-base", type=float, default=0.1)
    p.add_argument("--retry-max", type=float, default=2.0)
    p.add_argument("--give-up", type=float, default=120.0)
    args = p.parse_args()
    if args.reads > 0 and not args.read_key:
        p.error("--reads needs --read-key")
    u = args.url.split("://", 1)[-1].rstrip("/")
    args.host, _, port = u.partition(":")
    args.port = int(port or 80)
    os.makedirs(args.out, exist_ok=True)
    sh = Shared(args)
    threads = [threading.Thread(target=sender, args=(sh, t), daemon=True) for t in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in sorted(sh.counts):
        print("%s=%d" % (k, sh.counts[k]))
    print("problems=%d" % len(sh.bad))
    print("elapsed=%.1f" % (time.monotonic() - sh.t0))
    sys.exit(1 if sh.bad else 0)


if __name__ == "__main__":
    main()
