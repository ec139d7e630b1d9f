"""The settings declared once (pipelines/config.py) against the committed `.dlt/` files: every
key they name, set or shown commented out, is a declared field whose example value resolves;
a value of the wrong type is one line naming the key."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from dlt.common.configuration.specs import BaseConfiguration, RuntimeConfiguration

from pipelines.config import SECTIONS, SourceSettings, fields_of, load
from pipelines.errors import SettingError
from pipelines.models import ModelParams

DLT_DIR = Path(__file__).resolve().parents[2] / ".dlt"
FILES = ("config.toml", "secrets.toml.example")
# `[runtime]` is dlt's own section; the others are ours.
KNOWN: dict[tuple[str, ...], type[BaseConfiguration]] = {
    **SECTIONS,
    ("runtime",): RuntimeConfiguration,
}
# `key = value`, set or commented out (`# key = value`, a trailing comment allowed)
_KEY = re.compile(r"^#?\s*([a-z_][a-z0-9_]*)\s*=\s*(.+?)\s*(?:#.*)?$")
_SECTION = re.compile(r"^\[([a-z_.]+)\]\s*$")


def named_keys(text: str) -> list[tuple[tuple[str, ...], str, Any]]:
    """Every (section, key, value) a settings file names, commented-out examples included."""
    found: list[tuple[tuple[str, ...], str, Any]] = []
    section: tuple[str, ...] = ()
    for line in text.splitlines():
        if header := _SECTION.match(line.strip()):
            section = tuple(header.group(1).split("."))
        elif key := _KEY.match(line.strip()):
            value = tomllib.loads(f"v = {key.group(2)}")["v"]  # an example must be valid TOML
            found.append((section, key.group(1), value))
    return found


@pytest.mark.parametrize("name", FILES)
def test_every_key_the_settings_files_name_is_a_declared_field(name):
    keys = named_keys((DLT_DIR / name).read_text())
    assert len(keys) >= (25 if name == "config.toml" else 2)  # the parser found them
    undeclared = [
        ".".join((*section, key))
        for section, key, _ in keys
        if section not in KNOWN or key not in fields_of(KNOWN[section])
    ]
    assert undeclared == []


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        pytest.param(section, key, value, id=".".join((*section, key)))
        for section, key, value in named_keys((DLT_DIR / "config.toml").read_text())
        if section in SECTIONS
    ],
)
def test_every_example_value_resolves_to_its_field(section, key, value, monkeypatch):
    """The commented-out defaults are real: set through the environment, each resolves to
    the value shown (and is the declared default, so the file cannot drift from the code)."""
    _credentials(monkeypatch)
    spec = SECTIONS[section]
    variable = "__".join((*section, key)).upper()
    text = value if isinstance(value, str) else _env_text(value)
    monkeypatch.setenv(variable, text)
    resolved = getattr(load(spec), key)
    assert resolved == value
    if key not in ("evse_ids", "max_duration", "credentials", "lock_dir"):  # examples only
        assert getattr(spec(), key) == value


def _fields_with_types() -> list[tuple[tuple[str, ...], str]]:
    """Every declared field that a text can have the wrong type for (not plain strings)."""
    return [
        (section, key)
        for section, spec in SECTIONS.items()
        for key, hint in fields_of(spec).items()
        if "str" not in str(hint) or "list" in str(hint)
        if not isinstance(hint, type) or not issubclass(hint, BaseConfiguration)
    ]


@pytest.mark.parametrize(
    ("section", "key"),
    [pytest.param(s, k, id=".".join((*s, k))) for s, k in _fields_with_types()],
)
def test_a_wrong_type_is_one_line_naming_the_key(section, key, monkeypatch):
    _credentials(monkeypatch)
    variable = "__".join((*section, key)).upper()
    monkeypatch.setenv(variable, "not-a-value")
    with pytest.raises(SettingError) as raised:
        load(SECTIONS[section])
    message = str(raised.value)
    assert "\n" not in message
    assert ".".join((*section, key)) in message and variable in message


def test_a_model_threshold_out_of_range_names_the_key(monkeypatch):
    monkeypatch.setenv("MODELS__STALENESS_MINUTES", "-1")
    with pytest.raises(SettingError, match=r"^models\.staleness_minutes must be"):
        load(ModelParams)


def test_the_rate_limit_reserve_is_declared_once_as_50():
    """The source's default is the one the committed file documents (it was 0 in code and 50
    in the file)."""
    assert SourceSettings().rate_limit_reserve == 50


def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__EVENERGY__CREDENTIALS__CLIENT_ID", "id")
    monkeypatch.setenv("SOURCES__EVENERGY__CREDENTIALS__CLIENT_SECRET", "secret")


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(f'"{v}"' for v in value) + "]"
    return str(value)


@pytest.mark.parametrize(
    "section", [pytest.param(s, id=".".join(s)) for s in SECTIONS if s[0] != "sources"]
)
def test_a_key_is_read_at_its_full_path_only(section, monkeypatch):
    """`[pipeline] destination` once read the whole `[destination]` table: dlt also looks a
    key up at shorter paths unless the spec names its own section. A bare `DESTINATION`,
    `DIRECTORY` or `UMASK` in the environment must change nothing."""
    spec = SECTIONS[section]
    for key in fields_of(spec):
        for shorter in range(len(section)):  # `KEY`, and `DESTINATION__KEY` for destination.duckdb
            monkeypatch.setenv("__".join((*section[:shorter], key)).upper(), "not-a-value")
    if len(section) > 1:
        assert spec.__section__ == section[-1]
    assert dict(load(spec)) == dict(spec())
