"""What every database-backed benchmark does first: make its PostgreSQL database, then set Django up on it."""

from __future__ import annotations

import os
import sys
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in ``url`` if it does not exist (benchmarks use their own)."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def django_setup(database_url: str, data_dir: Path, broker_url: str | None = None) -> None:
    """Point the settings at the benchmark's database (and broker), set Django up and migrate."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["FRAMESCOPE_DATA_DIR"] = str(data_dir)
    if broker_url:
        os.environ["CELERY_BROKER_URL"] = broker_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
