"""Shared test settings: where the public face data lives, and how its absence is handled.

The data folder is found through ONE setting, CERTIFY_DATA_DIR (default ../shared/data
beside the repository). Tests that need it skip with a clear message when it is absent,
except under CI (CI=true), where a missing data folder is an error.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    return Path(os.environ.get("CERTIFY_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_configure(config: pytest.Config) -> None:
    if in_ci() and not data_dir().is_dir():
        raise pytest.UsageError(
            f"CI=true but the test data folder {data_dir()} is missing "
            "(set CERTIFY_DATA_DIR or put ../shared/data beside the repository)"
        )


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public face data folder (people/, videos/, attacks/)."""
    path = data_dir()
    if not path.is_dir():
        pytest.skip(f"test data not found at {path}; set CERTIFY_DATA_DIR to run this test")
    return path
