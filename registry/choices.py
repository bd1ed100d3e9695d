"""Vocabularies shared by the catalog, governance and the scorecard."""
from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    CONTRIBUTOR = "contributor", "Contributor"
    GOVERNANCE_REVIEWER = "governance_reviewer", "Governance reviewer"
    LEGAL_REVIEWER = "legal_reviewer", "Legal reviewer"
    TENANT_ADMIN = "tenant_admin", "Tenant admin"


class RegistryRole(models.TextChoices):
    """Registry-wide roles, held outside any tenant: for what every tenant shares."""

    REGISTRY_ADMIN = "registry_admin", "Registry admin"  # tenants and their first tenant admins
    POLICY_ADMIN = "policy_admin", "Policy admin"  # the scorecard and sign-off policies
    VOCABULARY_STEWARD = "vocabulary_steward", "Vocabulary steward"  # the shared generator list



class DatasetKind(models.TextChoices):
    SYNTHETIC = "synthetic", "Synthetic"
    REAL_ANCHOR = "real_anchor", "Real anchor"
    REAL_HOLDOUT = "real_holdout", "Real holdout"
    PRODUCTION_SAMPLE = "production_sample", "Production sample"


REAL_KINDS = (DatasetKind.REAL_ANCHOR, DatasetKind.REAL_HOLDOUT, DatasetKind.PRODUCTION_SAMPLE)


class Modality(models.TextChoices):
    TEXT = "text", "Text"
    TABULAR = "tabular", "Tabular"


class VersionState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    SUSPENDED = "suspended", "Suspended"
    EXPIRED = "expired", "Expired"
    RETIRED = "retired", "Retired"


class Use(models.TextChoices):
    """The type-by-use cells of the book: each needs different gates."""

    TRAINING = "training", "Training"
    EVALUATION = "evaluation", "Evaluation"
    RED_TEAM = "red_team", "Red-team"
    DEMO = "demo", "Demo"
    PRIVACY = "privacy", "Privacy-preserving sharing"
    SOFTWARE_TESTING = "software_testing", "Software testing"


class Harm(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Origin(models.TextChoices):
    SYNTHETIC = "synthetic", "Synthetic"
    REAL = "real", "Real"
