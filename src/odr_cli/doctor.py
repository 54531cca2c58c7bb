"""``odr doctor``'s checks: is this deployment ready to take complaints?

Each check returns :class:`Result` lines, ✓ or ✗ with the problem and its fix (docs/runbook.md, "odr doctor").
The functions are asked by invoking each with ``{"doctor": true}`` (answered by ``Observed.handler``: it starts,
its settings load, it reads each secret it needs with its own role), so what is proved is what the functions
themselves can do; the relay, the feed, the data and the API are then probed from here, reading nothing
anyone else could not, writing nothing and sending nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from odr_adapter.clock import Clock, local
from odr_adapter.data_access.directory import DirectoryStore
from odr_adapter.data_access.secrets import read_now
from odr_adapter.data_access.smtp import SmtpEmail
from odr_adapter.feed.client import FeedClient, PlatformError, PlatformUnavailable
from odr_adapter.models.directory import District
from odr_adapter.observability import DOCTOR_EVENT
from odr_adapter.ports import DeliveryFailed
from odr_adapter.rules.calendars import WorkingDays

from . import doctor_aws as aws
from .doctor_aws import Deployment

CASES_PATH = "/api/v1/cases"  # the enterprise API's case list: without an API key it must answer 401
SECRETS = {  # the variable naming a secret -> what it holds, and how an operator puts the right value there
    "FEED_TOKEN_SECRET": ("the 12315 feed token", "put the bearer token the 12315 platform issued"),
    "WEBHOOK_SECRET": ("the webhook's signing secret", "put the push signature secret agreed with the platform"),
    "SMTP_SECRET": ("the SMTP relay's login", 'put the relay\'s login as JSON {"username": ..., "password": ...}'),
    "SMS_GATEWAY_TOKEN_SECRET": ("the SMS gateway's token", "put the SMS provider's bearer token"),
    "CURSOR_SECRET": ("the worklist cursor key", "put a long random string"),
}


@dataclass(frozen=True)
class Result:
    what: str
    problem: str = ""  # empty: the check passed
    fix: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem

    def line(self) -> str:
        return f"✓ {self.what}" if self.ok else f"✗ {self.what}: {self.problem} — fix: {self.fix}"


@dataclass(frozen=True)
class Answer:
    """A function's answer to the doctor event."""

    function: str
    started: bool
    body: Any
    not_invoked: str = ""  # why the invocation itself failed (the operator's permission, the network)


def ask_functions(deployment: Deployment) -> list[Answer]:
    answers = []
    for function in sorted(deployment.functions):
        try:
            started, body = aws.invoke(function, DOCTOR_EVENT, deployment.region)
        except Exception as exc:
            answers.append(Answer(function, False, None, f"{type(exc).__name__}: {exc}"))
            continue
        answers.append(Answer(function, started, body))
    return answers


def functions_start(deployment: Deployment, answers: list[Answer]) -> list[Result]:
    results = []
    for answer in answers:
        name = deployment.label(answer.function)
        body = answer.body if isinstance(answer.body, dict) else {}
        if answer.not_invoked:
            fix = "let the role odr runs with call lambda:InvokeFunction on the stack's functions"
            results.append(Result(f"{name} starts", f"it could not be invoked: {answer.not_invoked}", fix))
        elif not answer.started:
            error = f"{body.get('errorType', 'error')}: {body.get('errorMessage', answer.body)}"
            fix = "give the variable it names in the function's Environment (template.yaml, or the stack's "
            fix += "parameters) and deploy again; the function's log shows the same error at each cold start"
            results.append(Result(f"{name} starts", f"its cold start fails: {error}", fix))
        elif body.get("doctor") != "ok":
            fix = "deploy this version of the code (sam build && sam deploy)"
            results.append(Result(f"{name} starts", "it does not answer the doctor event", fix))
        else:
            results.append(Result(f"{name} starts: its {len(body.get('settings', []))} settings load"))
    return results


def secrets_readable(deployment: Deployment, answers: list[Answer]) -> list[Result]:
    """One line per secret: every function that needs it read it (or which one could not, and why)."""
    readers: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
    for answer in answers:
        secrets = answer.body.get("secrets", {}) if answer.started and isinstance(answer.body, dict) else {}
        for variable, read in secrets.items():
            readers.setdefault((variable, read["secret"]), []).append((deployment.label(answer.function), read))
    results = []
    for (variable, secret_id), reads in sorted(readers.items()):
        label, put = SECRETS.get(variable, (variable, "put its value"))
        what = f"{label} ({variable}) exists and its functions read it"
        failed = [(fn, read["error"]) for fn, read in reads if not read["read"]]
        if not failed:
            results.append(Result(f"{what}: {', '.join(fn for fn, _ in reads)}"))
            continue
        fn, error = failed[0]
        others = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        if "AccessDenied" in error:
            fix = f"let {fn}'s role read {secret_id} (its Policies in template.yaml) and deploy again"
        else:
            fix = (
                f"{put} into {secret_id} (aws secretsmanager put-secret-value --secret-id {secret_id} "
                "--secret-string ...; a secret marked for deletion: aws secretsmanager restore-secret first)"
            )
        results.append(Result(what, f"{fn}{others} cannot read {secret_id}: {error}", fix))
    return results


def email(deployment: Deployment) -> list[Result]:
    """SES: the sender's address or domain is verified in the SES region. SMTP: the relay takes the login."""
    sender = deployment.value("SENDER_EMAIL")
    if not sender:
        return []  # no function sends e-mail (its start check names the missing variable)
    if deployment.value("EMAIL_CHANNEL") == "smtp":
        return [_smtp_login(deployment, sender)]
    region = deployment.value("SES_REGION") or deployment.region  # empty: the stack's own region
    domain = sender.rpartition("@")[2]
    statuses = aws.ses_verification([sender, domain], region)
    verified = [i for i in (domain, sender) if statuses.get(i) == "Success"]
    if verified:
        return [Result(f"SES identity {verified[0]} is verified in {region} (sender {sender})")]
    status = ", ".join(f"{i}: {statuses[i]}" for i in (domain, sender) if i in statuses) or "unknown to SES there"
    fix = (
        f"verify the domain in SES in {region} (aws ses verify-domain-identity --domain {domain} --region {region}, "
        "then publish its DNS records), or set SesRegion to the region where it is verified"
    )
    return [Result(f"SES identity for {sender} is verified in {region}", f"not verified ({status})", fix)]


def _smtp_login(deployment: Deployment, sender: str) -> Result:
    host, port, tls = (
        deployment.value("SMTP_HOST"),
        deployment.value("SMTP_PORT") or "587",
        deployment.value("SMTP_TLS"),
    )
    secret_id = deployment.value("SMTP_SECRET")
    what = f"the SMTP relay {host}:{port} ({tls or 'starttls'}) takes the login (EHLO, TLS, AUTH, QUIT; nothing sent)"
    relay = SmtpEmail(host, int(port), "implicit" if tls == "implicit" else "starttls", secret_id, sender)
    try:
        relay.check_login()
    except DeliveryFailed as exc:
        if str(exc) == "SMTP 535":
            fix = f"put the relay's current login in {secret_id} (JSON username, password)"
            return Result(what, "the relay refused the login (SMTP 535)", fix)
        fix = "check SmtpHost, SmtpPort and SmtpTls against the provider's settings, and that the relay is reachable"
        return Result(what, f"failed: {exc}", fix)
    except Exception as exc:  # the login secret itself cannot be read
        return Result(what, f"cannot read the login {secret_id}: {exc}", f"put the relay's login in {secret_id}")
    return Result(what)


def feed(deployment: Deployment) -> list[Result]:
    """One authenticated pull of at most one record changed from now on: it reads, it changes nothing."""
    base_url, secret_id = deployment.value("FEED_BASE_URL"), deployment.value("FEED_TOKEN_SECRET")
    if not base_url:
        return []  # no function talks to the feed (its start check names the missing variable)
    what = f"the 12315 feed {base_url} answers with the token"
    try:
        token = read_now(secret_id)
    except Exception as exc:
        return [Result(what, f"the token cannot be read: {exc}", f"put the platform's token into {secret_id}")]
    try:
        FeedClient(base_url, token, attempts=2).page(Clock().now().isoformat(), None, limit=1)
    except PlatformError as exc:
        if exc.status in (401, 403):
            fix = f"put the bearer token the 12315 platform issued into {secret_id}"
            return [Result(what, f"it refuses the token (HTTP {exc.status})", fix)]
        return [Result(what, str(exc), "check FeedBaseUrl against the platform's contract (…/api, pull at /v1)")]
    except PlatformUnavailable as exc:
        return [Result(what, f"unreachable: {exc}", "check FeedBaseUrl and the network path to the platform")]
    return [Result(what)]


def district_data(deployment: Deployment) -> list[Result]:
    store = DirectoryStore(deployment.value("DIRECTORY_TABLE"), deployment.value("DISTRICT_CODE") or "310116")
    district = store.district()
    today = local(Clock().now()).date()
    return [
        _stations(district),
        _directory(district, today),
        *_policies_and_calendars(store, today),
    ]


def _stations(district: District) -> Result:
    intake = district.intake_station_code
    what = f"stations are loaded, the intake desk {intake} among them"
    fix = "odr stations import stations.csv (the columns of data/district/stations.csv; docs/rules.md section 5)"
    if not district.stations:
        return Result(what, "there are no stations", fix)
    if district.station(intake) is None:
        return Result(what, f"{len(district.stations)} stations, but not the intake desk {intake}", fix)
    return Result(f"stations are loaded: {len(district.stations)}, the intake desk {intake} among them")


def _directory(district: District, today: date) -> Result:
    listed = [e for e in district.enterprises if e.listed_at(today)]
    if not listed:
        fix = "odr directory import odr-directory.csv (the columns of data/district/odr-directory.csv)"
        return Result("the ODR directory is loaded", f"no enterprise is listed on {today}", fix)
    return Result(f"the ODR directory is loaded: {len(listed)} enterprises listed on {today}")


def _policies_and_calendars(store: DirectoryStore, today: date) -> list[Result]:
    try:
        policies, stored = store.policies_snapshot()
    except ValueError as exc:  # a stored document that no longer validates
        fix = "odr policies show --json, correct it, odr policies set FILE"
        return [Result("the deadline policies load", f"the stored policies are invalid: {exc}", fix)]
    where = "stored" if stored else "none stored: the defaults apply; odr policies set FILE changes them"
    results = [Result(f"the deadline policies load ({where})")]
    days = WorkingDays({t.year: t for t in policies.holiday_tables})
    policy_list = [*policies.default.values(), *(p for phases in policies.by_class.values() for p in phases.values())]
    counts_working_days = any(p.kind == "working" for p in policy_list)
    for year in (today.year, today.year + 1):
        calendar, version, fallback = days.source(date(year, 1, 1))
        what = f"a working-day calendar for {year}"
        if fallback and not counts_working_days:  # natural days only: no deadline reads the calendar
            results.append(Result(f"{what}: none, and none needed (every deadline policy counts natural days)"))
        elif fallback:
            problem = (
                "chinese-calendar does not cover it and no operator table is imported "
                "(working-day deadlines there would be estimated and flagged)"
            )
            fix = (
                f"odr calendar import FILE --source '<the State Council notice for {year}>' (a CSV or XLSX of "
                "date,kind[,name]; docs/rules.md, 'Years the packaged calendar does not cover')"
            )
            results.append(Result(what, problem, fix))
        else:
            results.append(Result(f"{what}: {calendar} ({version})"))
    return results


def alarms(deployment: Deployment) -> list[Result]:
    states = aws.alarm_states(deployment.alarms, deployment.region)
    results = []
    for name in deployment.alarms:
        if name not in states:
            fix = "deploy the stack again (sam deploy) so CloudFormation recreates it"
            results.append(Result(f"alarm {name} exists", "it does not exist", fix))
        elif states[name][0] == "ALARM":
            fix = "see docs/runbook.md for this alarm; it returns to OK by itself once the cause is gone"
            results.append(Result(f"alarm {name} is not in ALARM", f"it is in ALARM ({states[name][1]})", fix))
    if not results:
        results.append(Result(f"the {len(deployment.alarms)} alarms exist and none is in ALARM"))
    return results


def api(deployment: Deployment) -> list[Result]:
    url = deployment.api_url.rstrip("/") + CASES_PATH
    what = f"the API answers (GET {url} without a key)"
    try:
        status = aws.http_get(url)
    except OSError as exc:
        return [Result(what, f"no answer: {exc}", "check the API's stage (prod) and the custom domain, if any")]
    if status >= 500:
        fix = "read the ActionsFunction's log (it answers this path) and the API's execution log"
        return [Result(what, f"it answers {status}", fix)]
    return [Result(f"{what}: {status}")]


CHECKS: tuple[Callable[[Deployment], list[Result]], ...] = (email, feed, district_data, alarms, api)


def examine(deployment: Deployment) -> list[Result]:
    """Every check, in the order the lines are printed; a check that fails unexpectedly is a ✗ of its own."""
    answers = ask_functions(deployment)
    results = functions_start(deployment, answers) + secrets_readable(deployment, answers)
    for check in CHECKS:
        try:
            results += check(deployment)
        except Exception as exc:
            what = check.__name__.replace("_", " ")
            fix = "the error names what could not be reached or read: the operator's credentials, region or network"
            results.append(Result(f"the {what} check runs", f"{type(exc).__name__}: {exc}", fix))
    return results
