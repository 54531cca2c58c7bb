"""The IAM policies template.yaml gives a function, resolved and evaluated offline.

A function's ``Policies:`` are SAM policy templates (expanded from the ``policy_templates.json`` that ships with
the installed samtranslator, exactly as ``sam deploy`` expands them) and inline policy documents. Their
intrinsic functions are resolved with a local stack's resolver, so the statements name the same ARNs as the
calls recorded on that stack (:mod:`odr_local.aws_calls`); a policy or statement under ``Fn::If`` counts only
when that stack's template Conditions choose it (``EmailBySmtp``: the relay's login, ``EmailBySes``: SES).

The evaluation is IAM's for identity-based policies of one role: an explicit Deny wins, otherwise an Allow whose
``Action`` / ``NotAction`` and ``Resource`` / ``NotResource`` match allows, otherwise the request is denied.
Actions match case-insensitively, resources case-sensitively, ``*`` and ``?`` are IAM's wildcards. Condition
blocks, policy variables, permission boundaries, SCPs and resource policies are out of scope: a statement with
a ``Condition`` is refused, so nothing is judged on a part the evaluator does not read. Managed policies that
SAM adds on its own (AWSLambdaBasicExecutionRole for logs, AWSXrayWriteOnlyAccess for tracing) are not in
``Policies:`` and not evaluated: the functions reach them through the runtime, not through boto3.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from .template import Resolver

_SAM = importlib.util.find_spec("samtranslator")  # the translator `sam build` / `sam deploy` use
assert _SAM is not None and _SAM.origin is not None, "aws-sam-translator is not installed"
POLICY_TEMPLATES = Path(_SAM.origin).parent / "policy_templates_data" / "policy_templates.json"
SAM_VERSION = importlib.metadata.version("aws-sam-translator")


@dataclass(frozen=True)
class Statement:
    source: str  # where it comes from: "DynamoDBCrudPolicy", "Statement SendMailOnly", ...
    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()

    def matches_action(self, action: str) -> bool:
        if self.not_actions:
            return not any(wildcard_match(p, action, ignore_case=True) for p in self.not_actions)
        return any(wildcard_match(p, action, ignore_case=True) for p in self.actions)

    def matches_resource(self, resource: str) -> bool:
        if self.not_resources:
            return not any(wildcard_match(p, resource) for p in self.not_resources)
        return any(wildcard_match(p, resource) for p in self.resources)

    def matches(self, action: str, resource: str) -> bool:
        return self.matches_action(action) and self.matches_resource(resource)


@cache
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's matching of an Action or Resource element: ``*`` any run of characters, ``?`` any one."""
    return _pattern(pattern, ignore_case).match(value) is not None


@lru_cache(maxsize=1)
def sam_policy_templates() -> dict[str, Any]:
    templates: dict[str, Any] = json.loads(POLICY_TEMPLATES.read_text(encoding="utf-8"))["Templates"]
    return templates


def _substitute(value: Any, parameters: dict[str, Any]) -> Any:
    """SAM's expansion of a policy template: each ``{"Ref": <template parameter>}`` becomes the given value."""
    if isinstance(value, list):
        return [_substitute(v, parameters) for v in value]
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in parameters:
            return parameters[value["Ref"]]
        return {k: _substitute(v, parameters) for k, v in value.items()}
    return value


def expand_policy_template(name: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements SAM writes for ``- <name>: {<parameters>}`` (parameters unresolved)."""
    templates = sam_policy_templates()
    if name not in templates:
        raise ValueError(f"{name} is not a SAM policy template (aws-sam-translator {SAM_VERSION})")
    template = templates[name]
    missing = set(template.get("Parameters", {})) - set(parameters)
    if missing:
        raise ValueError(f"{name} needs {sorted(missing)}")
    statements: list[dict[str, Any]] = _substitute(template["Definition"], parameters)["Statement"]
    return statements


def _listed(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


def _statement(source: str, raw: dict[str, Any]) -> Statement:
    if "Condition" in raw or "Principal" in raw or "NotPrincipal" in raw:
        raise ValueError(f"{source}: Condition / Principal are outside the offline evaluator's scope")
    effect = raw["Effect"]
    if effect not in ("Allow", "Deny"):
        raise ValueError(f"{source}: Effect {effect!r}")
    statement = Statement(
        source=source,
        effect=effect,
        actions=_listed(raw.get("Action")),
        not_actions=_listed(raw.get("NotAction")),
        resources=_listed(raw.get("Resource")),
        not_resources=_listed(raw.get("NotResource")),
    )
    if bool(statement.actions) == bool(statement.not_actions):
        raise ValueError(f"{source}: exactly one of Action / NotAction")
    if bool(statement.resources) == bool(statement.not_resources):
        raise ValueError(f"{source}: exactly one of Resource / NotResource")
    for pattern in statement.resources + statement.not_resources:
        if "${" in pattern:
            raise ValueError(f"{source}: unresolved {pattern!r} (a policy variable or a missed !Sub)")
    return statement


def function_statements(policies: list[Any], resolver: Resolver) -> list[Statement]:
    """Every statement of one function's ``Policies:``, resolved."""
    statements: list[Statement] = []
    for number, entry in enumerate(resolver.choose(policies), 1):  # a policy or statement under Fn::If: if chosen
        if isinstance(entry, str):
            raise ValueError(f"policy {number}: managed policy {entry!r} is outside the offline evaluator's scope")
        if set(entry) == {"Statement"} or "Version" in entry:
            raw_statements = entry["Statement"]
            raw_statements = raw_statements if isinstance(raw_statements, list) else [raw_statements]
            for raw in raw_statements:
                source = f"Statement {raw.get('Sid') or number}"
                statements.append(_statement(source, resolver.resolve(raw)))
            continue
        if len(entry) != 1:
            raise ValueError(f"policy {number}: neither a policy document nor one SAM policy template: {entry}")
        name, parameters = next(iter(entry.items()))
        for raw in expand_policy_template(name, parameters or {}):
            statements.append(_statement(name, resolver.resolve(raw)))
    return statements


def allows(statements: list[Statement], action: str, resource: str) -> bool:
    """IAM's answer for one request of a role with these statements (and nothing else)."""
    if any(s.effect == "Deny" and s.matches(action, resource) for s in statements):
        return False
    return any(s.effect == "Allow" and s.matches(action, resource) for s in statements)


def granted_actions(statements: list[Statement]) -> list[tuple[Statement, str]]:
    """Every (statement, action pattern) an Allow grants; a NotAction grant is refused (it grants everything
    else, which no function should have)."""
    found: list[tuple[Statement, str]] = []
    for statement in statements:
        if statement.effect != "Allow":
            continue
        if statement.not_actions:
            raise ValueError(f"{statement.source}: Allow with NotAction grants nearly everything")
        found.extend((statement, action) for action in statement.actions)
    return found
