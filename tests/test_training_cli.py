"""The training commands: build a mix and scan for leaks from the shell."""
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from training import services
from training.models import LeakageScan, TrainingMix

from .test_training_isolation import EVAL_TEXTS
from .test_training_mix import eval_version, generator, pools, synthetic_version  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("workflow_policy")]


def test_build_mix_prints_the_ratio_and_hash(alice, tenant_a, pools, capsys):
    services.create_model_family(actor=alice, tenant=tenant_a, name="clf")
    call_command("build_mix", "--actor", "alice", "--tenant", "tenant-a", "--family", "clf", "--name", "cli-mix",
                 "--component", "real-tickets:v1", "--component", "syn-tickets:v1", "--seed", "9")
    mix = TrainingMix.objects.get(name="cli-mix")
    assert mix.content_hash in capsys.readouterr().out and mix.seed == 9


def test_build_mix_refusal_lists_the_reasons_and_writes_nothing(alice, tenant_a, pools):
    services.create_model_family(actor=alice, tenant=tenant_a, name="clf")
    with pytest.raises(CommandError, match="cannot be met even with zero synthetic rows"):
        call_command("build_mix", "--actor", "alice", "--tenant", "tenant-a", "--family", "clf", "--name", "x",
                     "--component", "syn-tickets:v1")
    with pytest.raises(CommandError, match="no such version in your scope"):
        call_command("build_mix", "--actor", "alice", "--tenant", "tenant-a", "--family", "clf", "--name", "x",
                     "--component", "nope:v1")
    assert not TrainingMix.objects.exists()


def test_leakage_scan_reports_what_it_found(alice, tenant_a, generator, capsys):
    family = services.create_model_family(actor=alice, tenant=tenant_a, name="clf")
    services.designate_evaluation_set(actor=alice, family=family,
                                      version=eval_version(alice, tenant_a, "holdout", EVAL_TEXTS))
    synthetic_version(alice, tenant_a, "syn", [(EVAL_TEXTS[3][0], "closure")], generator)
    call_command("leakage_scan", "--actor", "alice", "--tenant", "tenant-a", "--family", "clf",
                 "--candidate", "syn:v1")
    assert "1 exact, 0 near, 0 seed pair(s); 1 of 4 eval items leaked" in capsys.readouterr().out
    assert LeakageScan.objects.get().status == "succeeded"
