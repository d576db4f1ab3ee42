"""Refusals raised by the store, each with a Korean and an English message.

They subclass :class:`geo.errors.Refusal`, so pages show ``message(lang)``
and the CLI prints both languages, as for every other refusal.
"""
from __future__ import annotations

from geo.errors import Refusal

# What each kind of stored thing is called in messages: (Korean, English).
_ENTITY_NAMES: dict[str, tuple[str, str]] = {
    "resident": ("주민 계정", "resident account"),
    "district": ("예산 구역(행정동)", "budget district (administrative dong)"),
    "centre": ("행정복지센터", "community centre"),
    "proposal": ("제안", "proposal"),
    "comment": ("댓글", "comment"),
    "village": ("마을", "village"),
}


class NotFound(Refusal):
    """Something asked for by its key is not in the store.

    Parameters
    ----------
    entity : str
        What was looked for: ``"resident"``, ``"district"``, ``"centre"``,
        ``"proposal"``, ``"comment"`` or ``"village"``.
    key : object
        The key that was not found (id or code).
    """

    def __init__(self, entity: str, key: object) -> None:
        ko_name, en_name = _ENTITY_NAMES.get(entity, (entity, entity))
        super().__init__(
            "not_found",
            f"{ko_name}을(를) 찾을 수 없습니다: {key}. 목록을 새로 고친 뒤 다시 골라 주세요.",
            f"No {en_name} '{key}' was found. Please refresh the list and choose again.",
        )
        self.entity = entity
        self.key = key


class AlreadySupported(Refusal):
    """A resident tried to support the same proposal a second time."""

    def __init__(self, proposal_id: int, resident_id: int) -> None:
        super().__init__(
            "already_supported",
            "이미 이 제안을 지지하셨습니다. 한 제안에는 한 번만 지지할 수 있습니다.",
            "You have already supported this proposal. Each resident can support a proposal only once.",
        )
        self.proposal_id = proposal_id
        self.resident_id = resident_id


class UsernameTaken(Refusal):
    """An account with this username already exists."""

    def __init__(self, username: str) -> None:
        super().__init__(
            "username_taken",
            f"이미 쓰이는 아이디입니다: {username}. 다른 아이디를 골라 주세요.",
            f"The username '{username}' is taken. Please choose another one.",
        )
        self.username = username


class SchemaNotCurrent(Refusal):
    """The database's schema is not the one this code was built for, and this process may not migrate it.

    Raised by :meth:`store.Store.open` with ``migrate=False`` (``GOYANG_MIGRATE=off``:
    several instances share the database and a release step migrates it).
    """

    def __init__(self, found: str | None, expected: str) -> None:
        found_text = found or "없음"
        super().__init__(
            "schema_not_current",
            f"데이터베이스 스키마가 {found_text} 판입니다. 이 앱은 {expected} 판이 필요합니다. "
            "배포 단계에서 `python -m store.migrate upgrade`를 한 번 실행한 뒤 앱을 다시 시작해 주세요.",
            f"The database schema is at revision {found or 'none'}; this app needs {expected}. "
            "Run `python -m store.migrate upgrade` once as a release step, then restart the app.",
        )
        self.found = found
        self.expected = expected
