"""`make run`: the web server and a real Celery worker side by side, with beat; Ctrl-C stops both.

Sized for a laptop (docs/benchmarks.md, Lean processes): the worker runs its tasks in a thread of its own process
(``--pool threads``, one at a time) instead of forking pool processes that each hold a copy of the model's libraries
(scikit-learn and SciPy, ~150 MiB that a process never gives back), and beat is a thread of this process instead of a
process of its own (it only queues the stale-job recovery every few minutes). Production workers keep the prefork
pool (docker/compose.yaml).
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start the development web server and a Celery worker on all queues, with the periodic tasks (beat)."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default=os.environ.get("FRAMESCOPE_ADDR", "127.0.0.1:8000"))
        parser.add_argument("--pool", default="threads", help="Celery worker pool (default threads; prefork forks)")
        parser.add_argument("--concurrency", type=int, default=1, help="tasks run at once (default 1)")

    def handle(self, *args, addr: str, pool: str, concurrency: int, **options):
        from celery.beat import EmbeddedService

        from annotator.celery import app

        worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "annotator", "worker",
                "-Q", settings.CELERY_QUEUES_ALL, "-P", pool, "-c", str(concurrency), "-l", "warning",
                "-n", f"framescope-dev-{os.getpid()}@%h",
            ],
        )  # fmt: skip
        # The periodic stale-job recovery (settings.CELERY_BEAT_SCHEDULE), queued from a thread of this process.
        beat = EmbeddedService(app, thread=True, schedule_filename=settings.CELERY_BEAT_SCHEDULE_FILENAME)
        beat.start()
        host = addr if ":" in addr else f"127.0.0.1:{addr}"
        banner = [
            self.style.SUCCESS(f"\n  Framescope is at http://{host}/"),
            "  Log in as demo-admin / demo-admin-pw (admin) or demo-annotator / demo-annotator-pw",
            f"  Celery worker pid {worker.pid} on queues {settings.CELERY_QUEUES_ALL}, beat in this process; Ctrl-C stops "
            "both.\n",
        ]
        # The URL is printed once the server answers on it, not before: a newcomer who opens it at once gets the page.
        # Once the server has stopped, the banner is not printed (the command's output may be closed by then).
        stopped = threading.Event()
        threading.Thread(target=self._announce_when_listening, args=(host, banner, stopped), daemon=True).start()
        # A SIGTERM (a process manager, `timeout`) must stop the worker too, as Ctrl-C does.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            call_command("runserver", addr, use_reloader=False)
        except KeyboardInterrupt:
            pass
        finally:
            stopped.set()
            beat.stop()
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()

    def _announce_when_listening(
        self, host: str, banner: list[str], stopped: threading.Event, timeout: float = 120.0
    ) -> None:
        name, _, port = host.rpartition(":")
        name = name.strip("[]")
        name = "127.0.0.1" if name in ("", "0.0.0.0", "::") else name
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not stopped.is_set():
            try:
                socket.create_connection((name, int(port)), timeout=1).close()
            except OSError:
                stopped.wait(0.1)
                continue
            _warm_up(f"http://{f'[{name}]' if ':' in name else name}:{port}/")
            break
        if stopped.is_set():
            return
        for line in banner:
            self.stdout.write(line)
        self.stdout.flush()


def _warm_up(url: str) -> None:
    """Fetch the first page once (the login page, via /), so that what a web process does on its first request is
    done before the URL is shown; any outcome is fine."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - our own server on loopback
            response.read()
    except (OSError, ValueError):
        pass
