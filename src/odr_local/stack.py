"""One object that is the whole local stack: emulator, resources from template.yaml, handlers, triggers, and
the kernel that drives its time (virtual by default, paced to the wall clock for people clicking pages)."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import requests
from aws_lambda_powertools.utilities import parameters
from moto.moto_api._internal.models import moto_api_backend
from moto.server import ThreadedMotoServer

from odr_adapter import wiring
from odr_adapter.clock import set_pause
from odr_adapter.data_access.cases import CaseStore
from odr_adapter.data_access.clients import client as boto_client
from odr_adapter.data_access.directory import DirectoryStore
from odr_adapter.data_access.quarantine import QuarantineStore
from odr_adapter.models.deadlines import DeadlinePolicies
from odr_adapter.models.directory import District
from odr_cli.district_files import read_district

from . import in_process, invoker, moto_patches, profiles
from .deploy import Deployer, Deployment
from .event_sources import ApiGateway, QueuePump, StreamPump, schedule
from .kernel import Kernel
from .parameter_checks import parameter_values, problems
from .simulator import Simulator
from .sms_gateway import SmsGatewaySimulator
from .smtp_server import SmtpServer
from .template import ROOT, load_template

# Without a samconfig environment (config_env), the test world: an AWS China region, so the stack proves the ARNs
# are partition-aware, with e-mail through SES in ap-southeast-1 and SMS through the gateway (a combination the
# template's Rules refuse in the cloud: a China deployment is samconfig's china, EmailChannel=smtp).
REGION = "cn-north-1"
SES_REGION = "ap-southeast-1"
TEST_WORLD_SENDER = "odr-noreply@jinshan.example.gov.cn"
DISTRICT_DIR = ROOT / "data" / "district"
ALARM = "AWS::CloudWatch::Alarm"
LOCAL_CLOCK_ENV = "ODR_LOCAL_CLOCK"  # how a client process (the odr CLI) learns a paced stack's time


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalStack:
    start_time: datetime
    seconds_per_day: float | None = None  # None: virtual time; a number: paced, one simulated day per that
    port: int = 0
    district_dir: Path = DISTRICT_DIR
    policies: DeadlinePolicies | None = None
    manual_screening: list[str] = field(default_factory=list)  # stations that confirm screening by hand
    parameters: dict[str, str] = field(default_factory=dict)  # template parameters a scenario overrides
    # A samconfig.toml environment: its region and parameter_overrides are deployed, the stack setting only what
    # cannot exist offline (its endpoints and secrets); None: the test world above
    config_env: str | None = None
    deployment: Deployment = field(init=False)
    kernel: Kernel = field(init=False)

    def __post_init__(self) -> None:
        self.port = self.port or _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.triggers_running = False
        self.profile = profiles.load(self.config_env) if self.config_env else None
        self.region = self.profile.region if self.profile else REGION
        if self.profile is not None:  # sam deploy would refuse it: so does the local stack, before starting
            refused = problems(load_template(), {**self.profile.parameters, **self.parameters}, self.region)
            if refused:
                raise profiles.ProfileError(f"--config-env {self.profile.name}: " + "; ".join(refused))

    def start(self) -> LocalStack:
        self.kernel = Kernel(self.start_time, self.seconds_per_day).start()
        if not self.kernel.paced:
            set_pause(lambda seconds: None)  # a pause inside an invocation is work: simulated time stands still
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint,
                "MOTO_PORT": str(self.port),
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
        )
        os.environ.pop("AWS_PROFILE", None)
        # Handlers cache clients and services per process (as per Lambda container): a new stack starts afresh.
        moto_api_backend.reset()  # moto's backends are process-wide: a stack starts from nothing
        boto_client.cache_clear()
        wiring.cache_clear()
        parameters.clear_caches()  # Powertools' secrets client is bound to the previous stack's endpoint
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per emulated AWS call is noise
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        in_process.install()  # this process's own calls skip the socket (other processes use HTTP)
        assert self.server._server is not None, "moto's ThreadedMotoServer no longer keeps its WSGI server"
        in_process.serve(self.endpoint, self.server._server.app)
        requests.post(
            f"{self.endpoint}/moto-api/config",
            json={"stepfunctions": {"execute_state_machine": True}},
            timeout=10,
        )
        moto_patches.install()
        self.simulator = Simulator()
        self.simulator.start()
        self.sms_gateway = SmsGatewaySimulator()
        self.sms_gateway.start()
        api_port = _free_port()  # known before deploying: the action links in messages point at it
        deployer = Deployer(
            self.endpoint,
            self.region,
            parameters=self._parameters(api_port),
            secrets={
                "FeedTokenSecret": self.simulator.token,
                "WebhookSecret": self.simulator.push_secret,
                "SmsGatewayTokenSecret": self.sms_gateway.token,
            },
        )
        self.deployment = deployer.deploy()
        self._export_function_environment()
        invoker.use_function_environments()
        if self.email_channel == "ses":  # the identity an operator verifies in SES before sending
            self.client("ses", self.ses_region).verify_domain_identity(Domain=self.sender_domain)
        district = read_district(self.district_dir)
        for station in district.stations:
            station.manual_screening = station.code in self.manual_screening
        self.directory.replace(district)
        if self.policies:
            self.directory.save_policies(self.policies)
        self.api = ApiGateway(self.deployment.routes, port=api_port)
        self.api.start()
        sqs = self.client("sqs")
        self.queue_pumps = [QueuePump(t, sqs, self.region) for t in self.deployment.queues]
        self.stream_pumps = [
            StreamPump(t, self.region, lambda: self.kernel.now().timestamp()) for t in self.deployment.streams
        ]
        for pump in self.stream_pumps:  # two mappings read the case table's stream (counters, progress)
            pump.peers = [p for p in self.stream_pumps if p.table_name == pump.table_name]
        self.kernel.every(3600, moto_patches.prune_finished_threads, "prune finished interpreter threads")
        return self

    def _parameters(self, api_port: int) -> dict[str, str]:
        """The parameters to deploy: the samconfig environment's (or the test world's), then the scenario's, then
        what cannot exist offline: the endpoints of the stack's own 12315 simulator, API, SMS gateway and SMTP
        relay, and the relay's login. :attr:`local_changes` keeps what the stack set in place of what."""
        template = load_template()
        if self.profile is not None:
            chosen = {**self.profile.parameters, **self.parameters}
        else:
            test_world = {"SenderEmail": TEST_WORLD_SENDER, "SesRegion": SES_REGION}
            chosen = {**test_world, "SmsGatewayUrl": self.sms_gateway.url, **self.parameters}
        values = parameter_values(template, chosen)
        local = {"FeedBaseUrl": self.simulator.url, "PublicBaseUrl": f"http://127.0.0.1:{api_port}/prod"}
        if values["SmsGatewayUrl"]:
            local["SmsGatewayUrl"] = self.sms_gateway.url
        self.email_channel = values["EmailChannel"]
        local |= self._start_smtp_relay(values["SmtpTls"])
        self.ses_region = values["SesRegion"] or self.region  # SesRegion empty: the stack's region
        self.sender_domain = values["SenderEmail"].rsplit("@", 1)[1]
        self.local_changes = {k: (values[k], v) for k, v in local.items() if values[k] != v}
        return {**chosen, **local}

    def deployed_from(self) -> list[str]:
        """For people: what was deployed, and what the local stack set in place of the environment's values."""
        if self.profile is None:
            head = f"template.yaml in {self.region} with the test world's parameters (no --config-env)"
        else:
            head = f"samconfig.toml [{self.profile.name}] in {self.region}; set locally, as nothing offline has it:"
        lines = [head] + [f"  {k} = {new}   (was {old!r})" for k, (old, new) in self.local_changes.items()]
        scenario = {k: v for k, v in self.parameters.items() if k not in self.local_changes}
        lines += [f"  {k} = {v}   (the scenario's parameters)" for k, v in scenario.items()]
        lines.append("  secrets FeedTokenSecret, WebhookSecret, SmsGatewayTokenSecret: the simulators' tokens")
        if self.email_channel == "ses":
            lines.append(f"  SES identity {self.sender_domain} verified in {self.ses_region} (moto)")
        return lines

    def _start_smtp_relay(self, tls: str) -> dict[str, str]:
        """With ``EmailChannel: smtp``, a real SMTP relay over TLS (odr_local.smtp_server), its login in Secrets
        Manager as an operator keeps it, and its certificate trusted by the process; the parameters naming it."""
        self.smtp_server: SmtpServer | None = None
        if self.email_channel != "smtp":
            return {}
        self.smtp_server = SmtpServer("implicit" if tls == "implicit" else "starttls")
        self.smtp_server.start()
        self._ssl_cert_file = os.environ.get("SSL_CERT_FILE")
        os.environ["SSL_CERT_FILE"] = str(self.smtp_server.trust_bundle())
        login = self.client("secretsmanager").create_secret(
            Name="odr-local-smtp-login", SecretString=self.smtp_server.login_json()
        )
        return {"SmtpHost": "127.0.0.1", "SmtpPort": str(self.smtp_server.port), "SmtpSecretArn": login["ARN"]}

    def run_triggers(self) -> None:
        """Start the event source mappings and the schedules (the feed starts flowing)."""
        if self.triggers_running:
            return
        self.triggers_running = True
        for pump in self.queue_pumps:
            self.kernel.add_source(pump.pump_once, pump.next_visible)
        for stream in self.stream_pumps:
            self.kernel.add_source(stream.pump_once, stream.next_retry)
        for trigger in self.deployment.schedules:
            schedule(self.kernel, trigger)

    # -- time ---------------------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.kernel.now()

    def settle(self) -> None:
        """Virtual time: run all that can run at this instant (what a test does after acting as a person)."""
        self.kernel.settle()

    def wait_for(self, done: Callable[[], bool], timeout: float = 30.0) -> bool:
        """Either mode: until ``done()`` holds (virtual: event by event; paced: polling in real time)."""
        if not self.kernel.paced:
            return self.kernel.run_until(done, max_wall_seconds=timeout)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if done():
                return True
            time.sleep(0.05)
        return done()

    def _export_function_environment(self) -> None:
        """The process (tests, the runner, the CLI run in-process) sees every function's variables; a function
        itself sees only its own (invoker.FunctionEnvironment). Functions must agree on a shared name; a
        function's own name for itself (its Powertools service) is left to it."""
        merged: dict[str, str] = {}
        lam = self.client("lambda")
        for fn in invoker.FUNCTIONS.values():
            variables = lam.get_function_configuration(FunctionName=fn.name)["Environment"]["Variables"]
            for key, value in variables.items():
                if key == "POWERTOOLS_SERVICE_NAME":
                    continue
                if merged.get(key, value) != value:
                    raise RuntimeError(f"functions disagree on {key}; in-process handlers need one value")
                merged[key] = value
        os.environ.update(merged)

    def env_file(self) -> str:
        """The variables a client (the ``odr`` CLI, a shell) needs to reach this stack."""
        names = (
            "CASES_TABLE",
            "DIRECTORY_TABLE",
            "STATS_TABLE",
            "SESSIONS_TABLE",
            "STATE_MACHINE_ARN",
            "INTAKE_QUEUE_URL",
            "REPORT_QUEUE_URL",
        )
        lines = [f"{k}={os.environ[k]}" for k in names if k in os.environ]
        lines += [
            f"AWS_ENDPOINT_URL={self.endpoint}",
            f"AWS_DEFAULT_REGION={self.region}",
            "AWS_ACCESS_KEY_ID=local",
            "AWS_SECRET_ACCESS_KEY=local",
            f"{LOCAL_CLOCK_ENV}={self.kernel.pace_spec()}",
            f"ODR_SIMULATOR_URL={self.simulator.url}",
            f"ODR_API_URL={self.api.url}/prod",  # odr doctor: what CloudFormation would tell of a deployed stack
            "ODR_ALARMS=" + ",".join(self.deployment.ref(k) for k, t in self.deployment.created.items() if t == ALARM),
        ]
        if self.smtp_server is not None:  # a client process trusts the relay's certificate as this one does
            lines.append(f"SSL_CERT_FILE={os.environ['SSL_CERT_FILE']}")
        return "\n".join(lines) + "\n"

    def stop(self) -> None:
        self.kernel.stop()  # first: nothing is driven while the rest goes
        set_pause(time.sleep)
        self.api.stop()
        self.simulator.stop()
        self.sms_gateway.stop()
        if self.smtp_server is not None:
            self.smtp_server.stop()
            os.environ.pop("SSL_CERT_FILE", None)
            if self._ssl_cert_file is not None:
                os.environ["SSL_CERT_FILE"] = self._ssl_cert_file
        # moto's backends are process-wide: reset them so a later stack in this process starts empty.
        moto_api_backend.reset()  # in-process, as at start: no HTTP timeout to outlast on a big, busy stack
        in_process.forget(self.endpoint)
        self.server.stop()

    # -- handy views for the runner, the CLI and the tests ------------------------------------------

    def client(self, service: str, region: str | None = None) -> Any:
        return boto3.client(service, region_name=region or self.region, endpoint_url=self.endpoint)  # type: ignore[call-overload]

    @property
    def cases(self) -> CaseStore:
        return CaseStore(self.deployment.ref("CasesTable"))

    @property
    def directory(self) -> DirectoryStore:
        return DirectoryStore(self.deployment.ref("DirectoryTable"))

    @property
    def quarantine(self) -> QuarantineStore:
        return QuarantineStore(self.deployment.ref("CasesTable"))

    @property
    def district(self) -> District:
        return self.directory.district()

    @property
    def state_machine_arn(self) -> str:
        return self.deployment.ref("CaseWorkflow")
