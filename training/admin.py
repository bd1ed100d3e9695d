"""Read-only admin for training evidence: it is written by the services only."""
from django.contrib import admin

from registry.admin_scope import GovernedAdmin

from .models import AuditEntry, EvaluationSet, GeneratorProvenanceCheck, LeakageScan, MixBuild, ModelFamily, TrainingMix


@admin.register(ModelFamily)
class ModelFamilyAdmin(GovernedAdmin):
    list_display = ["name", "tenant", "created_by", "created_at"]
    search_fields = ["name"]


@admin.register(EvaluationSet)
class EvaluationSetAdmin(GovernedAdmin):
    list_display = ["family", "version", "active", "is_real", "rows_flagged", "designated_at"]
    list_filter = ["active", "is_real"]


@admin.register(LeakageScan)
class LeakageScanAdmin(GovernedAdmin):
    list_display = ["__str__", "evaluation_set", "status", "exact_pairs", "near_pairs", "seed_pairs", "finished_at"]
    list_filter = ["status"]


@admin.register(GeneratorProvenanceCheck)
class GeneratorProvenanceCheckAdmin(GovernedAdmin):
    list_display = ["__str__", "evaluation_set", "passed", "synthetic_eval_items", "shared_generator_items"]
    list_filter = ["passed"]


@admin.register(TrainingMix)
class TrainingMixAdmin(GovernedAdmin):
    list_display = ["name", "tenant", "family", "total_count", "synthetic_ratio", "affected", "created_at"]
    list_filter = ["affected"]
    search_fields = ["name", "content_hash"]
    exclude = ["manifest"]


@admin.register(MixBuild)
class MixBuildAdmin(GovernedAdmin):
    list_display = ["__str__", "tenant", "status", "mix", "created_at"]
    list_filter = ["status"]


@admin.register(AuditEntry)
class AuditEntryAdmin(GovernedAdmin):
    list_display = ["action", "tenant", "actor", "version", "mix", "rows_affected", "created_at"]
    list_filter = ["action"]
