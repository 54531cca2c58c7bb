"""Secrets (the 12315 feed token, the webhook's signing secret) through Powertools Parameters, cached five minutes
per container so a rotated value reaches running functions within minutes."""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters

MAX_AGE_SECONDS = 300


def secret(name: str) -> str:
    return str(parameters.get_secret(name, max_age=MAX_AGE_SECONDS))
