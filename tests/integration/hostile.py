#!/usr/bin/python3
"""hostile.py - hostile requests against a running stack, as TAP.

Run by hostile.sh, which starts MariaDB, lighttpd with eye.fcgi and a
spooler, and passes in the environment:
  HOSTILE_PORT     lighttpd's port on 127.0.0.1
  HOSTILE_SOCKET   MariaDB's socket (root, database eye)
  HOSTILE_KEY      a write key; HOSTILE_RKEY a read key; HOSTILE_REVOKED a
                   revoked write key
  HOSTILE_TAP_N    the number of the last TAP test printed before this one
  HOSTILE_MAX_*    the limits of the configuration under test

Every case is raw bytes on a socket (so the request can be anything:
invalid UTF-8 in a header, a Content-Length that lies, a half-close), with
the status and error code it must get, and the JSON pointer when one value
is at fault. After each case:
  - the answer is the documented shape: JSON with error.code, .pointer (a
    string) and .message for errors, accepted/rejected/errors for 202/422;
  - the accounting invariant: once the spool has drained the queue, rows in
    events = events acknowledged as accepted, rows in event_errors =
    events acknowledged as rejected + refused requests of an authenticated
    application (recorded for monitoring);
  - the server still answers GET /v1/health with 200.
At the end every row the read API returns is valid UTF-8 JSON.

Prints TAP lines (no plan: hostile.sh prints it) and, last, a line
"# tap_n N" with the number of the last test.
"""
import gzip
import json
import os
import socket
import subprocess
import sys
import time
import uuid

PORT = int(os.environ["HOSTILE_PORT"])
DB_SOCKET = os.environ["HOSTILE_SOCKET"]
KEY = os.environ["HOSTILE_KEY"]
RKEY = os.environ["HOSTILE_RKEY"]
REVOKED = os.environ["HOSTILE_REVOKED"]
MAX_BODY = int(os.environ["HOSTILE_MAX_BODY"])
MAX_EVENTS = int(os.environ["HOSTILE_MAX_EVENTS"])
MAX_EVENT_BYTES = int(os.environ["HOSTILE_MAX_EVENT_BYTES"])
MAX_DEPTH = int(os.environ["HOSTILE_MAX_DEPTH"])
MAX_INFLATED = int(os.environ["HOSTILE_MAX_DECOMPRESSED"])

tap_n = int(os.environ.get("HOSTILE_TAP_N", "0"))
failed = 0


def tap(passed, desc, why=None):
    global tap_n, failed
    tap_n += 1
    desc = desc.replace("#", "\\#")
    print(("ok" if passed else "not ok") + f" {tap_n} - {desc}")
    if not passed:
        failed += 1
        if why:
            for line in str(why).splitlines()[:6]:
                print(f"#   {line}")
    sys.stdout.flush()


def sql(query):
    out = subprocess.run(["mariadb", "--no-defaults", "-uroot", "-S", DB_SOCKET, "-N", "-B",
                          "eye", "-e", query], capture_output=True, check=True)
    return out.stdout.decode().strip()


# --- HTTP on a raw socket -------------------------------------------------------------

class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self.json = None
        try:
            self.json = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            pass

    def code(self):
        if isinstance(self.json, dict) and isinstance(self.json.get("error"), dict):
            return self.json["error"].get("code")
        return None


def dechunk(data):
    out = b""
    while data:
        line, _, data = data.partition(b"\r\n")
        size = int(line.split(b";")[0], 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2:]
    return out


def exchange(raw, half_close=False, timeout=20):
    """Sends raw bytes, reads until the server closes. Returns an Answer, or
    None when the server closed without one."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    try:
        s.sendall(raw)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    if not data:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = dechunk(body)
    return Answer(int(parts[1]), headers, body)


def request(method=b"POST", path=b"/v1/events", body=None, key=KEY, ctype=b"application/json",
            headers=(), version=b"HTTP/1.1", length=None):
    """Builds the bytes of a request. key None: no Authorization; length
    None: the body's own length (no Content-Length without a body);
    headers: extra (name, value) pairs, bytes."""
    h = [(b"Host", b"127.0.0.1"), (b"Connection", b"close")]
    if key is not None:
        h.append((b"Authorization", b"Bearer " + (key.encode() if isinstance(key, str) else key)))
    if body is not None and ctype is not None:
        h.append((b"Content-Type", ctype))
    if length is None and body is not None:
        length = str(len(body)).encode()
    if length is not None:
        h.append((b"Content-Length", length))
    h.extend(headers)
    out = method + b" " + path + b" " + version + b"\r\n"
    out += b"".join(n + b": " + v + b"\r\n" for n, v in h)
    return out + b"\r\n" + (body or b"")


# --- bodies ---------------------------------------------------------------------------

def ev(**over):
    """A valid pageview event (a fresh event_id) as a dict; over replaces
    members (None removes one)."""
    e = {"event_id": str(uuid.uuid4()), "session_id": "hostile-1", "category": "page interaction",
         "name": "pageview", "data": {"host": "shop.example.com", "path": "/"},
         "timestamp": "2024-05-01T10:00:00Z"}
    for k, v in over.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return e


def submit(fields):
    """A valid form submit with the given form fields."""
    return ev(category="form interaction", name="submit",
              data={"host": "shop.example.com", "path": "/checkout", "form": fields})


def enc(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def splice(obj, raw):
    """The JSON of obj with the string "@RAW@" replaced by raw bytes (for
    bytes json.dumps cannot write: invalid UTF-8, bad escapes)."""
    return enc(obj).replace(b"@RAW@", raw)


def value(raw):
    """A submit event whose form field f is the raw JSON value raw (a
    number, a literal, or something that is not JSON)."""
    return enc(submit({"f": "@RAW@"})).replace(b'"@RAW@"', raw)


def ndjson(*objs):
    return b"\n".join(enc(o) for o in objs) + b"\n"


def nested(depth):
    """data with `depth` levels of nesting under it (data itself is 1)."""
    v = "x"
    for _ in range(depth - 1):
        v = {"a": v}
    return v


def sized_body(total, n=1):
    """A JSON array of n valid events padded with trailing blanks to exactly
    `total` bytes."""
    out = enc([ev() for _ in range(n)])
    assert len(out) <= total, (total, len(out))
    return out + b" " * (total - len(out))


def data_of_bytes(total):
    """One valid submit event whose data serializes (as eye.fcgi stores it)
    to exactly `total` bytes: form fields of at most 1,000 characters."""
    e = submit({})
    fields = e["data"]["form"]
    i = 0
    while True:
        fields[f"f{i}"] = ""
        room = total - len(enc(e["data"]))
        if room <= 1000:
            fields[f"f{i}"] = "x" * room
            break
        fields[f"f{i}"] = "x" * 1000
        i += 1
    assert len(enc(e["data"])) == total and room >= 0
    return enc(e)


# --- the accounting ----------------------------------------------------------------------

BODY_CODES = {"invalid_json", "invalid_utf8", "empty_batch", "too_many_events", "not_an_event",
              "body_too_large", "decompressed_too_large", "invalid_gzip",
              "unsupported_media_type", "unsupported_encoding", "nesting_too_deep",
              "duplicate_key", "incomplete_body", "length_required", "bad_content_length"}

expect_events = int(sql("SELECT COUNT(*) FROM events"))
expect_errors = int(sql("SELECT COUNT(*) FROM event_errors"))


def drained(timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if sql("SELECT COUNT(*) FROM event_queue") == "0":
            return True
        time.sleep(0.05)
    return False


def account(label, a, authenticated):
    """Adds what answer a acknowledged to the expected totals, then checks
    the invariant and the server's health."""
    global expect_events, expect_errors
    if a is not None and a.status in (202, 422) and isinstance(a.json, dict):
        expect_events += int(a.json.get("accepted", 0))
        expect_errors += int(a.json.get("rejected", 0))
    elif a is not None and authenticated and a.code() in BODY_CODES:
        expect_errors += 1
    ok_drain = drained()
    got = (int(sql("SELECT COUNT(*) FROM events")), int(sql("SELECT COUNT(*) FROM event_errors")))
    health = exchange(request(b"GET", b"/v1/health", key=None))
    healthy = health is not None and health.status == 200
    tap(ok_drain and got == (expect_events, expect_errors) and healthy,
        f"{label}: afterwards healthy, stored = acknowledged",
        f"drained {ok_drain}, health {health and health.status}, "
        f"events/errors {got}, expected {(expect_events, expect_errors)}")
    # Re-base on a mismatch so one failure does not fail every later case.
    expect_events, expect_errors = got


def shape_ok(a):
    """The documented answer shape, or why not."""
    if a.status == 204:
        return None if a.body == b"" else "a 204 with a body"
    if a.json is None:
        return "the body is not UTF-8 JSON: " + repr(a.body[:120])
    if a.status in (202, 422):
        j = a.json
        if not (isinstance(j, dict) and isinstance(j.get("accepted"), int)
                and isinstance(j.get("rejected"), int) and isinstance(j.get("errors"), list)):
            return "not {accepted, rejected, errors}: " + repr(a.body[:200])
        for e in j["errors"]:
            if not all(isinstance(e.get(k), str) for k in ("code", "pointer", "message")):
                return "a per-event error without code/pointer/message strings"
        return None
    if a.status >= 400:
        e = a.json.get("error") if isinstance(a.json, dict) else None
        if not (isinstance(e, dict) and all(isinstance(e.get(k), str)
                                            for k in ("code", "pointer", "message"))):
            return "not {error: {code, pointer, message}} with strings: " + repr(a.body[:200])
        if a.headers.get("content-type", "").split(";")[0] != "application/json":
            return "Content-Type " + a.headers.get("content-type", "(none)")
        if a.status in (429, 503) and "retry-after" not in a.headers:
            return f"{a.status} without Retry-After"
    return None


seen = set()


def case(label, raw, status, code=None, pointer=None, half_close=False, authenticated=None,
         event_code=None):
    """One shape: sends raw and checks status, code (the error's, or with
    event_code the first per-event error's), pointer, the answer's shape,
    then the accounting. authenticated: whether the request carries the
    valid write key (so a refused body is recorded); guessed from raw."""
    assert label not in seen, "two cases named " + label
    seen.add(label)
    if authenticated is None:
        authenticated = (b"Bearer " + KEY.encode() + b"\r\n") in raw.split(b"\r\n\r\n", 1)[0] + b"\r\n"
    try:
        a = exchange(raw, half_close=half_close)
    except OSError as err:
        a = None
        why = f"no answer: {err}"
    else:
        why = "the server closed without an answer" if a is None else None
    if status is None:  # the server must close without answering
        why = None if a is None else f"an answer: {a.status} {a.body[:200]!r}"
    elif a is not None and raw.startswith(b"HEAD "):
        why = None if a.status == status and a.body == b"" else f"got {a.status} {a.body[:100]!r}"
    elif a is not None:
        got_code = a.code()
        got_ptr = a.json["error"].get("pointer") if got_code is not None else None
        if event_code is not None and isinstance(a.json, dict) and a.json.get("errors"):
            got_code = a.json["errors"][0].get("code")
            got_ptr = a.json["errors"][0].get("pointer")
        want = (status, code if code is not None else (event_code or got_code))
        got = (a.status, got_code)
        bad = shape_ok(a)
        if got != want:
            why = f"got {got}, expected {want}: {a.body[:200]!r}"
        elif pointer is not None and got_ptr != pointer:
            why = f"pointer {got_ptr!r}, expected {pointer!r}"
        elif bad:
            why = bad
    desc = f"{label}: {status or 'no answer'}" + (f" {code or event_code}" if (code or event_code) else "")
    if pointer is not None:
        desc += f" at {pointer!r}" if pointer else " (whole request)"
    tap(why is None, desc, why)
    account(label, a, authenticated)
    return a


def post(label, body, status, code=None, pointer=None, ctype=b"application/json", **kw):
    """case() for POST /v1/events with the write key and body."""
    return case(label, request(body=body, ctype=ctype), status, code, pointer, **kw)


def read(label, path, status, code=None, pointer=None, key=None):
    return case(label, request(b"GET", path, key=key or RKEY), status, code, pointer)


# ======================================================================================
# JSON grammar
post("a valid event", enc(ev()), 202)
post("a valid batch of three", enc([ev(), ev(), ev()]), 202)
post("empty body", b"", 400, "invalid_json")
post("only blanks", b" \n\t ", 400, "invalid_json")
post("an empty array", b"[]", 400, "empty_batch")
for label, text in [
        ("an unclosed object", b'{"session_id": "s"'),
        ("an unclosed array", b'[' + enc(ev())),
        ("a lone closing brace", b'}'),
        ("a trailing comma in an object", enc(ev())[:-1] + b',}'),
        ("a trailing comma in an array", b'[' + enc(ev()) + b',]'),
        ("two objects glued", enc(ev()) + enc(ev())),
        ("garbage after the object", enc(ev()) + b' x'),
        ("a comment", b'/* c */' + enc(ev())),
        ("a line comment", b'// c\n' + enc(ev())),
        ("an unquoted member name", b'{session_id: "s"}'),
        ("single-quoted strings", b"{'session_id': 's'}"),
        ("a single-quoted value", enc(ev())[:-1] + b",\"x\":'v'}"),
        ("NaN", value(b"NaN")),
        ("Infinity", value(b"Infinity")),
        ("-Infinity", value(b"-Infinity")),
        ("a leading zero", value(b"01")),
        ("a negative leading zero", value(b"-01")),
        ("a leading plus", value(b"+1")),
        ("a bare decimal point", value(b".5")),
        ("a number ending in a point", value(b"1.")),
        ("a point before an exponent", value(b"1.e5")),
        ("an exponent without digits", value(b"1e")),
        ("an exponent sign without digits", value(b"1e+")),
        ("a hexadecimal number", value(b"0x10")),
        ("a lone minus", value(b"-")),
        ("two minus signs", value(b"--1")),
        ("a number with a blank inside", value(b"1 2")),
        ("true in capitals", value(b"TRUE")),
        ("a misspelt literal", value(b"nul")),
        ("an unterminated string", b'{"session_id": "s'),
        ("an invalid escape", splice(ev(session_id="@RAW@"), b'\\x41')),
        ("a short \\u escape", splice(ev(session_id="@RAW@"), b'\\u12')),
        ("a raw newline in a string", splice(ev(session_id="@RAW@"), b'a\nb')),
        ("a raw tab in a string", splice(ev(session_id="@RAW@"), b'a\tb')),
        ("a raw control character in a string", splice(ev(session_id="@RAW@"), b'a\x01b')),
        ("a raw NUL byte", splice(ev(session_id="@RAW@"), b'a\x00b')),
        ("a byte order mark", b'\xef\xbb\xbf' + enc(ev())),
        ("a UTF-16 body", enc(ev()).decode().encode("utf-16")),
]:
    post(label, text, 400, "invalid_json" if "UTF-16" not in label else None)
post("a member named twice", enc(ev())[:-1] + b',"session_id":"again"}', 400, "duplicate_key", "/session_id")
post("a member named twice in the 2nd event", b"[" + enc(ev()) + b"," + enc(ev())[:-1] + b',"name":"x"}]', 400,
     "duplicate_key", "/1/name")
many = {f"f{i}": "v" for i in range(5000)}
many["@RAW@"] = "w"
post("a member named twice among 5,000", splice(submit(many), b"f77"), 400, "duplicate_key", "/data/form/f77")
post("a member named twice, spelt with an escape", splice(submit({"@RAW@": "v", "ab": "w"}), b"a\\u0062"), 400,
     "duplicate_key", "")
post("a member named twice inside data", splice(ev(data={"host": "@RAW@"}), b'a","host":"b'), 400,
     "duplicate_key", "/data/host")
post("a string at the top", b'"hello"', 400, "not_an_event", "")
post("a number at the top", b'42', 400, "not_an_event", "")
post("null at the top", b'null', 400, "not_an_event", "")
post("true at the top", b'true', 400, "not_an_event", "")
post("an array of arrays", b'[[]]', 422, event_code="wrong_type", pointer="")
post("null in a batch", b'[' + enc(ev()) + b',null]', 202, event_code="wrong_type", pointer="")
post("a number in a batch", b'[' + enc(ev()) + b',7]', 202, event_code="wrong_type", pointer="")
post("\\u0000 escaped in data", splice(submit({"f": "@RAW@"}), b'a\\u0000b'), 202)
post("a valid surrogate pair", splice(submit({"f": "@RAW@"}), b'\\ud83d\\ude00'), 202)
for label, num in [("a huge exponent", b"1e400"), ("a tiny exponent", b"1e-400"), ("minus zero", b"-0"),
                   ("a fraction with an exponent", b"-1.5E+3"), ("a 4,000-digit integer", b"9" * 4000),
                   ("2^63", b"9223372036854775808")]:
    post(f"{label}, where a string is wanted", value(num), 422, event_code="wrong_type",
         pointer="/data/form/f")
post("a 20-digit integer as session_id", enc(ev(session_id=None))[:-1] + b',"session_id":12345678901234567890}',
     422, event_code="wrong_type")

# ======================================================================================
# invalid UTF-8, every class, in values, member names and the envelope
UTF8_BAD = [
    ("an overlong 2-byte slash", b"\xc0\xaf"),
    ("an overlong C1", b"\xc1\xbf"),
    ("an overlong 3-byte form", b"\xe0\x80\xaf"),
    ("an overlong 4-byte form", b"\xf0\x80\x80\xaf"),
    ("a UTF-8-encoded high surrogate", b"\xed\xa0\x80"),
    ("a UTF-8-encoded low surrogate", b"\xed\xbf\xbf"),
    ("a code point above U+10FFFF", b"\xf4\x90\x80\x80"),
    ("an F5 lead byte", b"\xf5\x80\x80\x80"),
    ("an FF byte", b"\xff"),
    ("a lone continuation byte", b"\x80"),
    ("a truncated 2-byte sequence", b"\xc3"),
    ("a truncated 3-byte sequence", b"\xe2\x82"),
    ("a truncated 4-byte sequence", b"\xf0\x9f\x98"),
    ("a lead byte followed by ASCII", b"\xc3A"),
]
for label, raw in UTF8_BAD:
    post(f"{label} in a data value", splice(submit({"f": "@RAW@"}), b"a" + raw + b"b"), 400,
         "invalid_utf8", "/data/form/f")
for label, raw in UTF8_BAD[::2]:
    post(f"{label} in a data member name", splice(submit({"@RAW@": "v"}), raw), 400, "invalid_utf8")
for label, raw in UTF8_BAD[1::2]:
    post(f"{label} in session_id", splice(ev(session_id="@RAW@"), raw), 400, "invalid_utf8",
         "/session_id")
for label, raw in UTF8_BAD[:4]:
    post(f"{label} in an unknown top-level member name", enc(ev())[:-1] + b',"x' + raw + b'":1}',
         400, "invalid_utf8")
post("invalid UTF-8 in the 3rd event of a batch",
     b"[" + enc(ev()) + b"," + enc(ev()) + b"," + splice(submit({"f": "@RAW@"}), b"\xc0\xaf") + b"]",
     400, "invalid_utf8", "/2/data/form/f")
for label, esc in [("a lone high surrogate escape", b"\\ud800"),
                   ("a lone low surrogate escape", b"\\udc00"),
                   ("a high surrogate escape then a letter", b"\\ud800\\u0041"),
                   ("two high surrogate escapes", b"\\ud800\\ud800"),
                   ("a reversed surrogate pair", b"\\ude00\\ud83d")]:
    post(f"{label} in data", splice(submit({"f": "@RAW@"}), esc), 400, "invalid_utf8",
         "/data/form/f")
post("a lone surrogate escape in a member name", splice(submit({"@RAW@": "v"}), b"\\udfff"), 400,
     "invalid_utf8")
post("valid 4-byte UTF-8 in data", splice(submit({"f": "@RAW@"}), "😀 ü ß 中".encode()), 202)
post("U+FFFF (a noncharacter, valid UTF-8) in data", splice(submit({"f": "@RAW@"}), b"\xef\xbf\xbf"), 202)

# NDJSON: the error belongs to its line.
ND = b"application/x-ndjson"
post("NDJSON: two good lines", ndjson(ev(), ev()), 202, ctype=ND)
post("NDJSON: a bad line among good ones", enc(ev()) + b"\n{bad\n" + enc(ev()) + b"\n", 202,
     event_code="invalid_json", ctype=ND)
post("NDJSON: invalid UTF-8 in a line", enc(ev()) + b"\n" + splice(submit({"f": "@RAW@"}), b"\xed\xa0\x80") + b"\n",
     202, event_code="invalid_utf8", ctype=ND)
post("NDJSON: CRLF line ends", enc(ev()) + b"\r\n" + enc(ev()) + b"\r\n", 202, ctype=ND)
post("NDJSON: blank lines only", b"\n\n\n", 400, "empty_batch", ctype=ND)
post("NDJSON: an array on a line", enc(ev()) + b"\n[1]\n", 202, event_code="wrong_type", ctype=ND)
post("NDJSON: every line bad", b"{\n{\n", 422, event_code="invalid_json", ctype=ND)

# ======================================================================================
# sizes at every limit, and one past
post(f"a body of exactly {MAX_BODY} bytes", sized_body(MAX_BODY, 4), 202)
post(f"a body of {MAX_BODY + 1} bytes", sized_body(MAX_BODY + 1, 4), 413, "body_too_large")
post("a body of 5 MiB (past lighttpd's own limit)", sized_body(5 * 1048576, 8), 413, "body_too_large",
     authenticated=False)
post(f"data of exactly {MAX_EVENT_BYTES} bytes", data_of_bytes(MAX_EVENT_BYTES), 202)
post(f"data of {MAX_EVENT_BYTES + 1} bytes", data_of_bytes(MAX_EVENT_BYTES + 1), 422,
     event_code="event_too_large", pointer="/data")
post(f"{MAX_EVENTS} events", enc([ev() for _ in range(MAX_EVENTS)]), 202)
post(f"{MAX_EVENTS + 1} events", enc([ev() for _ in range(MAX_EVENTS + 1)]), 413, "too_many_events")
post(f"NDJSON: {MAX_EVENTS + 1} lines", ndjson(*[ev() for _ in range(MAX_EVENTS + 1)]), 413,
     "too_many_events", ctype=ND)
post(f"nesting of depth {MAX_DEPTH}", enc(ev(data={"host": "a.example.com", "path": "/", "a": nested(MAX_DEPTH - 2)})),
     422, event_code="unexpected_field", pointer="/data/a")
post(f"nesting of depth {MAX_DEPTH + 1}", enc(ev(data={"a": nested(MAX_DEPTH - 1)})), 400,
     "nesting_too_deep")
post("nesting of depth 100,000 (arrays)", b"[" * 100000 + b"]" * 100000, 400, "nesting_too_deep")
post("nesting of depth 40,000, unclosed", b'{"a":' * 40000, 400, "nesting_too_deep")
for field, limit, pat in [("session_id", 128, "s"), ("category", 64, "c"), ("name", 64, "n")]:
    post(f"{field} of {limit} characters", enc(ev(**{field: pat * limit})), 422 if field != "session_id" else 202,
         event_code=None if field == "session_id" else "unknown_event_type")
    post(f"{field} of {limit + 1} characters", enc(ev(**{field: pat * (limit + 1)})), 422,
         event_code="too_long")
post("session_id of 100,000 characters", enc(ev(session_id="s" * 100000)), 422, event_code="too_long")
post("a member name of 1,020 characters", enc(submit({"k" * 1020: "v"})), 202)
post("a member name of 200,000 characters", enc(submit({"k" * 200000: "v"})), 422)
post("a form value of 1,000 characters", enc(submit({"f": "é" * 1000})), 202)
post("a form value of 1,001 characters", enc(submit({"f": "é" * 1001})), 422, event_code="too_long")
post("a path of 2,048 characters", enc(ev(data={"host": "a.example.com", "path": "/" + "p" * 2047})), 202)
post("a path of 2,049 characters", enc(ev(data={"host": "a.example.com", "path": "/" + "p" * 2048})), 422,
     event_code="too_long")
post("100 form fields", enc(submit({f"f{i}": "v" for i in range(100)})), 202)
post("101 form fields", enc(submit({f"f{i}": "v" for i in range(101)})), 422, event_code="too_many_properties")
def small():
    return gzip.compress(enc([ev(), ev()]))



case("a gzip body", request(body=small(), headers=[(b"Content-Encoding", b"gzip")]), 202)
case("two gzip members", request(body=small() + gzip.compress(b""), headers=[(b"Content-Encoding", b"gzip")]), 202)
case("a truncated gzip body", request(body=small()[:-6], headers=[(b"Content-Encoding", b"gzip")]), 400, "invalid_gzip")
case("gzip announced, plain body", request(body=enc(ev()), headers=[(b"Content-Encoding", b"gzip")]), 400, "invalid_gzip")
case("gzip with garbage after it", request(body=small() + b"garbage", headers=[(b"Content-Encoding", b"gzip")]), 400, "invalid_gzip")
bomb = gzip.compress(b"[" + b" " * (MAX_INFLATED + 1) + b"]")
case(f"gzip inflating to {MAX_INFLATED + 1} bytes", request(body=bomb, headers=[(b"Content-Encoding", b"gzip")]),
     413, "decompressed_too_large")
bomb2 = gzip.compress(b" " * (MAX_INFLATED - len(enc(ev()))) + enc(ev()))
case(f"gzip inflating to exactly {MAX_INFLATED} bytes", request(body=bomb2, headers=[(b"Content-Encoding", b"gzip")]),
     202)
case("Content-Encoding br", request(body=enc(ev()), headers=[(b"Content-Encoding", b"br")]), 415,
     "unsupported_encoding")
case("Content-Encoding deflate", request(body=enc(ev()), headers=[(b"Content-Encoding", b"deflate")]), 415,
     "unsupported_encoding")

# ======================================================================================
# framing (each case its own event: the same event_id twice is a retry,
# stored once)
def one():
    return enc(ev())


# lighttpd itself waits for the rest of the body; on the half-close it
# closes the connection without passing the request on (README, "What the
# web server answers itself"): no answer, nothing stored.
case("Content-Length larger than the body, then a half-close",
     request(body=one(), length=str(len(one()) + 50).encode()), None, half_close=True)
case("Content-Length smaller than the body", request(body=one(), length=str(len(one()) - 5).encode()), 400,
     "invalid_json")
case("Content-Length not a number", request(body=one(), length=b"12abc"), 400)
case("Content-Length negative", request(body=one(), length=b"-1"), 400)
case("Content-Length with a plus sign", request(body=one(), length=b"+" + str(len(one())).encode()), 400)
case("two different Content-Lengths", request(body=one(), headers=[(b"Content-Length", b"3")]), 400)
case("Content-Length of 2^64", request(body=one(), length=b"18446744073709551616"), 400)
case("a body with no Content-Length (HTTP/1.0)", request(body=one(), length=b"", version=b"HTTP/1.0")
     .replace(b"Content-Length: \r\n", b""), 411, "length_required", authenticated=False)
case("a chunked body", request(body=b"%x\r\n" % len(one()) + one() + b"\r\n0\r\n\r\n", length=b"",
                               headers=[(b"Transfer-Encoding", b"chunked")]).replace(b"Content-Length: \r\n", b""),
     202)
case("a chunked body with a bad chunk size",
     request(body=b"zz\r\n" + one() + b"\r\n0\r\n\r\n", length=b"",
             headers=[(b"Transfer-Encoding", b"chunked")]).replace(b"Content-Length: \r\n", b""), 400)
case("chunked and Content-Length together",
     request(body=b"%x\r\n" % len(one()) + one() + b"\r\n0\r\n\r\n", headers=[(b"Transfer-Encoding", b"chunked")]),
     400)
case("Transfer-Encoding gzip", request(body=one(), headers=[(b"Transfer-Encoding", b"gzip")]), 501)
case("HTTP/1.0 with Content-Length", request(body=one(), version=b"HTTP/1.0"), 202)
case("HTTP/2.0 on a plain socket", request(body=one(), version=b"HTTP/2.0"), 505)
case("a request line without a version", b"POST /v1/events\r\n\r\n", 400)
case("a bare LF request", request(body=one()).replace(b"\r\n", b"\n"), 400, "bad_request")
case("a header without a colon", request(body=one(), headers=[(b"Broken header", b"")]).replace(b"Broken header: ", b"Broken header"),
     400)
case("a header folded over two lines", request(body=one(), headers=[(b"X-A", b"a\r\n b")]), 202)
case("a blank header name", request(body=one(), headers=[(b"", b"v")]), 400)

# ======================================================================================
# headers and media types
post("no Content-Type (read as JSON)", one(), 202, ctype=None)
post("text/html", one(), 415, "unsupported_media_type", ctype=b"text/html")
post("application/json; charset=utf-8", enc(ev()), 202, ctype=b"application/json; charset=utf-8")
post("application/json; charset=latin-1", enc(ev()), 415, "unsupported_media_type",
     ctype=b"application/json; charset=latin-1")
post("APPLICATION/JSON in capitals", enc(ev()), 202, ctype=b"APPLICATION/JSON")
post("multipart/form-data", enc(ev()), 415, "unsupported_media_type", ctype=b"multipart/form-data")
post("application/jsonx", enc(ev()), 415, "unsupported_media_type", ctype=b"application/jsonx")
post("invalid UTF-8 in a Content-Type parameter", enc(ev()), 202, ctype=b"application/json; x=\xff")
post("invalid UTF-8 as the charset", enc(ev()), 415, "unsupported_media_type",
     ctype=b"application/json; charset=\xc0\xaf")
post("invalid UTF-8 as the media type", enc(ev()), 415, "unsupported_media_type",
     ctype=b"application/\xc0\xaf\xff")
post("charset=UTF-8 in quotes", enc(ev()), 202, ctype=b'application/json; charset="UTF-8"')
post("NDJSON with charset=utf-16", ndjson(ev()), 415, "unsupported_media_type",
     ctype=b"application/x-ndjson; charset=utf-16")
case("a 40 KiB header", request(body=enc(ev()), headers=[(b"X-Big", b"a" * 40960)]), 431)
case("300 small headers", request(body=enc(ev()), headers=[(b"X-H%d" % i, b"v") for i in range(300)]), 202)
case("a NUL byte in a header", request(body=enc(ev()), headers=[(b"X-Nul", b"a\x00b")]), 400)
case("invalid UTF-8 in a header", request(body=enc(ev()), headers=[(b"X-Bad", b"\xc0\xaf\xff")]), 202)
case("Expect: 100-continue", request(body=enc(ev()), headers=[(b"Expect", b"100-continue")]), 202)
case("Expect: something else (ignored)", request(body=enc(ev()), headers=[(b"Expect", b"teapot")]), 202)

# ======================================================================================
# methods and paths
for m in [b"GET", b"PUT", b"DELETE", b"PATCH"]:
    case(f"{m.decode()} /v1/events with the write key", request(m, body=None if m == b"GET" else enc(ev())),
         403 if m == b"GET" else 405, "wrong_scope" if m == b"GET" else "method_not_allowed")
case("HEAD /v1/health", request(b"HEAD", b"/v1/health", key=None), 200)
case("OPTIONS /v1/events without Origin", request(b"OPTIONS", key=None), 204)
case("OPTIONS /v1/health", request(b"OPTIONS", b"/v1/health", key=None), 405, "method_not_allowed")
case("TRACE /v1/events", request(b"TRACE", key=None), 405)
case("an unknown method FOO", request(b"FOO", body=enc(ev())), 501)
case("a lower-case method", request(b"post", body=enc(ev())), 501)
for label, path, status, code in [
        ("a trailing slash", b"/v1/events/", 404, "not_found"),
        ("a sub-path", b"/v1/events/x", 404, "not_found"),
        ("a doubled slash", b"//v1/events", 404, "not_found"),
        ("dot segments", b"/v1/../v1/events", 404, "not_found"),
        ("an escaped letter", b"/v1/%65vents", 404, "not_found"),
        ("upper case", b"/V1/EVENTS", 404, "not_found"),
        ("a matrix parameter", b"/v1/events;x=1", 404, "not_found"),
        ("%00 in the path", b"/v1/events%00", 400, None),
        ("invalid UTF-8 in the path", b"/v1/\xc0\xaf", 400, "bad_request"),
        ("an escaped invalid UTF-8 path", b"/v1/%c0%af", 400, "bad_request"),
        ("a 2,000-character path", b"/v1/" + b"x" * 2000, 414, "uri_too_long"),
        ("a 10,000-character path", b"/v1/" + b"x" * 10000, 431, "headers_too_large"),
        ("an absolute URI", b"http://127.0.0.1/v1/events", 202, None),
        ("a path with a fragment", b"/v1/events#x", 404, "not_found"),
        ("a query on the write route", b"/v1/events?x=1", 202, None),
        ("the prototype's route", b"/api/events/", 202, None),
        ("a path without a slash", b"v1/events", 400, None),
        ("an asterisk", b"*", 400, None)]:
    case(f"POST {label}", request(path=path, body=enc(ev())), status, code)

# ======================================================================================
# authentication
for label, key, status, code in [
        ("no Authorization", None, 401, "missing_key"),
        ("an empty bearer", b"", 401, "missing_key"),
        ("a key of blanks", b"   ", 401, "missing_key"),
        ("a random word", b"hello", 401, "invalid_key"),
        ("a key with a wrong checksum", (KEY[:-1] + ("0" if KEY[-1] != "0" else "1")).encode(), 401,
         "invalid_key"),
        ("a key one character short", KEY[:-1].encode(), 401, "invalid_key"),
        ("a key one character long", (KEY + "a").encode(), 401, "invalid_key"),
        ("a key in capitals", KEY.upper().encode(), 401, "invalid_key"),
        ("a read key", RKEY.encode(), 403, "wrong_scope"),
        ("a revoked key", REVOKED.encode(), 401, "invalid_key"),
        ("invalid UTF-8 in the key", KEY.encode()[:-2] + b"\xc0\xaf", 401, "invalid_key"),
        ("a NUL in the key", KEY.encode()[:10] + b"\x00" + KEY.encode()[11:], 400, None),
        ("the key, then junk", KEY.encode() + b" junk", 401, "invalid_key"),
        ("SQL in the key", b"' OR '1'='1", 401, "invalid_key"),
        ("a 1,000-character key", b"k" * 1000, 401, "invalid_key"),
        ("a 10,000-character key", b"k" * 10000, 431, "headers_too_large")]:
    case(f"auth: {label}", request(body=enc(ev()), key=key), status, code, authenticated=False)
# Keys from web pages and keys in URLs (browser collection).
for label, hdrs, path, status, code in [
        ("the write key from a web page", [(b"Origin", b"https://shop.example.com")], b"/v1/events", 403,
         "origin_not_allowed"),
        ("the write key with Origin: null", [(b"Origin", b"null")], b"/v1/events", 403, "origin_not_allowed"),
        ("an Origin of invalid UTF-8", [(b"Origin", b"https://\xc0\xaf.example")], b"/v1/events", 403,
         "origin_not_allowed"),
        ("the write key in the URL too", [], b"/v1/events?key=" + KEY.encode(), 400, "key_in_url"),
        ("the write key and junk in the URL", [], b"/v1/events?key=junk", 400, "key_in_url")]:
    case(f"auth: {label}", request(path=path, body=enc(ev()), headers=hdrs), status, code, authenticated=False)
for label, path, status, code in [
        ("the write key in the URL only", b"/v1/events?key=" + KEY.encode(), 400, "key_in_url"),
        ("the read key in the URL", b"/v1/events?key=" + RKEY.encode(), 400, "key_in_url"),
        ("an unknown key in the URL", b"/v1/events?key=nope", 401, "invalid_key"),
        ("an escaped key in the URL", b"/v1/events?key=%65ye_", 401, "invalid_key"),
        ("two keys in the URL", b"/v1/events?key=a&key=b", 401, None)]:
    case(f"auth: {label}", request(path=path, body=enc(ev()), key=None), status, code, authenticated=False)
case("auth: a preflight from an unknown origin",
     request(b"OPTIONS", key=None, headers=[(b"Origin", b"https://evil.example"),
                                            (b"Access-Control-Request-Method", b"POST")]),
     403, "origin_not_allowed", authenticated=False)
case("auth: Basic", request(body=enc(ev()), key=None, headers=[(b"Authorization", b"Basic " + KEY.encode())]),
     401, "missing_key", authenticated=False)
case("auth: two Authorization headers",
     request(body=enc(ev()), headers=[(b"Authorization", b"Bearer " + RKEY.encode())]), 401,
     authenticated=False)

# ======================================================================================
# the read API
for label, query, code, pointer in [
        ("SQL in session_id", b"/v1/events?session_id=%27%20OR%201%3D1%20--", None, None),
        ("SQL in category", b"/v1/events?category=x%27%3BDROP%20TABLE%20events%3B--", None, None),
        ("a UNION in name", b"/v1/events?name=x%27%20UNION%20SELECT%20*%20FROM%20api_keys--", None, None),
        ("a backslash in session_id", b"/v1/events?session_id=%5C", None, None),
        ("a percent sign in category (a LIKE wildcard)", b"/v1/events?category=%25", None, None),
        ("an underscore in code", b"/v1/errors?code=_", None, None)]:
    a = read(f"read: {label}", query, 200)
    if a is not None and a.json is not None:
        tap(a.json.get("events", a.json.get("errors")) == [], f"read: {label}: matches nothing")
for label, query, code, pointer in [
        ("a month 13", b"/v1/events?from=2024-13-01", "invalid_parameter", "from"),
        ("from is garbage", b"/v1/events?from=yesterday", "invalid_parameter", "from"),
        ("to before 0001", b"/v1/events?to=0000-01-01", "invalid_parameter", "to"),
        ("a negative limit", b"/v1/events?limit=-1", "invalid_parameter", "limit"),
        ("a zero limit", b"/v1/events?limit=0", "invalid_parameter", "limit"),
        ("a limit in letters", b"/v1/events?limit=ten", "invalid_parameter", "limit"),
        ("a limit with an exponent", b"/v1/events?limit=1e3", "invalid_parameter", "limit"),
        ("a limit past the maximum", b"/v1/events?limit=100001", "invalid_parameter", "limit"),
        ("a limit of 2^64", b"/v1/events?limit=18446744073709551616", "invalid_parameter", "limit"),
        ("a garbage cursor", b"/v1/events?after=abc", "invalid_parameter", "after"),
        ("a cursor of invalid bytes", b"/v1/events?after=%ff%fe", "bad_request", ""),
        ("a cursor of 1,000 characters", b"/v1/events?after=" + b"a" * 1000, "invalid_parameter", "after"),
        ("a bad escape", b"/v1/events?category=%zz", "invalid_parameter", "category"),
        ("a lone percent", b"/v1/events?category=%", "invalid_parameter", "category"),
        ("a half escape", b"/v1/events?category=%4", "invalid_parameter", "category"),
        ("an escaped NUL", b"/v1/events?category=a%00b", "bad_request", ""),
        ("escaped invalid UTF-8", b"/v1/events?session_id=%c0%af", "bad_request", ""),
        ("an escaped out-of-range code point", b"/v1/events?session_id=%f4%90%80%80", "invalid_parameter",
         "session_id"),
        ("an escaped truncated sequence", b"/v1/events?session_id=a%e2%82", "invalid_parameter", "session_id"),
        ("escaped lone surrogate", b"/v1/events?session_id=%ed%a0%80", "invalid_parameter", "session_id"),
        ("a parameter twice", b"/v1/events?limit=1&limit=2", "invalid_parameter", "limit"),
        ("an unknown parameter", b"/v1/events?colour=red", "unknown_parameter", "colour"),
        ("a parameter of another route", b"/v1/events?code=x", "unknown_parameter", "code"),
        ("SQL as a parameter name", b"/v1/events?1%3D1=1", "unknown_parameter", "1=1"),
        ("the timeline with a bad limit", b"/v1/sessions/s1/events?limit=x", "invalid_parameter", "limit")]:
    read(f"read: {label}", query, 400, code, pointer)
read("read: an empty query", b"/v1/events?", 200)
read("read: only ampersands", b"/v1/events?&&&", 200)
read("read: an empty value", b"/v1/events?category=", 200)
read("read: the timeline of an unknown session", b"/v1/sessions/nobody/events", 200)
read("read: a timeline id with escaped invalid UTF-8", b"/v1/sessions/%ed%a0%80/events", 400, "invalid_parameter")
read("read: a query of 5,000 characters", b"/v1/events?category=" + b"c" * 5000, 414, "query_too_long")
read("read: a query of 10,000 characters", b"/v1/events?category=" + b"c" * 10000, 431, "headers_too_large")
read("read: with a write key", b"/v1/events", 403, "wrong_scope", key=KEY)
read("read: with a revoked key", b"/v1/events", 401, "invalid_key", key=REVOKED)

# ======================================================================================
# what is stored is valid
a = exchange(request(b"GET", b"/v1/events?limit=1000", key=RKEY))
tap(a is not None and a.status == 200 and a.json is not None,
    "every stored event the read API returns is valid UTF-8 JSON",
    a and a.body[:200])
a = exchange(request(b"GET", b"/v1/errors?limit=1000", key=RKEY))
tap(a is not None and a.status == 200 and a.json is not None and len(a.json.get("errors", [])) > 100,
    "every recorded error the read API returns is valid UTF-8 JSON (and there are many)",
    a and a.body[:200])
tap(sql("SELECT COUNT(*) FROM events WHERE NOT JSON_VALID(data) OR JSON_TYPE(data) <> 'OBJECT'") == "0",
    "every stored data is a JSON object")
tap(sql("SELECT COUNT(*) FROM event_quarantine") == "0", "nothing was quarantined")
print(f"# cases: {len(seen)}")
print(f"# tap_n {tap_n}")
sys.exit(0)
