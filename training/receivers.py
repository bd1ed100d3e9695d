"""Signal receivers: thin, they call one service."""
from . import services


def flag_mixes_of_changed_version(sender, version, old_state, new_state, actor=None, reason="", **kwargs):
    # Sent inside the transition's transaction: the flags commit or roll back with it.
    services.mark_mixes_affected(version=version, new_state=new_state, actor=actor, reason=reason or "")
