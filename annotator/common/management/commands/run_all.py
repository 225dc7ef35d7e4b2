"""`make run`: the web server and a real Celery worker (with beat embedded) side by side; Ctrl-C stops both."""

import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start the development web server and a Celery worker on all queues, with the periodic tasks (beat)."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default=os.environ.get("FRAMESCOPE_ADDR", "127.0.0.1:8000"))
        parser.add_argument("--concurrency", type=int, default=2)

    def handle(self, *args, addr: str, concurrency: int, **options):
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "annotator", "worker",
                "-Q", settings.CELERY_QUEUES_ALL, "-c", str(concurrency), "-l", "warning",
                "-n", f"framescope-dev-{os.getpid()}@%h",
                "-B",  # beat embedded: the periodic stale-job recovery (settings.CELERY_BEAT_SCHEDULE)
            ],
        )  # fmt: skip
        host = addr if ":" in addr else f"127.0.0.1:{addr}"
        self.stdout.write(self.style.SUCCESS(f"\n  Framescope is at http://{host}/"))
        self.stdout.write("  Log in as demo-admin / demo-admin-pw (admin) or demo-annotator / demo-annotator-pw")
        self.stdout.write(
            f"  Celery worker pid {worker.pid} on queues {settings.CELERY_QUEUES_ALL}, with beat; Ctrl-C stops both.\n"
        )
        # A SIGTERM (a process manager, `timeout`) must stop the worker too, as Ctrl-C does.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            call_command("runserver", addr, use_reloader=False)
        except KeyboardInterrupt:
            pass
        finally:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()
