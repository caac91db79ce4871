"""A documented, test-only fault hook: fail at a named moment of a command.

``PGO_FAULT_POINT=<name>`` picks the moment (one of :data:`FAULT_POINTS`, also listed
in ``docs/operations.md``); ``PGO_FAULT_ACTION`` says what happens the first time the
process reaches it:

- ``kill`` (default): the process kills itself with SIGKILL, as an operator's
  ``kill -9`` or the out-of-memory killer would;
- ``crash``: :class:`InjectedFault` is raised, as a bug or a full disk would;
- ``pause``: the process creates the file named by ``PGO_FAULT_PAUSE_FILE`` and waits
  until someone deletes it, so that a test can act while it holds the lock.

Tests choose the moment this way instead of sleeping. Unset (always, in production),
the hook costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

POINT_VAR = "PGO_FAULT_POINT"
ACTION_VAR = "PGO_FAULT_ACTION"
PAUSE_FILE_VAR = "PGO_FAULT_PAUSE_FILE"
#: How often a paused process looks whether its pause file is gone.
PAUSE_POLL_S = 0.02

FAULT_POINTS = (
    "run.after_marking_in_progress",
    "ingest.before_partition_provenance",
    "ingest.after_partitions",
    "validate.between_renames",
    "validate.before_provenance",
    "compute.after_tables",
    "compute.before_database_rename",
    "compute.before_provenance",
    "publish.after_staging",
    "publish.after_package_validation",
    "publish.after_exchange",
    "publish.before_national",
    "run.before_recording_state",
)
#: Moments of ``pgo push`` (its own command; tests kill a push half-way with it).
PUSH_FAULT_POINTS = ("push.after_upload",)


class InjectedFault(RuntimeError):
    """The failure asked for by ``PGO_FAULT_ACTION=crash``."""


def fault_point(name: str) -> None:
    """Fail here as ``PGO_FAULT_ACTION`` says if ``PGO_FAULT_POINT`` names this point."""
    if os.environ.get(POINT_VAR) != name:
        return
    action = os.environ.get(ACTION_VAR, "kill")
    if action == "crash":
        raise InjectedFault(f"fault injected at {name}")
    if action == "pause":
        pause_file = Path(os.environ[PAUSE_FILE_VAR])
        pause_file.touch()
        while pause_file.exists():
            time.sleep(PAUSE_POLL_S)
        os.environ.pop(POINT_VAR)  # once
        return
    os.kill(os.getpid(), signal.SIGKILL)
