"""Settings come from WORKJET_* variables only, parse to their types, and are documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults_are_the_embedded_stack() -> None:
    settings = Settings.from_env({})
    assert settings.database_url.startswith("sqlite:///")
    assert settings.ratelimit_storage_uri == "memory://"
    assert settings.audit_url.startswith("file://")


def test_environment_overrides_and_parses_types() -> None:
    settings = Settings.from_env(
        {"WORKJET_WORKERS": "4", "WORKJET_DATABASE_URL": "postgresql+psycopg://db/w",
         "UNRELATED": "x"}
    )
    assert settings.workers == 4
    assert settings.database_url == "postgresql+psycopg://db/w"


def test_bad_number_says_what_to_set() -> None:
    with pytest.raises(ConfigError, match="WORKJET_WORKERS='many': set it to a number"):
        Settings.from_env({"WORKJET_WORKERS": "many"})


def test_readme_documents_every_setting() -> None:
    text = README.read_text()
    missing = [name for name in Settings.env_names() if f"`{name}`" not in text]
    assert missing == [], f"README.md's configuration table lacks {missing}"


def test_no_other_module_reads_workjet_environment() -> None:
    root = Path(__file__).resolve().parents[2] / "gateway"
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "config.py":
            continue
        text = path.read_text()
        if "WORKJET_" in text and ("os.environ" in text or "getenv" in text):
            offenders.append(str(path.relative_to(root)))
    assert offenders == []
