"""A scenario on every samconfig.toml environment (`make test` covers a new environment by itself): the local
stack deploys the environment's region and parameter_overrides, adding only its own endpoints and secrets, the
cases close, and people get their messages by the channels the environment configures: e-mail through SES in
the SES region or through the SMTP relay, SMS through Amazon SNS or the SMS gateway, and nothing by the other."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from odr_local import profiles
from odr_local.parameter_checks import ACCOUNT, parameter_values
from odr_local.runner import ScenarioRun, stack_for
from odr_local.scenario import Scenario
from odr_local.template import load_template

from .conftest import PathsRun

HERE = Path(__file__).parent


@pytest.fixture(scope="module", params=profiles.names())
def profile_run(request: pytest.FixtureRequest) -> Iterator[PathsRun]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    scenario = Scenario.load(HERE / "profiles.yaml")
    scenario.config_env = request.param
    stack = stack_for(scenario)
    out = io.StringIO()
    try:
        result = ScenarioRun(scenario, stack, out).run()
        yield PathsRun(stack, result, "\n".join(stack.deployed_from()))
    finally:
        stack.stop()


def test_the_stack_is_the_environments_but_for_its_own_endpoints(profile_run: PathsRun) -> None:
    stack = profile_run.stack
    assert stack.profile is not None
    deployed = stack.deployment.resolver.refs
    assert deployed["AWS::Region"] == stack.profile.region
    own = {"FeedBaseUrl", "PublicBaseUrl", "SmsGatewayUrl", "SmtpHost", "SmtpPort", "SmtpSecretArn"}
    assert set(stack.local_changes) <= own
    for name, value in stack.profile.parameters.items():
        if name not in stack.local_changes and name not in ("FeedPollRate", "SweepRate"):  # the scenario's
            assert deployed[name] == value, name
    for name, (_, local) in stack.local_changes.items():
        assert deployed[name] == local and f"  {name} = {local}" in profile_run.output  # and said so


def test_the_cases_close_and_people_get_messages_by_the_environments_channels(profile_run: PathsRun) -> None:
    stack = profile_run.stack
    assert stack.profile is not None
    cases = profile_run.result["cases"]
    assert cases and all(c["status"] == "closed" for c in cases)
    assert any(c["outcome"] == "settled" for c in cases)
    chosen = parameter_values(load_template(), stack.profile.parameters)
    in_ses = ses_backends[ACCOUNT].get(chosen["SesRegion"] or stack.profile.region)  # None: no SES there (China)
    ses = len(in_ses.sent_messages) if in_ses else 0
    relayed = len(stack.smtp_server.received) if stack.smtp_server else 0
    sns = len(sns_backends[ACCOUNT][stack.profile.region].sms_messages)
    gateway = len(stack.sms_gateway.sent)
    mail, other_mail = (ses, relayed) if chosen["EmailChannel"] == "ses" else (relayed, ses)
    texts, other_texts = (gateway, sns) if chosen["SmsGatewayUrl"] else (sns, gateway)
    assert mail > 0 and other_mail == 0, (chosen["EmailChannel"], {"ses": ses, "relay": relayed})
    assert texts > 0 and other_texts == 0, (chosen["SmsGatewayUrl"], {"sns": sns, "gateway": gateway})
