"""Every function starts cold with exactly the environment ``sam deploy --config-env NAME`` gives it, for every
environment of samconfig.toml: the template's defaults plus the environment's parameter_overrides, Conditions and
Fn::If resolved as CloudFormation resolves them (odr_local.lambda_env), and nothing from the local stack.

A cold start is ``import app`` in a fresh interpreter (no site, no inherited variables) with the function's
folder, the layer's source and the venv's packages on its path: the handler module builds its settings there, so
a variable the deployment leaves empty or unset stops it as it would stop the Lambda function. The local stack
cannot show this: it deploys its own endpoints and secrets (issue 20: SesRegion="" stopped every sender).
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from odr_local import profiles
from odr_local.lambda_env import LambdaFunction, functions, run
from odr_local.template import ROOT

LAYER_SOURCE = ROOT / "layers" / "odr"
PACKAGES = Path(sysconfig.get_paths()["purelib"])
COLD = "import app\nprint(type(app.obs.settings).__name__)"


def deployed(name: str) -> dict[str, LambdaFunction]:
    profile = profiles.load(name)
    return functions(region=profile.region, overrides=profile.parameters)


@pytest.mark.parametrize("name", profiles.names())
def test_every_function_starts_cold_with_the_environment_a_deploy_of_the_profile_gives_it(name: str) -> None:
    fns = deployed(name)
    assert len(fns) >= 17
    failed = {}
    for folder, fn in fns.items():
        done = run(COLD, [fn.code, LAYER_SOURCE, PACKAGES], fn.environment, fn.code)
        if done.returncode != 0 or not done.stdout.strip().endswith("Settings"):
            failed[folder] = (done.stderr.strip().splitlines() or ["(no error)"])[-1]
    assert not failed, f"functions that stop at cold start when deployed with --config-env {name}: {failed}"


def test_the_profiles_give_the_functions_what_they_configure() -> None:
    """The environments differ where they should: SES in the stack's own region vs the relay; SNS vs gateway."""
    default, china = deployed("default")["notify"].environment, deployed("china")["notify"].environment
    assert (default["EMAIL_CHANNEL"], default["SES_REGION"]) == ("ses", "ap-southeast-1")  # SesRegion="": its own
    assert default["SMS_GATEWAY_URL"] == ""
    assert (china["EMAIL_CHANNEL"], china["SMTP_PORT"], china["SMTP_TLS"]) == ("smtp", "465", "implicit")
    assert china["SMS_GATEWAY_URL"].startswith("https://") and china["AWS_REGION"] == "cn-north-1"
    assert china["ACTION_BASE_URL"].endswith(".execute-api.cn-north-1.amazonaws.com.cn/prod")
