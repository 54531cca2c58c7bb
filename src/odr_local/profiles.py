"""Deployment profiles: the environments of samconfig.toml, read as ``sam deploy --config-env NAME`` reads them.

SAM CLI's own reader and its own parameter_overrides parser, not a look-alike: ``Name=rate(1 minute)`` without
quotes means ``rate(1`` to ``sam deploy``, and so it does here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from samcli.cli.types import CfnParameterOverridesType
from samcli.lib.config.samconfig import SamConfig

from .template import ROOT

SAMCONFIG = ROOT / "samconfig.toml"


class ProfileError(Exception):
    """A samconfig environment that does not exist, or that ``sam deploy`` could not read."""


@dataclass(frozen=True)
class Profile:
    name: str
    region: str
    stack_name: str
    parameters: dict[str, str]  # its parameter_overrides; the template's defaults give the rest


def _config(path: Path) -> SamConfig:
    return SamConfig(str(path.parent), path.name)


def names(path: Path = SAMCONFIG) -> list[str]:
    """Every environment that has ``deploy`` parameters, in the file's order."""
    config = _config(path)
    return [n for n in config.get_stage_configuration_names() if config.get_all(["deploy"], "parameters", n)]


def load(name: str, path: Path = SAMCONFIG) -> Profile:
    found = _config(path).get_all(["deploy"], "parameters", name)  # global parameters, then deploy's
    if not found:
        raise ProfileError(f"{path.name} has no environment {name!r} (it has: {', '.join(names(path))})")
    if "region" not in found:
        raise ProfileError(f"{path.name} [{name}.deploy.parameters] names no region")
    try:
        overrides = CfnParameterOverridesType().convert(found.get("parameter_overrides"), None, None)
    except Exception as exc:  # click's BadParameter: what sam deploy would print
        raise ProfileError(f"{path.name} [{name}]: {exc}") from exc
    return Profile(name, str(found["region"]), str(found.get("stack_name", "")), dict(overrides))
