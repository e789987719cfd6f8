"""Every POST route against hostile input: never a 500, never a traceback in the log, on SQLite and PostgreSQL.

- The routes come from app.url_map, so a route added later is fuzzed without touching this file; /api/ routes
  have their own property tests. The role each route is posted with comes from the permission matrix
  (tests/test_permissions.py: classify() fails on an unclassified route, and so does this test).
- Each route starts from a freshly seeded database (tests/fuzz_world.py: a round with answers, opinions weighed by
  headquarters, a campaign with a letter, items and addressees), so the ids in the path are real.
- The field names are learnt from the app's own pages: every GET page the role may open is read once, and each
  <form> is filed under the path it posts to. Then the route gets deterministic cases (the form as shown; every
  field empty; nothing at all; every field at once with each kind of hostile value; every field twice; raw
  invalid UTF-8 and CESU-8 bytes in urlencoded and multipart bodies; each field alone with a hostile value) and,
  while its share of the time budget lasts, random combinations of them from a seeded generator.
- Hostile values: empty, huge, wrong types, out-of-range ids, unknown choices, duplicated fields, non-characters
  and controls, lone surrogates as raw bytes, impossible and out-of-range dates, hostile files (a zip bomb,
  random bytes, a CP932 CSV, an XLSX with non-characters), and a hostile `next`.
- A case fails on a status >= 500, on an exception, or on any log record at ERROR or with a traceback; a redirect
  to a page of the site is followed once, so a page showing what was just saved is checked too.

Settings (environment): CONSULT_FUZZ_SECONDS (default 150: the time budget per database, setup included; the
deterministic cases always run), CONSULT_FUZZ_SEED (default 8), CONSULT_FUZZ_REPORT (a file to which the table
of routes, roles, cases and results is appended, one table per database).
"""

from __future__ import annotations

import collections
import html.parser
import io
import logging
import os
import random
import struct
import time
import zipfile
import zlib
from datetime import UTC, datetime
from urllib.parse import quote_from_bytes, urljoin, urlsplit

import pytest
from conftest import FakeClock, _empty_tables
from fuzz_world import PASSWORD, seed
from test_permissions import allowed, classify

from consult import create_app
from consult.extensions import db

BUDGET = float(os.environ.get("CONSULT_FUZZ_SECONDS", "150"))
SEED = os.environ.get("CONSULT_FUZZ_SEED", "8")
REPORT = os.environ.get("CONSULT_FUZZ_REPORT")
ROLE_FOR = {
    "public": "anonymous",
    "any": "member",
    "admin": "admin",
    "hq": "staff",
    "viewers": "member",
    "answer": "member",
    "prefecture": "member",  # a target prefecture's officer (issue 10)
    "outcome": "member",
}
NOW = datetime(2025, 3, 10, 1, 0, tzinfo=UTC)


def _post_routes() -> list[tuple[str, str]]:
    """(endpoint, rule) of every POST route but the JSON API's, as the app registers them."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "fuzz", "TESTING": True})
    routes = {
        (rule.endpoint, rule.rule)
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not rule.rule.startswith("/api/")
    }
    return sorted(routes, key=lambda r: r[1])


ROUTES = _post_routes()


# ---------------------------------------------------------------- hostile values

HUGE = "あ" * 200_000
SOME_HUGE = "長" * 30_000
VALUES = {
    "empty": [""],
    "huge": [HUGE, "x" * 100_001, "1" * 5000],
    "wrong_type": ["abc", "1.5", "[]", "{}", "true", "-0", "NaN", "1e309", "0x10", " 1 ", "１２"],
    "out_of_range_id": ["9" * 20, "-1", "0", str(2**31), str(2**63), "²", "١٢", "99999999999"],
    "unknown_choice": ["__nope__", "<script>alert(1)</script>", "../../etc/passwd", "' OR 1=1 --", "%00"],
    "unicode": [
        "\ufffe",
        "\uffff",
        "\ufdd0見出し",
        "\U0010ffff",
        "\U0001fffe",
        "\x00",
        "a\x07b\x1bc",
        "\u202e逆向き",
        "e\u0301" * 500,
        "😀👨‍👩‍👧",
        "\u3000",
        "＝1+1",
        "\r\n=cmd|' /C calc'!A0",
        "\x85\x96",
    ],
    "impossible_date": [
        "2025-02-30T10:00",
        "0001-01-01T00:00",
        "9999-12-31T23:59",
        "2025-13-01T00:00",
        "99999-01-01T00:00",
        "2025-03-17T25:61",
        "1899-12-31",
        "2025-03-17",
        "0000-00-00",
    ],
}
RAW = [
    b"\xed\xa0\x80",
    b"\xed\xbf\xbf\xed\xa0\x80",
    b"\xff\xfe",
    b"\xc0\xaf",
    b"\xe3\x81",
    b"\x80\x80",
    b"a\xf4\x90\x80\x80",
]
CLASSES = [*VALUES, "raw_bytes", "missing", "duplicated"]
HOSTILE_NEXT = ["/%09/evil.example", "//evil.example", "https://evil.example", "/\\evil", "java\tscript:x"]


def _zip_bomb(inflated_mb: int = 150) -> bytes:
    """A small DOCX-looking archive whose document inflates to inflated_mb MB (built without holding it)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(b" " * (1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    stream = block * inflated_mb + compressor.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(inflated_mb):
        crc = zlib.crc32(b" " * (1 << 20), crc)
    name = b"word/document.xml"
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(stream), inflated_mb << 20, len(name), 0)
    central = struct.pack(
        "<4s6H3L5H2L",
        b"PK\x01\x02",
        20,
        20,
        0,
        8,
        0,
        0,
        crc,
        len(stream),
        inflated_mb << 20,
        len(name),
        0,
        0,
        0,
        0,
        0,
        0,
    )
    body = local + name + stream
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central) + len(name), len(body), 0)
    return body + central + name + end


def _xlsx_with_noncharacters() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["番号", "見出し", "本文"])
    workbook.active.append(["1", "見出し", "本文"])
    out = io.BytesIO()
    workbook.save(out)
    data = out.getvalue()
    # Put U+FFFE into the shared strings by rewriting the archive (openpyxl itself refuses to write it).
    source = zipfile.ZipFile(io.BytesIO(data))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.endswith("sheet1.xml") or item.filename.endswith("sharedStrings.xml"):
                content = content.replace("見出し".encode(), "見\ufffe出し".encode())
            archive.writestr(item, content)
    return target.getvalue()


FILES = None


def _files() -> list[tuple[str, bytes]]:
    global FILES
    if FILES is None:
        FILES = [
            ("empty.docx", b""),
            ("bomb.docx", _zip_bomb()),
            ("random.bin", random.Random(SEED).randbytes(4096)),
            ("items.csv", "番号,見出し,本文\n1,人員の確保,本文\n".encode("cp932")),
            ("items.xlsx", _xlsx_with_noncharacters()),
            ("draft.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"),
            ("\ufffe..\\..\\evil.docx", b"PK\x03\x04garbage"),
        ]
    return FILES


# ---------------------------------------------------------------- forms learnt from the pages


class FormParser(html.parser.HTMLParser):
    """The POST forms of a page: action, enctype and fields (name, kind, default value, options)."""

    def __init__(self, base: str):
        super().__init__(convert_charrefs=True)
        self.base, self.forms, self.form, self.textarea, self.select = base, [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            if (a.get("method") or "get").lower() == "post":
                action = urlsplit(urljoin(self.base, a.get("action") or self.base)).path
                self.form = {"action": action, "multipart": "multipart" in (a.get("enctype") or ""), "fields": []}
                self.forms.append(self.form)
            return
        if self.form is None or not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                self._option(name, kind, a.get("value", "on"), "checked" in a)
            else:
                self.form["fields"].append({"name": name, "kind": kind, "value": a.get("value", ""), "options": []})
        elif tag == "textarea":
            self.textarea = {"name": name, "kind": "textarea", "value": "", "options": []}
            self.form["fields"].append(self.textarea)
        elif tag == "select":
            self.select = {"name": name, "kind": "select", "value": None, "options": []}
            self.form["fields"].append(self.select)
        elif tag == "button":
            self._option(name, "button", a.get("value", ""), False)
        if tag == "option" and self.select is not None:
            pass

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None

    def _option(self, name, kind, value, checked):
        for field in self.form["fields"]:
            if field["name"] == name and field["kind"] == kind:
                field["options"].append(value)
                if checked:
                    field["value"] = value
                return
        self.form["fields"].append(
            {"name": name, "kind": kind, "value": value if checked else None, "options": [value]}
        )


class _Options(html.parser.HTMLParser):
    """Option values of the selects (the form parser above files fields; this fills their choices)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.current, self.options, self.selected = None, collections.defaultdict(list), {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "select":
            self.current = a.get("name")
        elif tag == "option" and self.current:
            self.options[self.current].append(a.get("value", ""))
            if "selected" in a:
                self.selected[self.current] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self.current = None


def learn_forms(page: str, url: str) -> list[dict]:
    parser, options = FormParser(url), _Options()
    parser.feed(page)
    options.feed(page)
    for form in parser.forms:
        for field in form["fields"]:
            if field["kind"] == "select":
                field["options"] = options.options.get(field["name"], [])
                field["value"] = options.selected.get(field["name"], (field["options"] or [""])[0])
    return parser.forms


# ---------------------------------------------------------------- bodies


def _encode(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")


def urlencoded(pairs, raw: bool = False) -> bytes:
    """key=value&… with every byte percent-encoded, or (raw) the bytes as they are."""
    if raw:
        return b"&".join(_encode(k) + b"=" + _encode(v) for k, v in pairs)
    return b"&".join(
        quote_from_bytes(_encode(k), safe="").encode() + b"=" + quote_from_bytes(_encode(v), safe="").encode()
        for k, v in pairs
    )


def multipart(pairs, files) -> tuple[bytes, str]:
    boundary = "fuzzboundary7MA4YWxkTrZu0gW"
    out = io.BytesIO()
    for name, value in pairs:
        out.write(
            b"--" + boundary.encode() + b'\r\nContent-Disposition: form-data; name="' + _encode(name) + b'"\r\n\r\n'
        )
        out.write(_encode(value) + b"\r\n")
    for name, (filename, data) in files:
        out.write(
            b"--" + boundary.encode() + b'\r\nContent-Disposition: form-data; name="' + _encode(name) + b'"; filename="'
        )
        out.write(_encode(filename) + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + data + b"\r\n")
    out.write(b"--" + boundary.encode() + b"--\r\n")
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


class Case:
    """One request: what it does (for the report), pairs, files, encoding, query string."""

    def __init__(self, what, pairs, files=(), encoding="urlencoded", query=""):
        self.what, self.pairs, self.files, self.encoding, self.query = what, list(pairs), list(files), encoding, query


def baseline(fields, rng) -> list[tuple[str, object]]:
    """The form as the page shows it: defaults, one of the named buttons."""
    pairs = []
    buttons = [f for f in fields if f["kind"] in ("button", "submit") and f["options"]]
    for field in fields:
        if field["kind"] in ("button", "submit", "file"):
            continue
        if field["kind"] in ("checkbox",):
            if field["value"] is not None:
                pairs.append((field["name"], field["value"]))
            continue
        if field["kind"] == "radio":
            pairs.append((field["name"], field["value"] if field["value"] is not None else field["options"][0]))
            continue
        pairs.append((field["name"], field["value"] if field["value"] is not None else ""))
    if buttons:
        button = rng.choice(buttons)
        pairs.append((button["name"], rng.choice(button["options"])))
    return pairs


def hostile(kind: str, rng, field=None):
    if kind == "raw_bytes":
        return rng.choice(RAW) + (b"x" if rng.random() < 0.5 else b"")
    if kind == "unknown_choice" and field and field.get("options"):
        return rng.choice(VALUES["unknown_choice"])
    return rng.choice(VALUES[kind])


def mutate(pairs, names, kind, rng, fields_by_name):
    """The pairs with the named fields given a hostile value of one kind (or left out, or sent twice)."""
    out = []
    for name, value in pairs:
        if name not in names:
            out.append((name, value))
        elif kind == "missing":
            continue
        elif kind == "duplicated":
            out += [(name, value), (name, hostile(rng.choice(list(VALUES)), rng))]
        else:
            out.append((name, hostile(kind, rng, fields_by_name.get(name))))
    return out


def cases_for(fields, multipart_form, rng, file_fields):
    """The deterministic cases of a route, then an endless supply of random ones."""
    by_name = {f["name"]: f for f in fields}
    base = baseline(fields, rng)
    names = [name for name, _ in base]
    encoding = "multipart" if multipart_form else "urlencoded"

    def files(kind="baseline"):
        if not file_fields:
            return []
        chosen = _files()[3:4] if kind == "baseline" else [rng.choice(_files())]
        return [(name, chosen[0]) for name in file_fields]

    yield Case("the form as shown", base, files(), encoding)
    yield Case("every field empty", [(n, "") for n in names], files("hostile"), encoding)
    yield Case("nothing posted", [], (), "urlencoded")
    for kind in [*VALUES, "duplicated"]:
        yield Case(f"every field {kind}", mutate(base, set(names), kind, rng, by_name), files("hostile"), encoding)
    raw = mutate(base, set(names), "raw_bytes", rng, by_name) + [(b"\xed\xa0\x80name", b"\xff")]
    yield Case("raw invalid UTF-8 / CESU-8, percent-encoded", raw, (), "urlencoded")
    yield Case("raw invalid UTF-8 / CESU-8, as bytes", raw, (), "raw")
    yield Case("raw invalid UTF-8 / CESU-8, multipart", raw, files("hostile"), "multipart")
    for index, name in enumerate(names):
        kind = CLASSES[index % len(CLASSES)]
        yield Case(f"{name} {kind}", mutate(base, {name}, kind, rng, by_name), files(), encoding)
    for filename, data in _files() if file_fields else ():
        yield Case(f"file {filename!r}", base, [(n, (filename, data)) for n in file_fields], "multipart")
    while True:
        chosen = set(rng.sample(names, k=rng.randint(1, len(names)))) if names else set()
        pairs = mutate(base, chosen, rng.choice(CLASSES), rng, by_name)
        if rng.random() < 0.2:
            pairs.append((rng.choice(names or ["x"]), SOME_HUGE))
        query = "next=" + quote_from_bytes(_encode(rng.choice(HOSTILE_NEXT)), safe="") if rng.random() < 0.15 else ""
        enc = rng.choice(["urlencoded", "raw", "multipart"]) if not multipart_form else "multipart"
        yield Case("random", pairs, files("hostile") if file_fields else (), enc, query)


# ---------------------------------------------------------------- the run


class LogCatcher(logging.Handler):
    """Every record at ERROR or above, or with a traceback, from any logger."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records = []

    def emit(self, record):
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)


class Run:
    """The app, the clock, the time budget and what every route gave, shared by the module's tests."""

    def __init__(self, database_url: str):
        self.url = database_url
        self.clock = FakeClock(NOW)
        self.app = create_app(
            {
                "TESTING": True,
                "PROPAGATE_EXCEPTIONS": False,  # an exception becomes a logged 500, which fails the case
                "SQLALCHEMY_DATABASE_URI": database_url,
                "SECRET_KEY": "fuzz",
                "WTF_CSRF_ENABLED": False,  # the fuzzer reaches the code behind the token
                "CLOCK": self.clock,
                "RATELIMIT_STORAGE_URI": "memory://",
            }
        )
        self.started = time.monotonic()
        self.results = []
        self.forms: dict[str, dict[str, list[dict]]] = {}  # role -> action path -> fields
        self.logs = LogCatcher()
        # Alembic's fileConfig (any test that migrated) disables the loggers that existed then: listen to the
        # app's logger itself, enabled again, as well as to the root.
        self.app.logger.disabled = False
        self.app.logger.addHandler(self.logs)
        self.app.logger.propagate = False
        logging.getLogger().addHandler(self.logs)
        self.done = 0
        self.fixed: list[float] = []  # seconds of each route's fixed part

    def share(self, fixed: float) -> float:
        """Seconds of random cases this route may spend: what the budget leaves once the routes still to come
        have had their fixed part (seeding, logging in, the deterministic cases: as long as this one's took),
        shared evenly between this route and them."""
        routes_left = max(1, len(ROUTES) - self.done)
        self.fixed.append(fixed)
        average = sum(self.fixed) / len(self.fixed)
        left = BUDGET - (time.monotonic() - self.started) - average * (routes_left - 1)
        return max(0.0, left / routes_left)

    def seed(self) -> dict:
        _empty_tables(self.url)
        self.clock.set(NOW)
        with self.app.app_context():
            world = seed(self.clock)
            db.session.remove()
        return world

    def client(self, role: str, world: dict, address: str):
        client = self.app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        if role != "anonymous":
            response = client.post("/login", data={"login": world["users"][role], "password": PASSWORD})
            assert response.status_code == 302, f"{role} cannot log in to fuzz"
        return client

    def learn(self, role: str, world: dict, address: str) -> dict[str, list[dict]]:
        """Every form on every GET page the role may open, filed by the path it posts to (read once per role)."""
        if role in self.forms:
            return self.forms[role]
        client, found = self.client(role, world, address), {}
        for rule in self.app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static" or rule.rule.startswith("/api/"):
                continue
            if not allowed(classify(rule.endpoint), role) and rule.endpoint != "auth.login":
                continue
            try:
                url = build(rule, world)
            except KeyError:
                continue
            response = client.get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            for form in learn_forms(response.get_data(as_text=True), url):
                found.setdefault(form["action"], []).append(form)
        self.forms[role] = found
        return found


def build(rule, world) -> str:
    """The rule's path with the seeded ids (a new argument name must be given an id in fuzz_world.seed)."""
    ids = world["letter_ids"] if rule.endpoint.startswith(("letters.", "followup.")) else world["ids"]
    missing = set(rule.arguments) - set(ids)
    if missing:
        raise KeyError(f"no seeded id for {sorted(missing)} of {rule.rule}: add one in tests/fuzz_world.py")
    return rule.build({name: ids[name] for name in rule.arguments})[1]


@pytest.fixture(scope="module")
def run(database_url):
    state = Run(database_url)
    yield state
    logging.getLogger().removeHandler(state.logs)
    state.app.logger.removeHandler(state.logs)
    with state.app.app_context():
        db.engine.dispose()
    _empty_tables(database_url)
    if REPORT:
        _write_report(state, database_url)


def _write_report(state: Run, database_url: str) -> None:
    name = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    lines = [
        f"\n### {name}: {len(state.results)} routes, {sum(r['cases'] for r in state.results)} cases, "
        f"{time.monotonic() - state.started:.0f} s (budget {BUDGET:.0f} s, seed {SEED})\n",
        "| route | role | cases | statuses | result |",
        "|---|---|---|---|---|",
    ]
    for r in state.results:
        statuses = ", ".join(f"{code}×{n}" for code, n in sorted(r["statuses"].items()))
        result = "pass" if not r["failures"] else f"FAIL ({len(r['failures'])})"
        lines.append(f"| `POST {r['rule']}` ({r['endpoint']}) | {r['role']} | {r['cases']} | {statuses} | {result} |")
    with open(REPORT, "a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


@pytest.mark.parametrize("endpoint, rule_text", ROUTES, ids=[endpoint for endpoint, _rule in ROUTES])
def test_post_route_survives_hostile_input(run, endpoint, rule_text):
    kind = classify(endpoint)  # fails loudly for a route the permission matrix does not know
    role = ROLE_FOR[kind]
    assert allowed(kind, role), f"{role} may not use {endpoint}"
    rule = next(r for r in run.app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == rule_text)
    index = ROUTES.index((endpoint, rule_text))
    address = f"10.8.{index // 250}.{index % 250 + 1}"  # each route its own address: throttling never leaks
    rng = random.Random(f"{SEED}:{endpoint}")
    began = time.monotonic()
    world = run.seed()
    forms = run.learn(role, world, address)
    url = build(rule, world)
    path = urlsplit(url).path
    fields = [field for form in forms.get(path, []) for field in form["fields"]]
    multipart_form = any(form["multipart"] for form in forms.get(path, []))
    file_fields = sorted({f["name"] for f in fields if f["kind"] == "file"})
    fields = [f for f in fields if f["kind"] != "file"]
    client = run.client(role, world, address)
    statuses, failures, count = collections.Counter(), [], 0
    deadline = None
    for case in cases_for(fields, multipart_form, rng, file_fields):
        if case.what == "random":
            if deadline is None:
                deadline = time.monotonic() + run.share(time.monotonic() - began)
            if time.monotonic() >= deadline:
                break
        count += 1
        status, problem = _post(run, client, url, case)
        statuses[status] += 1
        if problem:
            failures.append(f"{case.what} ({case.encoding}{', ?' + case.query if case.query else ''}): {problem}")
        if status == 302 and role != "anonymous" and not _logged_in(client):
            client = _relogin(run, role, address)  # logged out, or the password changed by the case itself
    run.done += 1
    run.results.append(
        {
            "endpoint": endpoint,
            "rule": rule_text,
            "role": role,
            "cases": count,
            "statuses": statuses,
            "failures": failures,
        }
    )
    assert not failures, f"{endpoint}: {len(failures)} of {count} cases failed:\n" + "\n".join(failures[:10])


def _post(run: Run, client, url: str, case: Case) -> tuple[int, str | None]:
    """Send one case (and follow a local redirect once); the status and what went wrong, if anything."""
    if case.encoding == "multipart" or case.files:
        body, content_type = multipart(case.pairs, case.files)
    else:
        body, content_type = urlencoded(case.pairs, raw=case.encoding == "raw"), "application/x-www-form-urlencoded"
    target = url + ("?" + case.query if case.query else "")
    before = len(run.logs.records)
    try:
        response = client.open(target, method="POST", data=body, content_type=content_type)
        status = response.status_code
        response.get_data()
        location = response.headers.get("Location", "")
        if status in (301, 302, 303) and location.startswith("/") and not location.startswith("//"):
            followed = client.get(location)
            followed.get_data()
            if followed.status_code >= 500:
                return status, f"the page it redirected to answered {followed.status_code}"
    except Exception as exc:  # noqa: BLE001  an exception that got through is a failure like a 500
        return 0, f"{type(exc).__name__}: {exc}"
    if status >= 500:
        return status, f"answered {status}" + _log_tail(run, before)
    if len(run.logs.records) > before:
        return status, "logged" + _log_tail(run, before)
    return status, None


def _log_tail(run: Run, before: int) -> str:
    records = run.logs.records[before:]
    if not records:
        return ""
    record = records[-1]
    text = record.getMessage()
    if record.exc_info:
        text += f" — {record.exc_info[0].__name__}: {record.exc_info[1]}"
    return f": {text[:300]}"


def _logged_in(client) -> bool:
    response = client.get("/password")
    return response.status_code == 200


def _relogin(run: Run, role: str, address: str):
    world = run.seed()  # whatever the case did to the account (a new password, disabled) is undone
    return run.client(role, world, address)
