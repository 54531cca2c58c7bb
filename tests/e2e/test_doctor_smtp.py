"""``odr doctor`` on a local stack of its own with EmailChannel=smtp (the China profile's e-mail): run as the README
runs it, ``odr --env-file build/local-stack.env doctor`` in a process of its own, it passes, the relay taking the
login (EHLO, STARTTLS, AUTH, QUIT); with the login's password changed it names the refused login (535)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from odr_adapter.observability import DOCTOR_EVENT
from odr_cli.main import main
from odr_local.iam import allows, function_statements
from odr_local.invoker import FUNCTIONS
from odr_local.stack import LocalStack
from odr_local.template import ROOT, load_template

START = datetime.fromisoformat("2025-06-02T09:00:00+08:00")  # 2025 and 2026: both in the packaged calendar


@dataclass(frozen=True)
class SmtpStack:
    stack: LocalStack
    env_file: Path  # as `make up` writes it
    in_process_env_file: Path  # less the clock: this process's clock is the stack's already


@pytest.fixture(scope="module")
def smtp_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpStack]:
    stack = LocalStack(START, parameters={"EmailChannel": "smtp"}).start()
    folder = tmp_path_factory.mktemp("doctor-smtp")
    text = stack.env_file()
    (folder / "local-stack.env").write_text(text)
    (folder / "in-process.env").write_text("".join(f"{x}\n" for x in text.splitlines() if "ODR_LOCAL_CLOCK" not in x))
    try:
        yield SmtpStack(stack, folder / "local-stack.env", folder / "in-process.env")
    finally:
        stack.stop()


def test_the_local_stack_passes_run_as_the_readme_runs_it(smtp_stack: SmtpStack) -> None:
    odr = Path(sys.executable).parent / "odr"
    clean = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}  # the env file says the rest
    got = subprocess.run(
        [str(odr), "--env-file", str(smtp_stack.env_file), "doctor"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = got.stdout.splitlines()
    assert got.returncode == 0, got.stdout + got.stderr
    assert not [x for x in lines if x.startswith("✗")]
    relay = smtp_stack.stack.smtp_server
    assert relay is not None
    assert (
        f"✓ the SMTP relay 127.0.0.1:{relay.port} (starttls) takes the login (EHLO, TLS, AUTH, QUIT; nothing sent)"
        in lines
    )
    assert any(x.startswith("✓ the SMTP relay's login (SMTP_SECRET) exists and its functions read it: ") for x in lines)
    assert not any("SES identity" in x for x in lines)  # smtp: SES is not asked
    assert "✓ a working-day calendar for 2025: chinese-calendar" in got.stdout  # the stack's year, not the machine's
    assert not relay.received, "the check sent something"


def test_a_wrong_smtp_password(smtp_stack: SmtpStack, capsys: pytest.CaptureFixture[str]) -> None:
    stack, relay = smtp_stack.stack, smtp_stack.stack.smtp_server
    assert relay is not None
    secrets, arn = stack.client("secretsmanager"), stack.deployment.ref("SmtpSecretArn")
    secrets.put_secret_value(SecretId=arn, SecretString=json.dumps({"username": relay.username, "password": "old"}))
    try:
        code = main(["--env-file", str(smtp_stack.in_process_env_file), "doctor"])
    finally:
        secrets.put_secret_value(SecretId=arn, SecretString=relay.login_json())
    failed = [x for x in capsys.readouterr().out.splitlines() if x.startswith("✗")]
    assert code == 1
    assert failed == [
        f"✗ the SMTP relay 127.0.0.1:{relay.port} (starttls) takes the login (EHLO, TLS, AUTH, QUIT; nothing sent): "
        f"the relay refused the login (SMTP 535) — fix: put the relay's current login in {arn} (JSON username, "
        "password)"
    ]


def test_each_function_reads_exactly_the_secrets_its_role_may_read(smtp_stack: SmtpStack) -> None:
    """With e-mail by SMTP and an SMS gateway (every conditional secret in use): what a function reads for the
    doctor is what template.yaml lets its role read, so a ✗ in AWS is a real AccessDenied, never the doctor's own."""
    stack = smtp_stack.stack
    resolver, template = stack.deployment.resolver, load_template()
    created = stack.deployment.created
    secrets = {stack.deployment.ref(k) for k, t in created.items() if t == "AWS::SecretsManager::Secret"}
    secrets.add(resolver.refs["SmtpSecretArn"])  # the operator's, outside the stack
    lam = stack.client("lambda")
    for fn in FUNCTIONS.values():
        answer = json.loads(lam.invoke(FunctionName=fn.name, Payload=json.dumps(DOCTOR_EVENT))["Payload"].read())
        read = {s["secret"] for s in answer["secrets"].values()}
        role = function_statements(template["Resources"][fn.logical_id]["Properties"].get("Policies", []), resolver)
        assert read == {s for s in secrets if allows(role, "secretsmanager:GetSecretValue", s)}, fn.logical_id
