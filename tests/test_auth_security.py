"""Authentication and deployment: login lockout, token and session auth on the
API, CSRF on session-authenticated writes and on every form page, production
cookie/HSTS settings, uploads outside the web root with size limits, and no
secret in the repository."""
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import get_resolver, reverse
from rest_framework.test import APIClient

from .isolation import ROUTE_KWARGS, build_world_a
from .reliability_helpers import record_figure
from .test_tenant_isolation import kwargs_names, walk

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "pw-Careful-123"


@pytest.mark.django_db
def test_login_locks_out_after_repeated_failures(alice):
    client = Client()
    statuses = [client.post(reverse("login"), {"username": "alice", "password": "wrong"}).status_code
                for _ in range(settings.AXES_FAILURE_LIMIT)]
    # The failure that reaches the limit is already answered with the lockout.
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    # Locked: even the right password is refused now, and the API token endpoint agrees.
    locked = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert locked.status_code in (403, 429) and "_auth_user_id" not in client.session
    token = APIClient().post(reverse("api-token"), {"username": "alice", "password": PASSWORD}, format="json")
    assert token.status_code in (400, 403, 429) and "token" not in token.content.decode()


@pytest.mark.django_db
def test_token_and_session_auth_on_the_api(alice, dataset_a):
    token = APIClient().post(reverse("api-token"), {"username": "alice", "password": PASSWORD}, format="json")
    assert token.status_code == 200
    client = APIClient()
    assert client.get("/api/datasets/").status_code in (401, 403)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    assert client.get("/api/datasets/").json()["count"] == 1
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert bad.get("/api/datasets/").status_code in (401, 403)

    session = Client()
    assert session.post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code == 302
    assert session.get("/api/datasets/").json()["count"] == 1


@pytest.mark.django_db
def test_session_authenticated_api_writes_need_the_csrf_token(alice, tenant_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    body = json.dumps({"tenant": tenant_a.slug, "slug": "csrf-probe", "name": "x", "kind": "synthetic",
                       "modality": "text"})
    refused = client.post("/api/datasets/", body, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.content.decode()
    client.get(reverse("catalog"))  # sets the csrftoken cookie
    allowed = client.post("/api/datasets/", body, content_type="application/json",
                          HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert allowed.status_code == 201, allowed.content
    # A token is not ambient (a browser never sends it by itself): no CSRF token needed.
    token_client = APIClient(enforce_csrf_checks=True)
    token_client.credentials(HTTP_AUTHORIZATION=f"Token {_token(alice)}")
    assert token_client.get("/api/datasets/").status_code == 200


def _token(user):
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0].key


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self.forms.append(attrs.get("action") or "")


def page_urls(world):
    for route, name, namespace in walk(get_resolver().url_patterns):
        if namespace == "admin" or route.startswith("api/") or "format" in route:
            continue
        if kwargs_names(route) and name not in ROUTE_KWARGS:
            continue
        yield reverse(name, kwargs=ROUTE_KWARGS[name](world) if kwargs_names(route) else None)


@pytest.mark.django_db
def test_every_form_page_refuses_a_post_without_the_csrf_token():
    """Every page of the URL conf (as the owner of the isolation world) and the
    admin index: each POST form found is posted without its token -> 403."""
    world = build_world_a()
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.owner)
    forms = set()
    for url in [*page_urls(world), reverse("login"), reverse("admin:index")]:
        response = client.get(url)
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            parser = _Forms()
            parser.feed(response.content.decode(errors="replace"))
            forms.update(action or url for action in parser.forms)
    assert len(forms) >= 5, forms
    for action in sorted(forms):
        response = client.post(action, {"comment": "x", "reason": "x"})
        assert response.status_code == 403, f"POST {action} without a CSRF token gave {response.status_code}"
    record_figure("csrf_forms", {"post_forms_refused_without_token": len(forms)})


def production_settings(*names):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_production", "ALLOWED_HOSTS": "registry.example.org",
           "SECRET_KEY": "p" * 30 + "-production-test-key-Q8w7e6r5t4y3u2i1o0p9"}
    code = ("import django, json; django.setup(); from django.conf import settings as s; "
            f"print(json.dumps({{n: str(getattr(s, n, None)) for n in {list(names)!r}}}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_cookies_are_secure_and_hsts_is_on():
    values = production_settings("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
                                 "SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT", "DEBUG", "X_FRAME_OPTIONS")
    assert values["SESSION_COOKIE_SECURE"] == values["CSRF_COOKIE_SECURE"] == values["SESSION_COOKIE_HTTPONLY"] == "True"
    assert int(values["SECURE_HSTS_SECONDS"]) >= 31536000 and values["SECURE_SSL_REDIRECT"] == "True"
    assert values["DEBUG"] == "False" and values["X_FRAME_OPTIONS"] == "DENY"


def test_uploads_live_outside_the_web_root_and_are_never_served():
    media = Path(settings.MEDIA_ROOT).resolve()
    for served in [Path(settings.STATIC_ROOT), *map(Path, settings.STATICFILES_DIRS)]:
        served = served.resolve()
        assert not media.is_relative_to(served) and not served.is_relative_to(media), (media, served)
    assert not getattr(settings, "MEDIA_URL", "") or settings.MEDIA_URL in ("/", "")
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE and settings.FILE_UPLOAD_MAX_MEMORY_SIZE and settings.MAX_UPLOAD_BYTES


@pytest.mark.django_db
def test_an_upload_over_the_limit_is_refused_with_413(alice, version_a, settings):
    settings.MAX_UPLOAD_BYTES = 1000
    client = APIClient()
    client.force_authenticate(alice)
    upload = SimpleUploadedFile("big.jsonl", b'{"text": "' + b"x" * 5000 + b'"}\n')
    response = client.post("/api/ingestion-jobs/", {"version": version_a.pk, "file": upload}, format="multipart")
    assert response.status_code == 413 and "file" in response.json()
    big = client.post("/api/datasets/", b'{"name": "' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + b'"}',
                      content_type="application/json")
    assert big.status_code == 413 and "limit" in big.json()["detail"]


# Built from parts so that this file does not match itself.
SECRET_PATTERNS = {
    "private key": re.compile("-----BEGIN [A-Z ]*" + "PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\b(AKIA|ASIA)" + r"[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_" + r"[A-Za-z0-9]{36}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-" + r"[A-Za-z0-9-]{10,}"),
    "hard-coded SECRET_KEY": re.compile(r"""SECRET_KEY\s*=\s*["'][^"']{8,}["']"""),
    "SECRET_KEY default": re.compile(r"""SECRET_KEY["']\s*,\s*["'][^"']{8,}["']"""),
}
# The development placeholder in config/settings.py is meant to be public (split so this file does not match).
ALLOWED_SECRET_KEYS = {'SECRET_KEY = os.environ.get("SECRET_KEY", ' + '"dev-only-insecure-key-not-for-production")'}


def test_no_secret_is_tracked_in_git():
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    found, scanned = [], 0
    for name in filter(None, files.split("\0")):
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        text = path.read_text(errors="ignore")
        scanned += 1
        for what, pattern in SECRET_PATTERNS.items():
            for match in pattern.finditer(text):
                line = text[text.rfind("\n", 0, match.start()) + 1:text.find("\n", match.end())].strip()
                if line not in ALLOWED_SECRET_KEYS:
                    found.append(f"{name}: {what}: {line[:120]}")
    assert scanned > 50
    assert not found, "\n".join(found)
    record_figure("secret_scan", {"tracked_files_scanned": scanned, "secrets": 0})
