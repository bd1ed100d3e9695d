"""Signal receivers: thin, they call one service."""
from . import services


def flag_mixes_of_changed_version(sender, version, old_state, new_state, actor=None, reason="", **kwargs):
    # Sent inside the transition's transaction: the flags commit or roll back with it.
    services.mark_mixes_affected(version=version, new_state=new_state, actor=actor, reason=reason or "")


def flag_mixes_of_changed_versions(sender, versions, old_state, new_state, actor=None, reason="", **kwargs):
    # The set-based jobs' signal; a state that affects no mix (expired) costs no query.
    for version in versions:
        services.mark_mixes_affected(version=version, new_state=new_state, actor=actor, reason=reason or "")
