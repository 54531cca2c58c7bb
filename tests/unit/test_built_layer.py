"""The layer as `sam build` builds it (layers/odr/Makefile, the target SAM runs): exactly the lock's packages, no
AWS SDK, phonenumbers without its data, every module compiled so a cold start never compiles; and with the
runtime's boto3 beside it every handler starts (imports, settings validated) in a Lambda-like interpreter.

The build installs the lock's wheels with pip (from the package index, or pip's cache when it has them).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from odr_local.lambda_env import functions, in_function, runtime_sdk
from tests.unit.test_layer_contents import LAYER, RUNTIME_SDK, _pins

SDK_FOLDERS = {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six.py"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("layer")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        ["make", "-s", "-C", str(LAYER), "build-OdrLayer", f"ARTIFACTS_DIR={out}"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"the layer's build failed:\n{done.stdout}{done.stderr}"
    return out


def test_the_layer_holds_exactly_the_locked_packages(built: Path) -> None:
    shipped = {}
    for info in (built / "python").glob("*.dist-info"):
        name, version = info.name.removesuffix(".dist-info").rsplit("-", 1)
        shipped[canonicalize_name(name)] = version
    assert shipped == _pins("requirements-lock.txt")
    assert not shipped.keys() & RUNTIME_SDK


def test_the_layer_ships_no_aws_sdk_and_no_phone_number_data(built: Path) -> None:
    top = {p.name for p in (built / "python").iterdir()}
    assert not top & SDK_FOLDERS  # the runtime's boto3, botocore and the rest, never shadowed
    phonenumbers = built / "python" / "phonenumbers"
    assert (phonenumbers / "phonenumberutil.py").exists()
    assert not [d.name for d in phonenumbers.iterdir() if d.name in ("geodata", "carrierdata", "tzdata")]


def test_every_module_has_a_pyc_valid_whatever_the_mtimes(built: Path) -> None:
    layer = built / "python"
    sources = [p for p in layer.rglob("*.py") if "-stubs" not in p.parts[len(layer.parts)]]
    missing, checked = [], []
    for source in sources:
        pyc = Path(importlib.util.cache_from_source(str(source)))
        if not pyc.exists():
            missing.append(source.relative_to(layer))
        elif int.from_bytes(pyc.read_bytes()[4:8], "little") != 0b01:  # PEP 552: hash-based, not checked
            checked.append(source.relative_to(layer))
    assert len(sources) > 500
    assert missing == [] and checked == []


def test_every_handler_starts_from_the_layer_and_the_runtimes_sdk(built: Path, tmp_path: Path) -> None:
    runtime = runtime_sdk(tmp_path / "runtime")
    code = (
        "import app, boto3, botocore, botocore.client, wrapt\nprint(botocore.__file__)\nprint(callable(app.handler))\n"
        # the tracer is on (as in Lambda) and X-Ray wraps every AWS call
        "print(isinstance(vars(botocore.client.BaseClient)['_make_api_call'], wrapt.FunctionWrapper))"
    )
    fns = functions()
    assert len(fns) >= 17
    for name, fn in fns.items():
        done = in_function(fn, built, runtime, code)
        assert done.returncode == 0, f"{name}:\n{done.stderr[-2000:]}"
        botocore_file, handler, traced = done.stdout.split()
        assert Path(botocore_file).is_relative_to(runtime), name  # the runtime's botocore, with its boto3
        assert (handler, traced) == ("True", "True"), name
