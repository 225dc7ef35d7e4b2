"""Stale-job recovery: each app that runs long jobs registers how to recover its own, so common imports no app.

An app adds ``STALE_JOB_RECOVERIES["<what it counts>"] = <function returning how many jobs it recovered>`` in its
``AppConfig.ready`` (the way corpus offers ``POST_IMPORT_HOOKS``); the periodic ``stale_jobs_recover_task`` runs
them all. Each function is idempotent and leaves a job that still reports progress alone.
"""

from __future__ import annotations

from collections.abc import Callable

STALE_JOB_RECOVERIES: dict[str, Callable[[], int]] = {}


def stale_jobs_recover() -> dict[str, int]:
    """Run every registered recovery; returns how many jobs each one recovered, by its name."""
    return {name: recover() for name, recover in STALE_JOB_RECOVERIES.items()}
