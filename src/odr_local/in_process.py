"""In-process calls to the emulated AWS: a boto3 client in this process that calls the local stack's endpoint is
answered by the moto server's WSGI application directly, without a socket.

The request and the answer are the same bytes as over HTTP (the same application parses them), so nothing a
handler does changes; what goes is the TCP connection, the server thread and the HTTP framing of every call,
about two milliseconds each. Clients in other processes (the odr CLI, the AWS CLI, a browser) still use HTTP.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import urlsplit

from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.handlers import BUILTIN_HANDLERS
from werkzeug.test import EnvironBuilder, run_wsgi_app

from . import aws_calls

_apps: dict[str, Any] = {}  # endpoint (scheme://host:port) -> the WSGI application serving it


class _Body:
    def __init__(self, chunks: list[bytes]) -> None:
        self._data = b"".join(chunks)

    def stream(self, **_: Any) -> Any:
        yield self._data

    def read(self, *_: Any) -> bytes:
        data, self._data = self._data, b""
        return data


class Faults(Protocol):
    """Decides, per call, whether AWS fails it (see :mod:`odr_local.aws_faults`)."""

    def before(self, request: Any, event_name: str) -> AWSResponse | None: ...  # a refusal: nothing applied
    def after(self, request: Any, event_name: str) -> None: ...  # may raise: applied, but the answer is lost


faults: Faults | None = None  # set by the chaos suite


def _answer(request: Any, event_name: str = "", **_: Any) -> AWSResponse | None:
    parts = urlsplit(request.url)
    app = _apps.get(f"{parts.scheme}://{parts.netloc}")
    if app is None:
        return None
    if faults is not None and (refused := faults.before(request, event_name)) is not None:
        return refused
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
    environ = EnvironBuilder(
        path=parts.path or "/",
        base_url=f"{parts.scheme}://{parts.netloc}",
        query_string=parts.query,
        method=request.method,
        headers=headers,
        data=body or b"",
    ).get_environ()
    environ["REMOTE_ADDR"] = "127.0.0.1"
    with aws_calls.answering():  # what the emulator calls meanwhile is AWS's own doing, not a function's
        chunks, status, response_headers = run_wsgi_app(app, environ)
    if faults is not None:
        faults.after(request, event_name)
    headers_out = HTTPHeaders()
    for key, value in response_headers.items():
        headers_out[key] = value
    return AWSResponse(request.url, int(status.split(" ", 1)[0]), headers_out, _Body(list(chunks)))


def serve(endpoint: str, app: Any) -> None:
    """Answer this process's calls to ``endpoint`` with ``app`` (until :func:`forget`); the functions' calls to
    it are recorded apart (:mod:`aws_calls`)."""
    _apps[endpoint] = app
    aws_calls.begin(endpoint)


def forget(endpoint: str) -> None:
    _apps.pop(endpoint, None)


def install() -> None:
    """For every botocore session, those created from now on and the default one boto3 already has; with the
    recorder of the functions' calls (:mod:`aws_calls`)."""
    aws_calls.install(BUILTIN_HANDLERS)
    if ("before-send", _answer) not in BUILTIN_HANDLERS:
        BUILTIN_HANDLERS.append(("before-send", _answer))
    import boto3

    if boto3.DEFAULT_SESSION is not None:
        handler: Any = _answer
        boto3.DEFAULT_SESSION._session.unregister("before-send", handler)
        boto3.DEFAULT_SESSION._session.register("before-send", handler)
