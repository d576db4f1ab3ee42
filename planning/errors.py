"""Refusals of the domain layer (each with a Korean and an English message)."""
from __future__ import annotations

from geo.errors import Refusal


class NotAllowed(Refusal):
    """The acting user may not do this."""


class InvalidInput(Refusal):
    """A form field or parameter is wrong."""


def not_allowed_signin() -> NotAllowed:
    return NotAllowed(
        "sign_in_required",
        "로그인이 필요합니다. 로그인하거나 계정을 만든 뒤 다시 시도해 주세요.",
        "You need to sign in. Please sign in or create an account and try again.",
    )
