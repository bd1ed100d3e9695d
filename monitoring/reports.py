"""Serving a run's stored Evidently report (pages and API share this).

Reports live under MEDIA_ROOT, never the web root: they are read here only
after the caller found the run in the user's scope. The HTML carries
Evidently's own scripts, so it is served sandboxed (CSP ``sandbox``): it runs
in an opaque origin and cannot read the registry's cookies or pages.
"""
import gzip
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse

SANDBOX = "sandbox allow-scripts allow-popups; default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; " \
          "style-src 'unsafe-inline'; img-src data:; font-src data:"


def report_response(run, part, kind="html", download=False):
    paths = run.reports.get(part)
    if not paths or kind not in ("html", "json"):
        raise Http404("No such report.")
    path = Path(settings.MEDIA_ROOT) / paths[kind]
    if not path.is_file():
        raise Http404("The report file is gone.")
    if kind == "html":
        with gzip.open(path, "rb") as stream:
            response = HttpResponse(stream.read(), content_type="text/html; charset=utf-8")
        response["Content-Security-Policy"] = SANDBOX
    else:
        response = HttpResponse(path.read_bytes(), content_type="application/json")
    response["X-Content-Type-Options"] = "nosniff"
    if download:
        response["Content-Disposition"] = f'attachment; filename="monitor-run-{run.pk}-{part}.{kind}"'
    return response
