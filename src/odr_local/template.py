"""Reading template.yaml and resolving the intrinsic functions the project uses, against local resources."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Ref, !Sub, !GetAtt, ...)."""


def _tag(name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {name: value}

    return construct


for _short in (
    "Ref",
    "Sub",
    "GetAtt",
    "Join",
    "If",
    "Select",
    "Split",
    "Equals",
    "Not",
    "And",
    "Or",
    "Condition",
    "FindInMap",
    "ImportValue",
    "Contains",  # the rule functions (Rules: odr_local.template_rules)
    "EachMemberEquals",
    "EachMemberIn",
    "RefAll",
    "ValueOf",
    "ValueOfAll",
):
    _Loader.add_constructor(f"!{_short}", _tag(_short if _short in ("Ref", "Condition") else f"Fn::{_short}"))


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return dict(yaml.load(handle, Loader=_Loader))


NO_VALUE = object()  # what ``!Ref AWS::NoValue`` leaves: the property or list item is dropped


class Resolver:
    """Resolves Ref / Fn::GetAtt / Fn::Sub / Fn::Join / Fn::If from the values of the resources created so far,
    and the template's Conditions (Fn::Equals / Fn::Not / Fn::And / Fn::Or / Condition) from its parameters."""

    def __init__(
        self, pseudo: dict[str, str], parameters: dict[str, str], conditions: dict[str, Any] | None = None
    ) -> None:
        self.refs: dict[str, str] = {**pseudo, **parameters}
        self.attrs: dict[tuple[str, str], str] = {}
        self.conditions: dict[str, Any] = conditions or {}

    def with_parameters(self, **changes: str) -> Resolver:
        """The same resources as if deployed with these parameters (the conditions follow them)."""
        other = Resolver({}, {}, self.conditions)
        other.refs, other.attrs = {**self.refs, **changes}, self.attrs
        return other

    def condition(self, name: str) -> bool:
        return self._holds(self.conditions[name])

    def _holds(self, value: Any) -> bool:
        key, arg = next(iter(value.items()))
        if key == "Fn::Equals":
            return str(self.resolve(arg[0])) == str(self.resolve(arg[1]))
        if key == "Fn::Not":
            return not self._holds(arg[0])
        if key == "Fn::And":
            return all(self._holds(a) for a in arg)
        if key == "Fn::Or":
            return any(self._holds(a) for a in arg)
        if key == "Condition":
            return self.condition(arg)
        raise NotImplementedError(f"condition function {key} has no local counterpart")

    def choose(self, value: Any) -> Any:
        """Only the Fn::If branches the conditions pick (and ``AWS::NoValue`` dropped); the rest as written."""
        if isinstance(value, list):
            return [c for c in (self.choose(v) for v in value) if c is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1 and "Fn::If" in value:
            name, if_true, if_false = value["Fn::If"]
            return self.choose(if_true if self.condition(name) else if_false)
        if value == {"Ref": "AWS::NoValue"}:
            return NO_VALUE
        return {k: c for k, c in ((k, self.choose(v)) for k, v in value.items()) if c is not NO_VALUE}

    def resolve(self, value: Any) -> Any:
        value = self.choose(value)
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            key, arg = next(iter(value.items()))
            if key == "Ref":
                return self.refs[arg]
            if key == "Fn::GetAtt":
                name, attr = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return self.attrs[(name, attr)]
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                sep, parts = arg
                return sep.join(str(self.resolve(p)) for p in parts)
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, arg: Any) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} is written as ${Literal}
                return "${" + name[1:] + "}"
            if name in extra:
                return str(extra[name])
            if "." in name:
                resource, attr = name.split(".", 1)
                return self.attrs[(resource, attr)]
            return self.refs[name]

        return re.sub(r"\$\{([^}]+)\}", one, text)
