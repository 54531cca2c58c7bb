"""The report's figures for dashboards: ``GET /stats/summary?from=YYYY-MM-DD&to=YYYY-MM-DD`` (IAM-authorised)."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.data_access.directory import DirectoryStore
from odr_adapter.data_access.stats import stats_store
from odr_adapter.settings import Settings
from odr_adapter.stats.figures import Period, PeriodInvalid, build_report

logger = Logger(service="stats")
tracer = Tracer(service="stats")
app = APIGatewayRestResolver()
settings = Settings.from_env()
directory = DirectoryStore(settings.directory_table, settings.district_code)


@app.get("/stats/summary")
def summary() -> dict[str, Any]:
    event = app.current_event
    period = Period.parse(event.get_query_string_value("from"), event.get_query_string_value("to"))
    stations = {s.code: s.name for s in directory.district().stations}
    return build_report(stats_store(), period, stations).as_dict()


@app.exception_handler(PeriodInvalid)
def bad_period(exc: PeriodInvalid) -> Response:
    return Response(400, content_types.APPLICATION_JSON, {"error": str(exc)})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
