"""The report's figures for dashboards: ``GET /stats/summary?from=YYYY-MM-DD&to=YYYY-MM-DD`` (IAM-authorised)."""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from odr_adapter.observability import BY_REQUEST, Observed
from odr_adapter.settings import StatsApiSettings
from odr_adapter.stats.figures import Period, PeriodInvalid, district_report
from odr_adapter.wiring import directory, stats_store

obs = Observed(StatsApiSettings)
app = APIGatewayRestResolver()


@app.get("/stats/summary")
def summary() -> dict[str, Any]:
    event = app.current_event
    period = Period.parse(event.get_query_string_value("from"), event.get_query_string_value("to"))
    return district_report(stats_store(obs.settings), period, directory(obs.settings)).as_dict()


@app.exception_handler(PeriodInvalid)
def bad_period(exc: PeriodInvalid) -> Response:
    return Response(400, content_types.APPLICATION_JSON, {"error": str(exc)})


@obs.handler(BY_REQUEST, emits_metrics=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
