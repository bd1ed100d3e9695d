"""Every gate module, imported so each registers itself in gates.base.GATES."""
from . import exact_dedup, format, near_dup, pii  # noqa: F401
from . import label_consistency, realism  # noqa: F401
