"""What CloudFormation checks of a stack's parameters before it creates anything, so that ``sam deploy`` refuses
a bad combination: every parameter is the template's and has a value, each value against its AllowedValues,
AllowedPattern, MinLength/MaxLength and MinValue/MaxValue, then the template's Rules.

The rule functions as the CloudFormation reference defines them (Fn::And, Fn::Or, Fn::Not, Fn::Equals,
Fn::Contains, Fn::EachMemberEquals, Fn::EachMemberIn, Ref). Fn::RefAll, Fn::ValueOf and Fn::ValueOfAll ask the
account about AWS-specific parameter types (VPCs, subnets): this template has none, and they raise here.
"""

from __future__ import annotations

import re
from typing import Any

import boto3

ACCOUNT = "123456789012"


def pseudo_parameters(region: str, account: str = ACCOUNT) -> dict[str, str]:
    partition = boto3.session.Session().get_partition_for_region(region)
    return {
        "AWS::Region": region,
        "AWS::Partition": partition,
        "AWS::AccountId": account,
        "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
    }


def parameter_values(template: dict[str, Any], overrides: dict[str, str]) -> dict[str, str]:
    """What the stack's parameters are: the template's defaults, then the overrides (``sam deploy``'s)."""
    declared = template.get("Parameters", {})
    defaults = {k: str(v["Default"]) for k, v in declared.items() if "Default" in v}
    return {**defaults, **overrides}


def problems(template: dict[str, Any], overrides: dict[str, str], region: str) -> list[str]:
    """Every reason CloudFormation would refuse these parameters in ``region`` (empty: it accepts them)."""
    declared = template.get("Parameters", {})
    values = parameter_values(template, overrides)
    found = [f"parameter {k} does not exist in the template" for k in overrides if k not in declared]
    found += [f"parameter {k} must have a value" for k in declared if k not in values]
    for name, spec in declared.items():
        if name in values:
            found += _constraints(name, spec, values[name])
    if found:
        return found  # CloudFormation validates the parameters before it evaluates any rule
    refs: dict[str, Any] = {**pseudo_parameters(region), **_typed(declared, values)}
    for rule_name, rule in template.get("Rules", {}).items():
        if "RuleCondition" in rule and not _holds(rule["RuleCondition"], refs):
            continue
        for assertion in rule["Assertions"]:
            if not _holds(assertion["Assert"], refs):
                found.append(f"rule {rule_name}: {assertion.get('AssertDescription', 'assertion failed').strip()}")
    return found


def _constraints(name: str, spec: dict[str, Any], value: str) -> list[str]:
    why = spec.get("ConstraintDescription")
    out: list[str] = []
    if "AllowedValues" in spec and value not in [str(v) for v in spec["AllowedValues"]]:
        out.append(f"parameter {name}={value!r} is not one of {spec['AllowedValues']}")
    if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
        out.append(f"parameter {name}={value!r} must match {spec['AllowedPattern']}" + (f" ({why})" if why else ""))
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        out.append(f"parameter {name} is shorter than {spec['MinLength']}")
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        out.append(f"parameter {name} is longer than {spec['MaxLength']}")
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            return [*out, f"parameter {name}={value!r} must be a number"]
        if "MinValue" in spec and number < float(spec["MinValue"]):
            out.append(f"parameter {name}={value} is less than {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            out.append(f"parameter {name}={value} is greater than {spec['MaxValue']}")
    return out


def _typed(declared: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """A Ref to a list type is the list of its comma-separated members; any other, the text."""
    return {
        k: [m.strip() for m in v.split(",")] if str(declared[k].get("Type", "")).startswith(("List<", "Comma")) else v
        for k, v in values.items()
    }


def _value(value: Any, refs: dict[str, Any]) -> Any:
    if isinstance(value, dict) and len(value) == 1 and "Ref" in value:
        return refs[value["Ref"]]
    if isinstance(value, list):
        return [_value(v, refs) for v in value]
    if isinstance(value, dict):
        return _holds(value, refs)
    return value


def _strings(value: Any, refs: dict[str, Any]) -> list[str]:
    got = _value(value, refs)
    if not isinstance(got, list):
        raise ValueError(f"a list of strings was expected, not {got!r}")
    return [str(v) for v in got]


def _holds(expression: Any, refs: dict[str, Any]) -> bool:
    (function, args), *rest = expression.items()
    if rest:
        raise ValueError(f"a rule function takes one key, not {sorted(expression)}")
    if function == "Fn::And":
        return all(_holds(a, refs) for a in args)
    if function == "Fn::Or":
        return any(_holds(a, refs) for a in args)
    if function == "Fn::Not":
        return not _holds(args[0], refs)
    if function == "Fn::Equals":
        left, right = (_value(a, refs) for a in args)
        return str(left) == str(right) if not isinstance(left, list) else left == right
    if function == "Fn::Contains":  # true if the string is one of the list's
        return str(_value(args[1], refs)) in _strings(args[0], refs)
    if function == "Fn::EachMemberEquals":  # true if every member of the list is the string
        return all(m == str(_value(args[1], refs)) for m in _strings(args[0], refs))
    if function == "Fn::EachMemberIn":  # true if every member of the first list is one of the second's
        allowed = _strings(args[1], refs)
        return all(m in allowed for m in _strings(args[0], refs))
    raise NotImplementedError(f"rule function {function} needs the account's resources; not evaluated locally")
