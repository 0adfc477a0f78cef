"""Production static files: collectstatic with the manifest storage of DEBUG=0."""

from __future__ import annotations

import json

from django.core.management import call_command
from django.test import override_settings

from clinic import settings as project_settings


def test_collectstatic_with_the_manifest_storage_hashes_every_file(tmp_path):
    # Production's storage is whitenoise's compressing subclass of this one (the production-mode
    # test runs that); the manifest part is what rejects references to missing files.
    production_storages = {
        **project_settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=production_storages):
        call_command("collectstatic", interactive=False, verbosity=0)

    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    assert "css/site.css" in manifest
    assert "vendor/event-calendar/event-calendar.min.js" in manifest
    assert (tmp_path / manifest["css/site.css"]).exists()
