"""Bad input to every write and upload operation of the OpenAPI schema: a fixed
corpus (truncated files, wrong encodings, huge fields, deep JSON, NaN and
infinities, out-of-range dates and integers, SQL and HTML metacharacters, path
traversal in file names, empty bodies) and hypothesis properties for the
ingestion upload and the dataset API.

Every answer is a 4xx naming the problem (never a 5xx), and a refused request
leaves the database exactly as it was (db_fingerprint: row counts and a hash
of every row). Operations come from the schema, so a new endpoint is covered
with no new code; path parameters are real objects of the isolation world.
"""
import contextlib
import json

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from registry.choices import Role
from registry.models import Example, IngestionJob

from .factories import make_user
from .isolation import build_world_a
from .reliability_helpers import db_fingerprint, fingerprint_diff, known_path_parameters, record_figure

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch")
REFUSALS = {400, 403, 404, 405, 409, 413, 415}
# Failed logins (the token endpoint) are counted on purpose: that is the lockout.
LOGIN_RECORDS = {"axes.AccessAttempt", "axes.AccessFailureLog", "axes.AccessLog"}

SQL = "'; DROP TABLE registry_dataset; -- \" OR 1=1"
HTML = "<script>alert('x')</script><img src=x onerror=alert(1)>"
HUGE = "x" * 300_000
BAD_DATES = ["10000-01-01", "0000-00-00", "2025-02-30", "-0001-01-01T00:00:00Z", "2025-13-01T25:61:61"]
BAD_NUMBERS = ["NaN", "Infinity", "-Infinity", str(2**63), "1e400"]
DEEP = b"[" * 100_000 + b"]" * 100_000

RAW_BODIES = {
    "empty body": b"",
    "truncated JSON": b'{"name": "trunc',
    "latin-1 bytes": '{"name": "caf\xe9", "slug": "caf\xe9"}'.encode("latin-1"),
    "UTF-16 bytes": json.dumps({"name": "x"}).encode("utf-16"),
    "deeply nested JSON": DEEP,
    "JSON array instead of object": b"[1, 2, 3]",
    "NUL bytes": b'{"name": "a\\u0000b"}',
    "over the request size limit": b'{"name": "' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + b'"}',
}

GOOD_JSONL = b'{"text": "Where is my refund?", "label": "refund", "origin": "synthetic"}\n'
FILES = {
    "truncated JSONL": ("cut.jsonl", GOOD_JSONL + b'{"text": "unterminated'),
    "latin-1 CSV": ("latin1.csv", "text,label,origin\ncaf\xe9 cr\xe8me,refund,synthetic\n".encode("latin-1")),
    "UTF-16 JSONL": ("utf16.jsonl", GOOD_JSONL.decode().encode("utf-16")),
    "truncated Parquet": ("cut.parquet", b"PAR1\x15\x04\x15\x10\x15\x14L\x15\x02\x15\x00"),
    "empty file": ("empty.jsonl", b""),
    "binary garbage": ("garbage.csv", bytes(range(256)) * 64),
    "path traversal name": ("../../../../etc/passwd.jsonl", GOOD_JSONL),
    "Windows traversal name": ("..\\..\\..\\boot.ini.csv", b"text,label,origin\nhi,refund,synthetic\n"),
    "HTML in file name": ('<img src=x onerror=alert(1)>.jsonl', GOOD_JSONL),
    "huge field": ("huge.jsonl", b'{"text": "' + b"y" * 2_000_000 + b'", "label": "refund", "origin": "synthetic"}\n'),
}


def write_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in sorted(schema["paths"].items()):
        for method, operation in operations.items():
            if method in WRITE_METHODS:
                yield path, method, operation, schema


def deref(schema, node):
    """Follow $ref (and a single allOf) to the schema object."""
    for _ in range(10):
        if isinstance(node, dict) and "$ref" in node:
            target = schema
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        elif isinstance(node, dict) and len(node.get("allOf", [])) == 1:
            node = node["allOf"][0]
        else:
            return node
    return node


def body_properties(schema, operation, media_type):
    content = (operation.get("requestBody") or {}).get("content", {})
    if media_type not in content:
        return None
    properties = deref(schema, content[media_type]["schema"]).get("properties", {})
    return {name: deref(schema, prop) for name, prop in properties.items()}


def field_corpus(properties):
    """(case name, JSON text, free text?): each corruption applied to every
    writable property of its type at once. Free text may legitimately accept
    metacharacters or a long value; typed corruption never."""
    writable = {name: prop for name, prop in properties.items() if not prop.get("readOnly")}
    if not writable:
        return
    strings = [name for name, prop in writable.items() if prop.get("type") == "string" and "format" not in prop]
    numbers = [name for name, prop in writable.items() if prop.get("type") in ("number", "integer")]
    dates = [name for name, prop in writable.items() if prop.get("format") in ("date", "date-time")]
    for case, value in (("SQL metacharacters", SQL), ("HTML metacharacters", HTML), ("huge values", HUGE)):
        if strings:
            yield case, json.dumps(dict.fromkeys(strings, value)), True
    yield "objects instead of values", json.dumps(dict.fromkeys(writable, {"$gt": ""})), False
    for number in BAD_NUMBERS:
        if numbers:
            yield f"numbers {number}", "{" + ", ".join(f'"{name}": {number}' for name in numbers) + "}", False
    for date in BAD_DATES:
        if dates:
            yield f"dates {date}", json.dumps(dict.fromkeys(dates, date)), False


def assert_refusal_names_the_problem(response):
    """A refusal is a JSON object whose keys name the fields at fault (with
    their messages) or whose detail says what is wrong."""
    assert response.status_code in REFUSALS, f"answered {response.status_code}"
    answer = response.json()
    assert isinstance(answer, dict) and any(answer.values()), f"{response.status_code} without a message: {answer}"


class Corpus:
    """Sends the cases, checks each answer, and checks the database after each
    operation's refused cases: unchanged since the last accepted request (a
    fingerprint per request would cost 88 tables twice per request)."""

    def __init__(self, client):
        self.client, self.sent, self.failures = client, 0, []
        self.baseline, self.refused = db_fingerprint(exclude=LOGIN_RECORDS), []

    def send(self, case, method, url, *, accepted=None, around=contextlib.nullcontext, **kwargs):
        if accepted is not None:
            self.check_database()  # the refusals so far, before a request that may change it
        with around():
            response = getattr(self.client, method)(url, **kwargs)
        self.sent += 1
        label = f"{method.upper()} {url} {case}"
        try:
            assert response.status_code < 500, f"server error {response.status_code}"
            if response.status_code < 300:
                # Accepted input (e.g. metacharacters in free text) must be legitimate for this case.
                assert accepted is not None and accepted(response), f"accepted with {response.status_code}"
                self.baseline = db_fingerprint(exclude=LOGIN_RECORDS)
            else:
                assert_refusal_names_the_problem(response)
                self.refused.append(label)
        except AssertionError as error:
            self.failures.append(f"{label}: {error}")
        return response

    def check_database(self):
        changed = fingerprint_diff(self.baseline, db_fingerprint(exclude=LOGIN_RECORDS))
        if changed:
            self.failures.append(f"one of {self.refused} was refused but changed {changed}")
            self.baseline = db_fingerprint(exclude=LOGIN_RECORDS)
        self.refused = []


@pytest.fixture
def world():
    return build_world_a()


@pytest.fixture
def member_client(world):
    member = make_user("bad-input-member", tenant=world.tenant, roles=[Role.CONTRIBUTOR, Role.GOVERNANCE_REVIEWER])
    client = APIClient()
    client.force_authenticate(member)
    client.raise_request_exception = False
    return client


def url_for(path, known):
    params = known.get(path) or {}
    url = path
    for name in (part.strip("{}") for part in path.split("/") if part.startswith("{")):
        url = url.replace("{" + name + "}", str(params.get(name, 999999)))
    return url


def free_text_accepted(response):
    return response.status_code < 300


def test_json_write_operations_refuse_bad_input(world, member_client):
    operations = list(write_operations())
    known = known_path_parameters({path for path, *_ in operations}, world)
    corpus = Corpus(member_client)
    for path, method, operation, schema in operations:
        url = url_for(path, known)
        for case, raw in RAW_BODIES.items():
            # An empty body is a legitimate no-op PATCH or an action whose fields are all optional.
            accepted = free_text_accepted if case == "empty body" else None
            corpus.send(case, method, url, data=raw, content_type="application/json", accepted=accepted)
        properties = body_properties(schema, operation, "application/json") or {}
        for case, text, free_text in field_corpus(properties):
            corpus.send(case, method, url, data=text, content_type="application/json",
                        accepted=free_text_accepted if free_text else None)
        corpus.check_database()
    record_figure("bad_input_json", {"requests": corpus.sent, "operations": len(operations)})
    assert not corpus.failures, "\n".join(corpus.failures)


def test_uploads_refuse_bad_files(world, member_client, django_capture_on_commit_callbacks):
    operations = [(path, method, operation, schema) for path, method, operation, schema in write_operations()
                  if any(prop.get("format") == "binary"
                         for prop in (body_properties(schema, operation, "multipart/form-data") or {}).values())]
    assert any(path == "/api/ingestion-jobs/" for path, *_ in operations), "the upload operations were not found"
    known = known_path_parameters({path for path, *_ in operations}, world)
    corpus = Corpus(member_client)
    examples_before = Example.objects.count()
    for path, method, operation, schema in operations:
        properties = body_properties(schema, operation, "multipart/form-data")
        file_field = next(name for name, prop in properties.items() if prop.get("format") == "binary")
        fields = {name: world.version.pk for name in properties if name == "version"}
        for case, (file_name, content) in FILES.items():
            upload = SimpleUploadedFile(file_name, content)
            # The eager ingestion task is sent on commit: run it before judging the answer.
            corpus.send(f"{case} ({file_field})", method, url_for(path, known), format="multipart",
                        data={**fields, file_field: upload}, accepted=upload_is_safe,
                        around=lambda: django_capture_on_commit_callbacks(execute=True))
        corpus.check_database()
    assert Example.objects.count() >= examples_before
    record_figure("bad_input_files", {"requests": corpus.sent, "operations": len(operations)})
    assert not corpus.failures, "\n".join(corpus.failures)


def upload_is_safe(response):
    """An accepted upload keeps no path in its file name; a queued ingestion
    (run eagerly here) either failed naming the problem and wrote no example,
    or succeeded and wrote every row, its file under MEDIA_ROOT."""
    answer = response.json()
    if "/" in answer.get("file_name", "") or "\\" in answer.get("file_name", ""):
        return False
    if "rows_written" not in answer:
        return True
    job = IngestionJob.objects.get(pk=answer["id"])
    stored = (settings.MEDIA_ROOT / job.stored_path).resolve()
    inside = str(stored).startswith(str(settings.MEDIA_ROOT.resolve())) and "/" not in job.file_name
    written = Example.objects.filter(version=job.version).count()
    if job.status == "failed":
        return inside and job.errors and job.rows_written == 0
    return inside and job.status == "succeeded" and written >= job.rows_written > 0


JSON_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=300),
    st.lists(st.text(max_size=20), max_size=3), st.dictionaries(st.text(max_size=10), st.integers(), max_size=3),
)
PROPERTY_SETTINGS = hypothesis_settings(max_examples=25, deadline=None, derandomize=True, database=None,
                                        suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                               HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(body=st.dictionaries(st.sampled_from(["slug", "name", "tenant", "kind", "modality", "description",
                                              "owner", "id"]), JSON_VALUES, max_size=6))
def test_property_dataset_writes_are_created_whole_or_refused_naming_a_field(world, member_client, body):
    before = db_fingerprint(exclude=LOGIN_RECORDS)
    response = member_client.post("/api/datasets/", body, format="json")
    assert response.status_code in REFUSALS | {201}, (body, response.status_code)
    if response.status_code == 201:
        return
    assert_refusal_names_the_problem(response)
    assert not fingerprint_diff(before, db_fingerprint(exclude=LOGIN_RECORDS)), body


LINE = st.one_of(
    st.fixed_dictionaries({"text": st.text(max_size=80)},
                          optional={"label": st.text(max_size=10), "origin": st.sampled_from(["synthetic", "real", "x"])}
                          ).map(lambda row: json.dumps(row).encode()),
    st.binary(max_size=80),
)


@PROPERTY_SETTINGS
@given(lines=st.lists(LINE, max_size=6), name=st.sampled_from(["rows.jsonl", "rows.csv", "rows.parquet", "rows.txt"]))
def test_property_ingestion_is_whole_or_nothing(world, member_client, django_capture_on_commit_callbacks, lines, name):
    upload = SimpleUploadedFile(name, b"\n".join(lines))
    before = Example.objects.filter(version=world.version).count()
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post("/api/ingestion-jobs/", {"version": world.version.pk, "file": upload},
                                      format="multipart")
    assert response.status_code in REFUSALS | {202}, response.status_code
    if response.status_code != 202:
        assert_refusal_names_the_problem(response)
        assert Example.objects.filter(version=world.version).count() == before
        return
    job = IngestionJob.objects.get(pk=response.json()["id"])
    after = Example.objects.filter(version=world.version).count()
    assert job.status in ("failed", "succeeded"), job.status
    if job.status == "failed":
        assert job.errors and after == before, (job.errors, after, before)
    else:
        assert after == before + job.rows_written
