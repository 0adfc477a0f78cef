"""docker-compose.yml cannot run here (no Docker engine), so its shape is checked by reading it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_defines_the_five_services_each_with_a_healthcheck():
    services = _compose()["services"]
    assert set(services) == {"db", "redis", "web", "worker", "beat"}
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no healthcheck"
    assert services["db"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")


def test_app_services_wait_for_healthy_db_and_redis_and_share_the_environment():
    services = _compose()["services"]
    for name in ("web", "worker", "beat"):
        service = services[name]
        assert service["depends_on"]["db"] == {"condition": "service_healthy"}
        assert service["depends_on"]["redis"] == {"condition": "service_healthy"}
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert "@db:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["DEBUG"] == "0"
        assert "SECRET_KEY" in env


def _procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(
        (part.strip() for part in line.split(":", 1))
        for line in lines
        if line.strip() and not line.startswith("#")
    )


def test_compose_runs_the_procfile_pieces_and_migrates_before_workers_start():
    services = _compose()["services"]
    procfile = _procfile()
    assert procfile == {"web": "bin/web", "worker": "bin/worker", "beat": "bin/beat"}
    web_command = " ".join(services["web"]["command"])
    assert web_command.index("bin/release") < web_command.index("bin/web")
    assert services["worker"]["command"] == ["bin/worker"]
    assert services["beat"]["command"] == ["bin/beat"]
    # Migrations (in the web service's release step) before any new worker or beat.
    for name in ("worker", "beat"):
        assert services[name]["depends_on"]["web"] == {"condition": "service_healthy"}
    assert "migrate" in (ROOT / "bin" / "release").read_text()
    assert "gunicorn clinic.wsgi:application" in (ROOT / "bin" / "web").read_text()


def test_dockerfile_installs_the_pinned_requirements():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements.txt" in dockerfile
    assert "python:3.11" in dockerfile


def test_the_product_image_has_stripe_and_never_localstripe():
    # localstripe is GPL-3 and a test tool: dev requirements only, never the image.
    product = (ROOT / "requirements.txt").read_text().lower()
    development = (ROOT / "requirements-dev.txt").read_text().lower()
    assert "\nstripe==" in product
    assert "localstripe" not in product
    assert "\nlocalstripe==" in development
    assert "requirements-dev" not in (ROOT / "Dockerfile").read_text()


def test_dockerfile_collects_static_files_in_production_mode_and_runs_the_same_pieces():
    dockerfile = (ROOT / "Dockerfile").read_text()
    collect = next(line for line in dockerfile.split("RUN ") if "collectstatic" in line)
    assert "DEBUG=0" in collect
    assert "DEBUG=1" not in dockerfile
    assert "bin/release" in dockerfile
    assert "bin/supervise" in dockerfile


def test_env_example_lists_every_variable_the_settings_read():
    settings_source = (ROOT / "clinic" / "settings.py").read_text()
    read = set(re.findall(r'env_\w+\("([A-Z_]+)"', settings_source))
    read |= set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', settings_source))
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert read - listed == set(), f"missing from .env.example: {sorted(read - listed)}"


def test_pinned_requirements_record_no_index_or_host():
    for name in ("requirements.txt", "requirements-dev.txt"):
        text = (ROOT / name).read_text()
        assert "://" not in text
        assert not any(
            line.startswith(("--index-url", "--extra-index-url", "-i "))
            for line in text.splitlines()
        )
        pins = [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]
        assert all("==" in line for line in pins), name
