"""Secrets (the 12315 feed token, the webhook's signing secret) through Powertools Parameters, cached five minutes
per container so a rotated value reaches running functions within minutes."""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters

MAX_AGE_SECONDS = 300


def secret(name: str) -> str:
    return str(parameters.get_secret(name, max_age=MAX_AGE_SECONDS))


def read_now(name: str) -> str:
    """The secret as stored now, past the cache (``odr doctor``: a secret deleted a minute ago shows at once)."""
    return str(parameters.get_secret(name, max_age=MAX_AGE_SECONDS, force_fetch=True))
