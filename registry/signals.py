"""Signals other apps listen to.

``version_state_changed`` is sent by the governance services *inside* the
transition's transaction (after the state is saved), so a receiver's writes
(e.g. marking training mixes affected) commit or roll back with the transition.
Arguments: sender=DatasetVersion, version, old_state, new_state, actor, reason.

``versions_state_changed`` is its set-based twin, sent once per set of versions
a job moves together (the expiry job's chunk), in the same transaction, so a
receiver can do its work in bulk instead of once per version.
Arguments: sender=DatasetVersion, versions (a list), old_state, new_state, actor, reason.
"""
from django.dispatch import Signal

version_state_changed = Signal()
versions_state_changed = Signal()
