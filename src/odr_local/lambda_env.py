"""A fresh interpreter laid out as Lambda lays out a function: for the cold-start bench and the built layer's test.

``python -I -S -B``: no site-packages (the venv's packages are not there), no .pyc written (/opt and /var/task are
read-only in Lambda). ``sys.path`` is the function's code folder, the built layer's ``python/`` (/opt/python),
then the runtime's SDK: boto3 and its dependencies, linked from this environment, as /var/runtime holds them.
The environment is the function's own from template.yaml, every Ref and Sub resolved to a parameter's default or a
placeholder, plus what the Lambda runtime sets (LAMBDA_TASK_ROOT among them: Powertools' tracer is on, as in
Lambda).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from odr_local.template import TEMPLATE, load_template

# What /var/runtime holds besides the runtime's own client: boto3 and everything it needs.
RUNTIME_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")
REGION = "cn-north-1"
PSEUDO = {"AWS::Region": REGION, "AWS::URLSuffix": "amazonaws.com.cn", "AWS::Partition": "aws-cn"}


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


def _resolve(value: Any, parameters: dict[str, Any]) -> str:
    if isinstance(value, str):
        return value
    (kind, arg), *_ = value.items()
    if kind == "Ref":
        return str(parameters.get(arg, {}).get("Default") or f"local-{arg}")
    if kind == "Fn::Sub":
        return re.sub(r"\$\{([^}]+)\}", lambda m: PSEUDO.get(m.group(1), f"local-{m.group(1)}"), arg)
    if kind == "Fn::GetAtt":
        name = arg if isinstance(arg, str) else ".".join(arg)
        return f"arn:aws-cn:local:{REGION}:123456789012:{name}"
    raise ValueError(f"cannot resolve {kind} outside a deployment")


def functions(template_path: Path = TEMPLATE) -> dict[str, LambdaFunction]:
    """Every function of the template, by its code folder's name."""
    template = load_template(template_path)
    root = template_path.parent
    parameters = template.get("Parameters", {})
    globals_ = template.get("Globals", {}).get("Function", {})
    common = globals_.get("Environment", {}).get("Variables", {})
    found: dict[str, LambdaFunction] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        code = (root / props["CodeUri"]).resolve()
        memory = int(props.get("MemorySize", globals_.get("MemorySize", 128)))
        variables = {**common, **props.get("Environment", {}).get("Variables", {})}
        env = {k: _resolve(v, parameters) for k, v in variables.items()}
        env |= {
            "AWS_LAMBDA_FUNCTION_NAME": f"local-{logical_id}",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
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
