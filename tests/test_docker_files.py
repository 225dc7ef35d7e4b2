"""docker/: the compose file, the Dockerfile, env.example and the web healthcheck (no Docker engine needed)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
COMPOSE_FILE = DOCKER / "compose.yaml"
ENV_EXAMPLE = DOCKER / "env.example"
SETTINGS = ROOT / "annotator" / "settings.py"
ALL_QUEUES = {"default", "imports", "training", "scoring"}
ENV_LINE = re.compile(r"^#?\s?([A-Z][A-Z0-9_]*)=(.*)$")
COMPOSE_ONLY_MARKER = "Read by docker/compose.yaml only"


@pytest.fixture(scope="module")
def compose() -> dict:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict]:
    return compose["services"]


def app_services(services: dict[str, dict]) -> dict[str, dict]:
    """Services that run the Framescope image (everything but the database and the broker)."""
    return {name: svc for name, svc in services.items() if "build" in svc}


def queues_of(command: list[str]) -> set[str]:
    assert "-Q" in command, command
    return set(command[command.index("-Q") + 1].split(","))


def env_example_vars() -> tuple[dict[str, str], dict[str, str]]:
    """(Django variables, compose-only variables) named in env.example, active or commented, with their line."""
    django_vars: dict[str, str] = {}
    compose_vars: dict[str, str] = {}
    target = django_vars
    for line in ENV_EXAMPLE.read_text().splitlines():
        if COMPOSE_ONLY_MARKER in line:
            target = compose_vars
        match = ENV_LINE.match(line)
        if match:
            target[match.group(1)] = line
    return django_vars, compose_vars


def settings_env_vars() -> set[str]:
    """Every environment variable annotator/settings.py reads (os.environ.get / env_bool / env_list)."""
    text = SETTINGS.read_text()
    pattern = r"""(?:os\.environ\.get|os\.environ\.setdefault|os\.getenv|env_bool|env_list)\(\s*["']([A-Z0-9_]+)["']"""
    return set(re.findall(pattern, text)) | set(re.findall(r"""os\.environ\[\s*["']([A-Z0-9_]+)["']\s*\]""", text))


def test_core_services_exist_with_pinned_images(services):
    assert {"postgres", "redis", "migrate", "web", "worker"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")


def test_healthchecks_where_a_service_keeps_running(services):
    one_shot = {name for name, svc in services.items() if svc.get("restart") == "no"}
    assert {"migrate", "demo"} <= one_shot
    for name, svc in services.items():
        if name in one_shot:
            continue
        check = svc.get("healthcheck")
        assert check and check.get("test"), f"service {name} has no healthcheck"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    assert services["web"]["healthcheck"]["test"][-1] == "/app/docker/healthcheck.py"
    assert '"http://127.0.0.1:8000/healthz"' in (DOCKER / "healthcheck.py").read_text()
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])


def test_app_services_share_image_build_env_file_and_data_volume(services):
    apps = app_services(services)
    assert {"migrate", "web", "worker"} <= set(apps)
    reference = apps["web"]
    assert reference["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}
    assert (COMPOSE_FILE.parent / reference["build"]["context"] / reference["build"]["dockerfile"]).is_file()
    for name, svc in apps.items():
        assert svc["image"] == reference["image"], name
        assert svc["build"] == reference["build"], name
        assert svc["env_file"] == ".env", name
        assert svc["environment"]["FRAMESCOPE_DATA_DIR"] == "/data", name
        assert "framescope-data:/data" in svc["volumes"], name
    for volume in ("postgres-data", "redis-data", "framescope-data"):
        assert volume in services_volumes(services) and volume in yaml.safe_load(COMPOSE_FILE.read_text())["volumes"]


def services_volumes(services: dict[str, dict]) -> set[str]:
    return {mount.split(":")[0] for svc in services.values() for mount in svc.get("volumes", [])}


def test_web_runs_gunicorn_after_migrations(services):
    web = services["web"]
    assert web["command"][:2] == ["gunicorn", "annotator.wsgi:application"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name


def test_worker_consumes_every_queue_and_is_scalable(services):
    from django.conf import settings

    worker = services["worker"]
    assert worker["command"][:4] == ["celery", "-A", "annotator", "worker"]
    assert queues_of(worker["command"]) == ALL_QUEUES == set(settings.CELERY_QUEUES_ALL.split(","))
    assert "container_name" not in worker and "ports" not in worker  # --scale worker=N would clash otherwise
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {settings.CELERY_TASK_DEFAULT_QUEUE}
    assert routed <= ALL_QUEUES
    per_queue = [svc for svc in services.values() if "per-queue" in svc.get("profiles", [])]
    assert len(per_queue) == 3
    assert set().union(*(queues_of(svc["command"]) for svc in per_queue)) == ALL_QUEUES


def test_dockerfile_builds_a_non_root_gunicorn_image():
    text = (DOCKER / "Dockerfile").read_text()
    instructions = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert instructions[0] == "FROM python:3.11-slim"
    users = [line.split(None, 1)[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert re.search(r"pip install .*-e \.", text) and "pyproject.toml" in text
    collect = re.search(r"SECRET_KEY=\S+.*\n?.*manage\.py collectstatic --noinput", text)
    assert collect, "collectstatic must run at build time with a dummy SECRET_KEY"
    assert text.index("collectstatic") < text.index("USER framescope")
    assert '"gunicorn", "annotator.wsgi:application"' in instructions[-1]


def test_env_example_names_only_variables_that_are_read():
    django_vars, compose_vars = env_example_vars()
    read_by_settings = settings_env_vars()
    assert {"SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "ALLOWED_HOSTS", "SECURE_SSL"} <= set(django_vars)
    unknown = sorted(set(django_vars) - read_by_settings)
    assert not unknown, f"env.example names variables annotator/settings.py never reads: {unknown}"
    compose_text = COMPOSE_FILE.read_text()
    for name in compose_vars:
        assert re.search(r"\$\{" + name + r"[:}]", compose_text), f"{name} is not used in compose.yaml"


def test_env_example_documents_every_settings_variable():
    django_vars, _ = env_example_vars()
    missing = sorted(settings_env_vars() - set(django_vars))
    assert not missing, f"annotator/settings.py reads variables env.example does not document: {missing}"


def test_every_env_example_variable_has_a_comment():
    lines = ENV_EXAMPLE.read_text().splitlines()
    for number, line in enumerate(lines):
        if ENV_LINE.match(line):
            previous = lines[number - 1]
            assert previous.startswith("#"), f"line {number + 1} ({line}) has no explanation above it"


def run_healthcheck(url: str, allowed_hosts: str) -> subprocess.CompletedProcess:
    env = {"ALLOWED_HOSTS": allowed_hosts, "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, str(DOCKER / "healthcheck.py"), url]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)


@pytest.mark.django_db
def test_healthcheck_script_against_a_live_server(live_server, settings):
    settings.ALLOWED_HOSTS = ["framescope.example.org"]
    ok = run_healthcheck(f"{live_server.url}/healthz", "*,.framescope.example.org")
    assert ok.returncode == 0, ok.stderr
    wrong_host = run_healthcheck(f"{live_server.url}/healthz", "elsewhere.example.org")
    assert wrong_host.returncode == 1 and "400" in wrong_host.stderr
    not_health = run_healthcheck(f"{live_server.url}/no-such-page-healthz", "framescope.example.org")
    assert not_health.returncode == 1 and "unhealthy" in not_health.stderr
