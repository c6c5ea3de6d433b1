#!/usr/bin/python3
"""validate.py - hold recorded HTTP answers of The Eye to docs/openapi.yaml.

Usage: validate.py SPEC MANIFEST

MANIFEST has one JSON object per line, one per request the contract test
(tests/integration/openapi.sh) sent to the running stack:
  {"desc": "...", "method": "POST", "path": "/v1/events",
   "headers_file": "...", "body_file": "..."}   (curl -D / -o), or
  {"desc": "...", "method": "POST", "path": "/v1/events", "cgi_file": "..."}
   (a FastCGI answer as cgi-fcgi prints it: CGI headers, blank line, body).

For each answer: the operation is found from the spec's paths (or the
document's x-eye-other-requests for unknown paths, other methods and
over-long paths), the status must be documented for it, the documented
required headers must be there, the Content-Type must be one it documents,
and the body (each line of NDJSON) is validated against the documented
schema with a JSON Schema 2020-12 validator (python3-jsonschema), $refs
resolved in the spec itself. Then every documented status of every
operation must have been seen at least once.

Prints one line per check, tab-separated, for the shell test to count:
  ok<TAB>description
  not ok<TAB>description<TAB>why
  todo<TAB>description<TAB>why      (fails only because error.pointer is
                                     null; see openapi.sh)
and "seen-code<TAB>CODE" for every per-event error code seen.
"""
import json
import re
import sys

import jsonschema
import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def load_spec(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def deref(spec, node):
    """Follows a local $ref (response objects may be references)."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError("only local references are supported: " + ref)
        node = spec
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def path_regex(template):
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


def find_path(spec, path):
    """Returns the spec's path template for a request path, literal first."""
    paths = spec["paths"]
    if path in paths:
        return path
    for template in paths:
        if "{" in template and path_regex(template).match(path):
            return template
    return None


def read_answer(entry):
    """Returns (status, headers as a lower-cased dict, body bytes)."""
    if "cgi_file" in entry:
        with open(entry["cgi_file"], "rb") as f:
            raw = f.read()
        sep = raw.find(b"\r\n\r\n")
        head, body = (raw[:sep], raw[sep + 4:]) if sep >= 0 else (raw, b"")
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        status = int(headers.get("status", "200").split()[0])
        return status, headers, body
    with open(entry["headers_file"], "rb") as f:
        blocks = [b for b in f.read().decode("latin-1").replace("\r\n", "\n").split("\n\n") if b.strip()]
    lines = blocks[-1].split("\n")  # the final answer (not a 100 Continue)
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    with open(entry["body_file"], "rb") as f:
        body = f.read()
    return status, headers, body


def pointer_null_only(errors):
    """True when every error is about error.pointer being null."""
    return bool(errors) and all(
        len(e.absolute_path) >= 2 and list(e.absolute_path)[-2:] == ["error", "pointer"] and e.instance is None
        for e in errors)


def describe(errors):
    out = []
    for e in errors[:3]:
        where = "/" + "/".join(str(p) for p in e.absolute_path)
        out.append("%s: %s" % (where, e.message[:200]))
    return "; ".join(out)


def main():
    spec = load_spec(sys.argv[1])
    resolver = jsonschema.RefResolver(base_uri="", referrer=spec)
    checker = jsonschema.FormatChecker()
    other = spec.get("x-eye-other-requests", {})

    documented = {}  # (operation id, status) -> seen?
    for template, item in spec["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            for status in op["responses"]:
                documented[(op["operationId"], str(status))] = False
    for name, fallback in other.items():
        documented[("x-eye-other-requests." + name, str(fallback["status"]))] = False

    seen_codes = set()
    with open(sys.argv[2], encoding="utf-8") as f:
        entries = [json.loads(line) for line in f if line.strip()]
    for entry in entries:
        desc = entry["desc"]
        method = entry["method"].lower()
        try:
            status, headers, body = read_answer(entry)
        except (OSError, ValueError, IndexError) as e:
            print("not ok\t%s\tno answer recorded (%s)" % (desc, e))
            continue
        template = find_path(spec, entry["path"])
        op = spec["paths"][template].get(method) if template else None
        if op is None and template and method == "head":
            op = spec["paths"][template].get("get")
        response = None
        if op is not None and str(status) in op["responses"]:
            name = op["operationId"]
            response = deref(spec, op["responses"][str(status)])
        else:
            if template is None:
                kind = "unknownPath"
            elif op is None:
                kind = "methodNotAllowed"
            else:
                kind = None
            if len(entry["path"]) > 1023 and status == other.get("uriTooLong", {}).get("status"):
                kind = "uriTooLong"
            fallback = other.get(kind) if kind else None
            if fallback is None or fallback["status"] != status:
                where = op["operationId"] if op else (template or entry["path"])
                print("not ok\t%s\tstatus %d is not documented for %s %s" % (desc, status, method.upper(), where))
                continue
            name = "x-eye-other-requests." + kind
            response = deref(spec, fallback["response"])
        documented[(name, str(status))] = True

        problems = []
        for header, h in (response.get("headers") or {}).items():
            h = deref(spec, h)
            if h.get("required") and header.lower() not in headers:
                problems.append("header %s is missing" % header)
        content = response.get("content")
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        values = []
        if not content:
            if body.strip() and method != "head":
                problems.append("a body where none is documented")
        elif method == "head":
            pass  # no body to hold to the schema
        elif media not in content:
            problems.append("Content-Type %r is not one of %s" % (media, ", ".join(content)))
        else:
            schema = content[media].get("schema", {})
            try:
                text = body.decode("utf-8")
                if media in ("application/x-ndjson", "application/jsonl"):
                    values = [json.loads(line) for line in text.split("\n") if line.strip()]
                else:
                    values = [json.loads(text)]
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                problems.append("the body is not %s: %s" % (media, e))
                values = []
            validator = jsonschema.Draft202012Validator(schema, resolver=resolver, format_checker=checker)
            all_errors = []
            for v in values:
                all_errors.extend(validator.iter_errors(v))
                if isinstance(v, dict):
                    for e in v.get("errors", []) if isinstance(v.get("errors"), list) else []:
                        if isinstance(e, dict) and "index" in e and "code" in e:
                            seen_codes.add(e["code"])
            if all_errors and not problems and pointer_null_only(all_errors):
                print("todo\t%s: %s %d%s\terror.pointer is null, the spec says a string" %
                      (desc, name, status, " " + media if media else ""))
                continue
            if all_errors:
                problems.append("schema: " + describe(all_errors))
        label = "%s: %s %d%s" % (desc, name, status, " " + media if media and content and method != "head" else "")
        if problems:
            print("not ok\t%s\t%s" % (label, "; ".join(problems)))
        else:
            print("ok\t%s" % label)

    for (name, status), seen in sorted(documented.items()):
        if seen:
            print("ok\tdocumented answer exercised: %s %s" % (name, status))
        else:
            print("not ok\tdocumented answer exercised: %s %s\tno request produced it" % (name, status))
    for code in sorted(seen_codes):
        print("seen-code\t%s" % code)


if __name__ == "__main__":
    main()
