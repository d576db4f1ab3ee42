"""Spatial analysis the database answers (PostGIS), with the embedded path in ``geo``."""
from __future__ import annotations

from sqlalchemy.orm import Session


class Analysis:
    """Analysis queries of one transaction (``tx.analysis``)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @property
    def dialect(self) -> str:
        """``postgresql`` or ``sqlite``."""
        return self._session.get_bind().dialect.name
