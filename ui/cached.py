"""Expensive page results cached on the data versions of the tables they read (see :mod:`ui.mapdata`).

A planner's clusters and a hub's overview are recomputed only when a table
they read changed, in this app instance or any other sharing the database;
flipping tabs, widgets or languages reuses them.
"""
from __future__ import annotations

import streamlit as st

from planning.catchments import OVERVIEW_TABLES, HubOverview, hub_overview
from planning.clusters import CLUSTER_TABLES, ClusterParams, ClusterResult, cluster_proposals
from planning.review import ReviewFilter
from ui.context import get_store
from ui.mapdata import versions


@st.cache_data(show_spinner=False, max_entries=32)
def _clusters(actor_id: int | None, review_filter: ReviewFilter, params: ClusterParams, version: tuple[int, ...]) -> ClusterResult:
    return cluster_proposals(get_store(), actor_id, review_filter, params)


def clusters(actor_id: int | None, review_filter: ReviewFilter, params: ClusterParams) -> ClusterResult:
    """:func:`planning.clusters.cluster_proposals` for this planner, cached on :data:`CLUSTER_TABLES`.

    The actor is part of the key and the role check runs inside: a refusal
    is raised, never cached, and a role change raises ``residents``' version.
    """
    return _clusters(actor_id, review_filter, params, versions(*CLUSTER_TABLES))


@st.cache_data(show_spinner=False, max_entries=32)
def _overview(hub_code: str, version: tuple[int, ...]) -> HubOverview:
    return hub_overview(get_store(), None, hub_code)


def overview(hub_code: str) -> HubOverview:
    """:func:`planning.catchments.hub_overview` (the same for every viewer), cached on :data:`OVERVIEW_TABLES`."""
    return _overview(hub_code, versions(*OVERVIEW_TABLES))
