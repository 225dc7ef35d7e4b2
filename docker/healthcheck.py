"""Container healthcheck for the web service: GET /healthz on the local gunicorn, exit 0 only on {"status": "ok"}.

Django answers only for a host in ALLOWED_HOSTS, so the request names the first one. It also says it came over
https (X-Forwarded-Proto), which Django trusts only when BEHIND_PROXY is on: then SECURE_SSL does not redirect it.
Usage: python docker/healthcheck.py [URL]   (default http://127.0.0.1:8000/healthz)
"""

import json
import os
import sys
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/healthz"


def host_header() -> str:
    for host in os.environ.get("ALLOWED_HOSTS", "localhost").split(","):
        host = host.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


def main(url: str) -> int:
    request = urllib.request.Request(url, headers={"Host": host_header(), "X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            body = json.loads(response.read() or b"{}")
    except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy", reported on stderr
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    if body.get("status") != "ok":
        print(f"unhealthy: {url} answered {body}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_URL))
