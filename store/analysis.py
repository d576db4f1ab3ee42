"""Spatial analysis the database answers (PostGIS), with the embedded path in ``geo``.

:meth:`Analysis.cluster_dbscan` clusters proposals inside PostgreSQL with
``ST_ClusterDBSCAN`` on the geometries projected to EPSG:5179, then makes
the answer identical to :func:`geo.clustering.dbscan_labels` on the same
proposals in id order: border proposals go to the cluster of their core
neighbour with the lowest id, and clusters are numbered ``0, 1, 2, ...`` by
their smallest member id (``-1`` for noise). Only ``(id, label)`` pairs come
back; no geometry leaves the database.

How: the proposals are projected once into a session-local temporary table
(``ON COMMIT DROP``) with a GiST index; core flags come from an
``ST_DWithin`` count on it (the "distance <= eps, itself included" rule of
``ST_ClusterDBSCAN``), stopped at ``min_size``; ``ST_ClusterDBSCAN ...
OVER (PARTITION BY category ORDER BY id)`` gives the clusters of the core
proposals; each border proposal takes the cluster of its lowest-id core
neighbour; and ``dense_rank`` over the clusters' smallest member ids numbers
them. The transaction runs with ``jit = off`` from then on (``SET LOCAL``).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import Integer

from geo.clustering import NOISE, check_eps, check_min_size
from geo.crs import METRIC_EPSG
from store.errors import NotFound
from store.models import Comment, Proposal

#: Ids per ``IN (...)`` list (SQLite limits the number of bound parameters).
_ID_CHUNK = 500

# Session-local scratch table: the proposals to cluster, projected once and
# indexed, so every neighbour search uses a GiST index on the metric geometry.
# ``grp`` is the category when clustering by category, else one shared ''.
_INPUT = "pg_temp.goyang_cluster_input"

_CREATE_INPUT = text(
    f"""
    CREATE TEMPORARY TABLE goyang_cluster_input ON COMMIT DROP AS
    SELECT p.id AS id,
           CASE WHEN :by_category THEN COALESCE(p.category, '') ELSE '' END AS grp,
           ST_Transform(p.geometry, {METRIC_EPSG}) AS g,
           false AS is_core
    FROM proposals AS p
    WHERE p.id = ANY(:ids)
    """
).bindparams(bindparam("ids", type_=ARRAY(Integer)))

# Core flags: at least min_size neighbours within eps, itself included (the
# same "distance <= eps" count ST_ClusterDBSCAN makes). The count stops at
# min_size (LIMIT): in dense areas a proposal has hundreds of neighbours, and
# testing them all made this the slowest step (70 s of 75 s for 100,000
# proposals at eps 50 m).
_MARK_CORE = text(
    f"""
    UPDATE {_INPUT} AS a
    SET is_core = (
        SELECT count(*) FROM (
            SELECT 1 FROM {_INPUT} AS b
            WHERE b.grp = a.grp AND ST_DWithin(a.g, b.g, :eps)
            LIMIT :min_size
        ) AS near
    ) >= :min_size
    """
)

# PostGIS's DBSCAN, then the border rule (a border proposal takes the cluster
# of its lowest-id core neighbour) and the canonical numbering (clusters in
# the order of their smallest member id).
_CLUSTER = text(
    f"""
    WITH dbscan AS (
        SELECT id, grp, is_core,
               ST_ClusterDBSCAN(g, eps => :eps, minpoints => :min_size)
                   OVER (PARTITION BY grp ORDER BY id) AS cid
        FROM {_INPUT}
    ),
    anchor AS (
        SELECT a.id,
               CASE WHEN a.is_core THEN a.id ELSE (
                   SELECT min(b.id) FROM {_INPUT} AS b
                   WHERE b.is_core AND b.grp = a.grp AND ST_DWithin(a.g, b.g, :eps)
               ) END AS core_id
        FROM {_INPUT} AS a
    ),
    members AS (
        SELECT n.id, d.grp, d.cid FROM anchor AS n JOIN dbscan AS d ON d.id = n.core_id
    ),
    firsts AS (
        SELECT grp, cid, min(id) AS first_id FROM members GROUP BY grp, cid
    )
    SELECT d.id,
           CASE WHEN f.first_id IS NULL THEN {NOISE}
                ELSE dense_rank() OVER (ORDER BY f.first_id) - 1 END AS label,
           m.id IS NOT NULL AS is_member,
           d.cid IS NOT NULL AS in_dbscan,
           d.is_core AND d.cid IS NULL AS core_without_cluster
    FROM dbscan AS d
    LEFT JOIN members AS m ON m.id = d.id
    LEFT JOIN firsts AS f ON f.grp = m.grp AND f.cid = m.cid
    ORDER BY d.id
    """
)


class Analysis:
    """Analysis queries of one transaction (``tx.analysis``)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @property
    def dialect(self) -> str:
        """``postgresql`` or ``sqlite``."""
        return self._session.get_bind().dialect.name

    def cluster_dbscan(self, proposal_ids: Iterable[int], eps_m: float, min_size: int, by_category: bool = False) -> dict[int, int]:
        """DBSCAN labels of proposals, computed by PostGIS (``ST_ClusterDBSCAN`` in EPSG:5179).

        The labels are the same as :func:`geo.clustering.dbscan_labels`
        (or :func:`~geo.clustering.dbscan_by_group` with the categories) on
        the proposals' geometries in metres, taken in id order.

        Parameters
        ----------
        proposal_ids : iterable of int
            The proposals to cluster (duplicates are ignored).
        eps_m : float
            Neighbourhood distance in metres (geometry to geometry).
        min_size : int
            Neighbours, itself included, that make a proposal a core member.
        by_category : bool
            Cluster each category on its own (``PARTITION BY category``);
            labels stay unique over all proposals.

        Returns
        -------
        dict of int to int
            Proposal id to label: ``-1`` for noise, clusters ``0, 1, 2, ...``
            numbered by their smallest member id.

        Raises
        ------
        NotImplementedError
            On SQLite, which has no spatial functions: use the embedded
            path (:func:`geo.clustering.dbscan_labels`).
        geo.clustering.ClusteringRefused
            For a bad ``eps_m`` or ``min_size``.
        NotFound
            When a proposal id does not exist.
        RuntimeError
            If PostGIS's own DBSCAN disagrees with the core and border
            flags computed beside it (it never should).
        """
        if self.dialect != "postgresql":
            raise NotImplementedError(
                f"cluster_dbscan runs in PostGIS; on {self.dialect} use geo.clustering.dbscan_labels (the embedded path)"
            )
        eps = check_eps(eps_m)
        k = check_min_size(min_size)
        ids = sorted({int(i) for i in proposal_ids})
        if not ids:
            return {}
        session = self._session
        params = {"eps": eps, "min_size": k}
        # Short spatial queries: JIT compilation would cost more than it saves.
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text(f"DROP TABLE IF EXISTS {_INPUT}"))
        session.execute(_CREATE_INPUT, {"ids": ids, "by_category": bool(by_category)})
        session.execute(text("CREATE INDEX ON goyang_cluster_input USING gist (g)"))
        session.execute(text("ANALYZE goyang_cluster_input"))
        session.execute(_MARK_CORE, params)
        rows = session.execute(_CLUSTER, params).all()
        # Dropped at commit anyway (ON COMMIT DROP); now, so the transaction can cluster again.
        session.execute(text(f"DROP TABLE {_INPUT}"))
        found = {int(r.id) for r in rows}
        if len(found) != len(ids):
            missing = next(i for i in ids if i not in found)
            raise NotFound("proposal", missing)
        disagree = [int(r.id) for r in rows if r.core_without_cluster or bool(r.is_member) != bool(r.in_dbscan)]
        if disagree:
            raise RuntimeError(f"ST_ClusterDBSCAN disagrees with the core/border flags for proposals {disagree[:10]}")
        return {int(r.id): int(r.label) for r in rows}

    def proposal_texts(self, proposal_ids: Iterable[int]) -> dict[int, list[str]]:
        """Title, description and visible comments of each proposal, for word counts.

        Parameters
        ----------
        proposal_ids : iterable of int

        Returns
        -------
        dict of int to list of str
            Proposal id to ``[title, body, comment, comment, ...]`` (comments
            the public sees, replies included, oldest first); unknown ids are
            left out. Works on both engines.
        """
        ids = sorted({int(i) for i in proposal_ids})
        out: dict[int, list[str]] = {}
        for start in range(0, len(ids), _ID_CHUNK):
            chunk = ids[start : start + _ID_CHUNK]
            for pid, title, body in self._session.execute(
                select(Proposal.id, Proposal.title, Proposal.body).where(Proposal.id.in_(chunk)).order_by(Proposal.id)
            ):
                out[int(pid)] = [title or "", body or ""]
            stmt: Any = (
                select(Comment.proposal_id, Comment.body)
                .where(Comment.proposal_id.in_(chunk), Comment.hidden.is_(False))
                .order_by(Comment.proposal_id, Comment.created_at, Comment.id)
            )
            for pid, body in self._session.execute(stmt):
                if int(pid) in out:
                    out[int(pid)].append(body or "")
        return out
