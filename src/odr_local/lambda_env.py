"""A fresh interpreter laid out as Lambda lays out a function: for the cold-start bench and the built layer's test.

``python -I -S -B``: no site-packages (the venv's packages are not there), no .pyc written (/opt and /var/task are
read-only in Lambda). ``sys.path`` is the function's code folder, the built layer's ``python/`` (/opt/python),
then the runtime's SDK: boto3 and its dependencies, linked from this environment, as /var/runtime holds them.
The environment is the function's own from template.yaml as a deployment in ``region`` with ``overrides`` (a
samconfig environment's parameter_overrides) gives it: the template's defaults, then the overrides; Conditions,
Fn::If and AWS::NoValue as CloudFormation resolves them (odr_local.template.Resolver); each resource's Ref and
GetAtt a placeholder shaped as CloudFormation's. Plus what the Lambda runtime sets (LAMBDA_TASK_ROOT among them:
Powertools' tracer is on, as in Lambda).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from odr_local.parameter_checks import ACCOUNT, parameter_values, pseudo_parameters
from odr_local.template import TEMPLATE, Resolver, load_template

# What /var/runtime holds besides the runtime's own client: boto3 and everything it needs.
RUNTIME_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")
REGION = "cn-north-1"
STACK = "odr-adapter"


@dataclass(frozen=True)
class LambdaFunction:
    name: str  # the code folder's name: functions/<name>
    code: Path
    environment: dict[str, str]
    memory_mb: int


def runtime_sdk(dest: Path) -> Path:
    """A folder standing for /var/runtime: links to this environment's boto3 and its dependencies."""
    dest.mkdir(parents=True, exist_ok=True)
    site = Path(str(boto3.__file__)).parents[1]
    for name in RUNTIME_SDK:
        link = dest / name
        if not link.is_symlink():
            link.symlink_to(site / name)
    return dest


class _Attributes(dict[tuple[str, str], str]):
    """GetAtt of a resource not created: a name for a ``...Name`` attribute, else an ARN of the stack's region."""

    def __init__(self, partition: str, region: str) -> None:
        super().__init__()
        self.prefix = f"arn:{partition}:cloudformation:{region}:{ACCOUNT}"

    def __missing__(self, key: tuple[str, str]) -> str:
        logical_id, attr = key
        return f"{STACK}-{logical_id}" if attr.endswith("Name") else f"{self.prefix}:{logical_id}/{attr}"


def stack_resolver(template: dict[str, Any], region: str, overrides: dict[str, str]) -> Resolver:
    """What a deployment of ``template`` in ``region`` with ``overrides`` resolves: its parameters, pseudo
    parameters and Conditions for real; each resource's Ref a placeholder shaped as CloudFormation's."""
    pseudo = {**pseudo_parameters(region), "AWS::StackName": STACK}
    partition, suffix = pseudo["AWS::Partition"], pseudo["AWS::URLSuffix"]
    arn = f"arn:{partition}:{{}}:{region}:{ACCOUNT}:{{}}"
    shapes = {
        "AWS::SQS::Queue": f"https://sqs.{region}.{suffix}/{ACCOUNT}/{STACK}-{{}}",
        "AWS::SecretsManager::Secret": arn.format("secretsmanager", "secret:{}-AbCdEf"),
        "AWS::Serverless::StateMachine": arn.format("states", "stateMachine:{}"),
        "AWS::SNS::Topic": arn.format("sns", STACK + "-{}"),
        "AWS::Serverless::LayerVersion": arn.format("lambda", "layer:{}:1"),
        "AWS::Serverless::Api": "{}0api1d",
    }
    resolver = Resolver(pseudo, parameter_values(template, overrides), template.get("Conditions", {}))
    for logical_id, resource in template["Resources"].items():
        resolver.refs[logical_id] = shapes.get(resource["Type"], f"{STACK}-{{}}").format(logical_id)
    resolver.attrs = _Attributes(partition, region)
    return resolver


def functions(
    template_path: Path = TEMPLATE, region: str = REGION, overrides: dict[str, str] | None = None
) -> dict[str, LambdaFunction]:
    """Every function of the template, by its code folder's name, as deployed in ``region`` with ``overrides``."""
    template = load_template(template_path)
    resolver = stack_resolver(template, region, overrides or {})
    root = template_path.parent
    globals_ = template.get("Globals", {}).get("Function", {})
    common = globals_.get("Environment", {}).get("Variables", {})
    found: dict[str, LambdaFunction] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        if "Condition" in resource and not resolver.condition(resource["Condition"]):
            continue  # not created in this deployment
        props = resource["Properties"]
        code = (root / props["CodeUri"]).resolve()
        memory = int(props.get("MemorySize", globals_.get("MemorySize", 128)))
        variables = {**common, **props.get("Environment", {}).get("Variables", {})}
        env = {k: str(v) for k, v in resolver.resolve(variables).items()}
        env |= {
            "AWS_LAMBDA_FUNCTION_NAME": f"{STACK}-{logical_id}",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "LAMBDA_TASK_ROOT": str(code),
            "LAMBDA_RUNTIME_DIR": "/var/runtime",
            "_HANDLER": props.get("Handler", globals_.get("Handler", "app.handler")),
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PATH": "/usr/bin:/bin",
        }
        found[code.name] = LambdaFunction(code.name, code, env, memory)
    return found


def run(
    code: str, sys_path: list[Path], env: dict[str, str], cwd: Path, *flags: str
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh Lambda-like interpreter with ``sys_path`` first on its path."""
    boot = f"import sys\nsys.path[:0] = {[str(p) for p in sys_path]!r}\n{code}"
    return subprocess.run(
        [sys.executable, "-I", "-S", "-B", *flags, "-c", boot], env=env, cwd=cwd, capture_output=True, text=True
    )


def in_function(
    fn: LambdaFunction, layer: Path, runtime: Path, code: str, *flags: str
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` as a cold container of ``fn`` would: its folder, the layer (``layer/python``), the runtime."""
    return run(code, [fn.code, layer / "python", runtime], fn.environment, fn.code, *flags)
