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


class DatabaseUnavailable(Refusal):
    """The database cannot be reached (server down, network cut, file unreadable); try again shortly.

    Raised by :meth:`store.Store.transaction` (after retrying to connect a
    few times) and :meth:`store.Store.data_versions` instead of the driver's
    connection error. Nothing of the failed unit of work was stored, unless
    ``commit_unknown``: the connection broke while the COMMIT was on its way,
    so the write may or may not have been stored, and the message asks to
    check before sending it again.
    """

    def __init__(self, commit_unknown: bool = False) -> None:
        if commit_unknown:
            super().__init__(
                "database_unavailable_at_commit",
                "저장하는 도중에 데이터베이스 연결이 끊겨 저장되었는지 확인할 수 없습니다. "
                "입력한 내용은 그대로 있으니 잠시 후 목록에서 저장되었는지 확인하고, 없으면 다시 시도하세요.",
                "The connection to the database broke while saving, so it is not known whether it was saved. "
                "What you entered is kept; in a moment, check the list and try again only if it is missing.",
            )
        else:
            super().__init__(
                "database_unavailable",
                "데이터베이스에 잠시 연결할 수 없습니다. 입력한 내용은 그대로 있으니 잠시 후 다시 시도하세요.",
                "The database cannot be reached right now. What you entered is kept; try again in a moment.",
            )
        self.commit_unknown = commit_unknown


# SQLSTATE classes and codes of a lost or refused connection (PostgreSQL): class 08
# "connection exception", and the server shutting down or not yet accepting connections.
_CONNECTION_SQLSTATES = {"57P01", "57P02", "57P03"}
# SQLite's result codes for a database file that cannot be opened or read.
_SQLITE_UNREACHABLE = {"SQLITE_CANTOPEN", "SQLITE_IOERR"}


def is_connection_failure(err: BaseException) -> bool:
    """True when ``err`` (an exception from SQLAlchemy) means the database could not be reached.

    A lost or refused connection counts (SQLAlchemy's disconnect detection,
    PostgreSQL's connection SQLSTATEs, a driver error without SQLSTATE as
    psycopg raises for "connection refused"), as does a SQLite file that
    cannot be opened. Errors of the statements themselves (constraints,
    deadlocks, SQLite's "database is locked") do not.
    """
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if not isinstance(err, DBAPIError):
        return False
    if err.connection_invalidated:
        return True
    if not isinstance(err, (OperationalError, InterfaceError)):
        return False
    orig = err.orig
    name = getattr(orig, "sqlite_errorname", None)
    if name is not None:
        return name.split("_")[0:2] == ["SQLITE", "IOERR"] or name in _SQLITE_UNREACHABLE
    if type(orig).__module__.startswith("sqlite3"):
        return False
    sqlstate = getattr(orig, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in _CONNECTION_SQLSTATES
