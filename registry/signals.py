"""Signals other apps listen to.

``version_state_changed`` is sent by the governance services *inside* the
transition's transaction (after the state is saved), so a receiver's writes
(e.g. marking training mixes affected) commit or roll back with the transition.
Arguments: sender=DatasetVersion, version, old_state, new_state, actor, reason.
"""
from django.dispatch import Signal

version_state_changed = Signal()
