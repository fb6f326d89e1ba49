"""Deployment files say what they should: the App manifest, Procfile, Dockerfile and compose file.

These check their shape; tests/test_container.py builds the image and brings the compose file up.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"


def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "app.yml").read_text())


def readme_table(heading: str) -> list[list[str]]:
    """Rows of the README table whose header row starts with `heading`."""
    lines = README.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {heading}"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def key_of(cell: str) -> str:
    m = re.search(r"\(`([a-z_]+)`\)", cell)
    assert m, f"README cell {cell!r} does not name its app.yml key as (`key`)"
    return m.group(1)


def test_manifest_permissions_equal_the_readme_table() -> None:
    table = {key_of(row[0]): row[1] for row in readme_table("permission (`app.yml` key)")}
    assert table == manifest()["default_permissions"]


def test_manifest_events_equal_the_readme_table() -> None:
    table = [key_of(row[0]) for row in readme_table("event (`app.yml` key)")]
    assert table == manifest()["default_events"]


def test_manifest_asks_for_least_privilege() -> None:
    m = manifest()
    perms = m["default_permissions"]
    # Pull requests: read, for their descriptions (issue 16); write would let the App open them.
    assert perms["contents"] == "read" and perms["pull_requests"] == "read" and "administration" not in perms
    assert set(perms) == {"issues", "contents", "metadata", "repository_advisories", "discussions", "pull_requests"}
    assert m["public"] is False
    # Every field the setup page fills in is there, with the path Secbot serves.
    assert m["hook_attributes"]["url"].endswith("/webhook")
    assert m["redirect_url"].endswith("/setup/callback")
    assert m["setup_url"].endswith("/setup/installed")
    assert all(u.endswith("/setup/installed") for u in m["callback_urls"])


def test_procfile_serves_and_migrates_on_release() -> None:
    lines = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert {k: v.strip() for k, v in lines.items()} == {"web": "secbot serve", "release": "secbot migrate"}


def test_dockerfile_runs_as_a_non_root_user_with_a_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert text.startswith("#") and re.search(r"^ARG BASE=python:3\.11-slim$", text, re.M)
    # Secbot is installed from the build context into a virtual environment, copied alone into
    # the image, which is the base image again.
    assert re.search(r"^RUN python3 -m venv /opt/secbot", text, re.M) and '/opt/secbot/bin/pip install "$@" .' in text
    assert re.findall(r"^FROM (\S+)", text, re.M)[-1] == "${BASE}"
    assert "COPY --from=build /opt/secbot /opt/secbot" in text
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r"^EXPOSE 3000$", text, re.M)
    assert re.search(r"^HEALTHCHECK .*\n?.*?/healthz", text, re.M)
    assert text.rstrip().splitlines()[-1] == 'CMD ["secbot", "serve"]'
    # The image needs the manifest for its setup page, and nothing secret.
    assert "app.yml" in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "*.db", "secbot.env", "*.pem"} <= set(ignored)


def test_compose_runs_two_replicas_on_one_postgresql_database() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    db = services["db"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    replicas = {name: s for name, s in services.items() if s.get("build") == "."}
    assert len(replicas) == 2
    urls = {s["environment"]["DATABASE_URL"] for s in replicas.values()}
    assert len(urls) == 1 and next(iter(urls)).startswith("postgresql://") and "@db:5432/" in next(iter(urls))
    for s in replicas.values():
        assert s["depends_on"]["db"]["condition"] == "service_healthy"
        assert "ports" not in s  # reached through the one proxy port
    proxy = services["proxy"]
    assert proxy["ports"] == ["${PROXY_PORT:-3000}:3000"]
    nginx = proxy["environment"]["NGINX_CONF"]
    assert all(f"server {name}:3000" in nginx for name in replicas)
    # The proxy starts once both replicas answer their health check (else it answers 502 at first).
    assert proxy["depends_on"] == {name: {"condition": "service_healthy"} for name in replicas}


def test_compose_keeps_to_what_docker_compose_1_29_reads() -> None:
    """Debian bookworm's compose is docker-compose 1.29: no inline configs, env_file as a path."""
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert "configs" not in compose
    for service in compose["services"].values():
        env_file = service.get("env_file", [])
        assert all(isinstance(e, str) for e in ([env_file] if isinstance(env_file, str) else env_file))
        assert "configs" not in service


# The lowest release of each dependency without the advisories Secbot is exposed to.
FIXED_FLOORS = {
    "jinja2": "3.1.6",  # CVE-2025-27516: sandbox escape through |attr (repository template overrides)
    # Request smuggling in the HTTP parser (CVE-2024-23829, CVE-2024-52304, CVE-2025-53643,
    # CVE-2025-69224, GHSA-pqxq-w44r-73xw), unbounded trailers (CVE-2026-22815) and a
    # max_line_size bypass (CVE-2026-54277); the last fixed in 3.14.4.
    "aiohttp": "3.14.4",
}


def test_dependency_floors_exclude_the_known_vulnerable_releases_and_the_installed_ones_meet_them() -> None:
    import tomllib
    from importlib.metadata import version

    from packaging.requirements import Requirement
    from packaging.version import Version

    requirements = {}
    for line in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]:
        req = Requirement(line)
        requirements[req.name.lower()] = req
    for name, fixed in FIXED_FLOORS.items():
        spec = requirements[name].specifier
        floors = [Version(s.version) for s in spec if s.operator in (">=", "==", "~=")]
        assert floors and min(floors) >= Version(fixed), f"{name}{spec} admits releases before {fixed}"
    for name, req in requirements.items():
        assert req.specifier.contains(version(name), prereleases=True), f"installed {name} {version(name)} is not {req}"
