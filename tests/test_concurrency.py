"""Races on PostgreSQL (real row locks, one connection per thread): the final
state is one of the outcomes the same calls give one after the other, and the
logs (Transition rows, the version's history, sign-offs, examples) record each
successful action exactly once and no refused one."""
import pytest
from django.db import connection

from governance import services
from governance.models import Decision, SignOff, Transition
from registry import services as registry_services
from registry.choices import Role, VersionState
from registry.errors import Conflict
from registry.models import DatasetVersion, Example, IngestionJob

from .factories import make_user
from .lineage_helpers import build_lineage_world, synthetic_row, write_jsonl
from .test_governance_workflow import _race, approve_fully, fast_passwords, move_past_expiry  # noqa: F401

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("workflow_policy"),
]
LEGAL, GOVERNANCE = Role.LEGAL_REVIEWER, Role.GOVERNANCE_REVIEWER
ATTEMPTS = range(2)


@pytest.fixture
def staff(tenant_a):
    def make(name, role):
        return make_user(name, tenant=tenant_a, roles=[role], is_staff=True)
    return {"lena": make("lena", LEGAL), "lars": make("lars", LEGAL), "gwen": make("gwen", GOVERNANCE),
            "gus": make("gus", GOVERNANCE), "tara": make("tara", Role.TENANT_ADMIN)}


@pytest.fixture
def submitted(alice, version_a):
    return services.submit_for_review(actor=alice, version=version_a)


@pytest.fixture
def approved(submitted, staff):
    return approve_fully(submitted, staff["lena"], staff["gwen"])


def state(version):
    return DatasetVersion.objects.get(pk=version.pk).state


def actions(version):
    return list(Transition.objects.filter(version=version).order_by("at", "id").values_list("action", flat=True))


def history_states(version):
    return list(version.history.order_by("history_date", "history_id").values_list("state", flat=True))


def assert_logged_once(version):
    """Each Transition matches one history row entering its state, in order."""
    moves = list(Transition.objects.filter(version=version).order_by("at", "id").values_list("to_state", flat=True))
    states = history_states(version)
    entered = [s for previous, s in zip(states, states[1:]) if s != previous]
    assert entered == moves, (entered, moves)


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_two_reviewers_of_one_role_sign_at_once_one_wins(attempt, submitted, staff):
    results = _race(
        lambda: services.sign_off(actor=staff["lena"], version=submitted, role=LEGAL, decision=Decision.APPROVE),
        lambda: services.sign_off(actor=staff["lars"], version=submitted, role=LEGAL, decision=Decision.APPROVE),
    )
    assert sum(isinstance(r, SignOff) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert SignOff.objects.filter(version=submitted, role=LEGAL, decision=Decision.APPROVE).count() == 1
    assert state(submitted) == VersionState.IN_REVIEW and actions(submitted) == ["submit"]


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_the_approving_sign_off_races_a_suspension(attempt, submitted, staff):
    services.sign_off(actor=staff["lena"], version=submitted, role=LEGAL, decision=Decision.APPROVE)
    results = _race(
        lambda: services.sign_off(actor=staff["gwen"], version=submitted, role=GOVERNANCE, decision=Decision.APPROVE),
        lambda: services.suspend(actor=staff["tara"], version=submitted, reason="incident"),
    )
    assert isinstance(results[0], SignOff), results
    # Serially: sign-off then suspension (suspended), or suspension refused first (approved).
    if isinstance(results[1], Conflict):
        assert state(submitted) == VersionState.APPROVED and actions(submitted) == ["submit", "approve"]
    else:
        assert state(submitted) == VersionState.SUSPENDED
        assert actions(submitted) == ["submit", "approve", "suspend"]
    assert_logged_once(submitted)


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_two_suspensions_and_a_retirement_at_once(attempt, approved, staff):
    results = _race(
        lambda: services.suspend(actor=staff["gwen"], version=approved, reason="drift"),
        lambda: services.suspend(actor=staff["gus"], version=approved, reason="drift too"),
        lambda: services.retire_version(actor=staff["tara"], version=approved, reason="superseded"),
    )
    suspended = sum(isinstance(r, DatasetVersion) for r in results[:2])
    assert suspended <= 1 and isinstance(results[2], DatasetVersion), results
    assert state(approved) == VersionState.RETIRED
    # Serial outcomes: retire first (both suspensions refused), or one suspension then retire.
    expected = ["submit", "approve"] + ["suspend"] * suspended + ["retire"]
    assert actions(approved) == expected
    assert_logged_once(approved)


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_the_expiry_job_races_a_suspension(attempt, approved, staff, time_machine):
    move_past_expiry(time_machine, approved)
    results = _race(
        services.expire_due_versions,
        lambda: services.suspend(actor=staff["gwen"], version=approved, reason="incident"),
    )
    if results[0] == 1:
        assert isinstance(results[1], Conflict) and state(approved) == VersionState.EXPIRED
        assert actions(approved) == ["submit", "approve", "expire"]
    else:
        assert results[0] == 0 and isinstance(results[1], DatasetVersion), results
        assert state(approved) == VersionState.SUSPENDED
        assert actions(approved) == ["submit", "approve", "suspend"]
    assert_logged_once(approved)
    assert services.expire_due_versions() == 0


def test_the_expiry_job_races_the_approval_of_an_expired_manifest(submitted, staff, time_machine):
    """The approving sign-off must not slip an expired manifest past the clock:
    whichever runs first, the version ends in review (approval blocked) or
    expired, never approved."""
    services.sign_off(actor=staff["lena"], version=submitted, role=LEGAL, decision=Decision.APPROVE)
    move_past_expiry(time_machine, submitted)
    results = _race(
        services.expire_due_versions,
        lambda: services.sign_off(actor=staff["gwen"], version=submitted, role=GOVERNANCE, decision=Decision.APPROVE),
    )
    assert isinstance(results[1], SignOff), results
    assert state(submitted) == VersionState.IN_REVIEW and actions(submitted) == ["submit"]
    assert results[0] == 0


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_two_ingests_into_one_version(attempt, alice, tenant_a, tmp_path):
    version = build_lineage_world(alice, tenant_a, tmp_path).version
    files = [write_jsonl(tmp_path / f"part{n}.jsonl", [synthetic_row(n * 1000 + i, text=f"upload {n} row {i}")
                                                       for i in range(200)]) for n in (1, 2)]
    jobs = [registry_services.register_examples_file(actor=alice, version=version, path=path) for path in files]
    results = _race(*(lambda job=job: registry_services.run_ingestion(job_id=job.pk) for job in jobs))
    assert all(isinstance(r, IngestionJob) for r in results), results
    assert [IngestionJob.objects.get(pk=job.pk).status for job in jobs] == ["succeeded", "succeeded"], [
        IngestionJob.objects.get(pk=job.pk).errors for job in jobs]
    ordinals = list(Example.objects.filter(version=version).order_by("ordinal").values_list("ordinal", flat=True))
    # Serially: one file's 200 rows, then the other's; never interleaved, never twice.
    assert ordinals == list(range(1, 401))
    for n in (1, 2):
        mine = list(Example.objects.filter(version=version, text__startswith=f"upload {n} ")
                    .order_by("ordinal").values_list("ordinal", flat=True))
        assert mine in (list(range(1, 201)), list(range(201, 401)))
