"""Schemathesis against the live OpenAPI schema: every operation, as a normal
member of a tenant (token auth), with bounded deterministic examples.

Each operation gets generated cases twice over: with random path parameters
(mostly 404s) and with the real ids of the isolation world (tests/isolation.py),
found by matching the world's concrete URLs against the operation's path
template, so a new endpoint is fuzzed against real objects with no new code.
Checks: no 5xx, and every documented response conforms to its schema.
The figures go to stdout and to $CAREFUL_VAR_DIR/reliability/api_fuzz.json (record_figure).
"""
import os
import time

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from registry.choices import Role

from .factories import make_user
from .isolation import build_world_a
from .reliability_helpers import known_path_parameters, record_figure

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", 10))


def describe(error):
    parts = getattr(error, "exceptions", None) or [error]
    return "; ".join(" ".join(str(part).split())[:400] for part in parts)


def fuzz_operation(operation, base_url, session, known, stats):
    strategies = [operation.as_strategy()]
    if operation.path in known:
        strategies.append(operation.as_strategy(path_parameters=known[operation.path]))

    @given(case=st.one_of(strategies))
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )
    def run(case):
        response = case.call(base_url=base_url, session=session, timeout=60)
        stats["requests"] += 1
        stats["by_status"][str(response.status_code)] = stats["by_status"].get(str(response.status_code), 0) + 1
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    run()


@pytest.mark.django_db(transaction=True)
def test_every_operation_survives_fuzzing_as_a_tenant_member(live_server):
    world = build_world_a()
    member = make_user("fuzz-member", tenant=world.tenant, roles=[Role.CONTRIBUTOR, Role.GOVERNANCE_REVIEWER])
    token = Token.objects.create(user=member)
    headers = {"Authorization": f"Token {token.key}"}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/", headers=headers)
    session = requests.Session()
    session.headers.update(headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    known = known_path_parameters({operation.path for operation in operations}, world)

    stats = {"operations": len(operations), "operations_with_real_ids": 0, "max_examples": MAX_EXAMPLES,
             "requests": 0, "by_status": {}}
    failures = []
    started = time.monotonic()
    for operation in operations:
        stats["operations_with_real_ids"] += operation.path in known
        try:
            fuzz_operation(operation, live_server.url, session, known, stats)
        # Schemathesis raises a FailureGroup (a BaseExceptionGroup); collect every operation's, then report.
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001
            failures.append(f"{operation.label}: {describe(error)}")
    stats["seconds"] = round(time.monotonic() - started, 1)
    stats["failures"] = len(failures)

    record_figure("api_fuzz", stats)
    print(f"\nAPI fuzz: {stats['operations']} operations ({stats['operations_with_real_ids']} also with real ids),"
          f" up to {MAX_EXAMPLES} examples each, {stats['requests']} requests, statuses {stats['by_status']},"
          f" {stats['seconds']} s, {len(failures)} failing operations")
    assert not failures, "\n\n".join(failures)
