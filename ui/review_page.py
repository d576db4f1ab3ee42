"""Planners' review workspace: filter, table with bulk status changes and exports, clusters, density, choropleths, flags.

The page only lays out widgets; filtering, clustering, rasters, aggregates,
the workflow and moderation live in ``planning`` (and are tested there).
"""
from __future__ import annotations

import hashlib
from dataclasses import replace

import shapely
import streamlit as st
import streamlit_folium

from geo.errors import Refusal
from layers.assets import AssetsMissing, use_local_assets
from layers.choropleth import SCHEMES, classed_choropleth
from layers.clusters import cluster_layer
from layers.escape import escape_markdown as md
from layers.legend import OverlayLegend
from layers.proposals import proposal_layer
from layers.rasters import folium_overlay
from layers.rasters import legend_html as raster_legend_html
from layers.viewport import zoom_for_bounds
from planning.aggregates import by_dong, by_hexagon
from planning.clusters import ClusterParams
from planning.exports import FORMATS, review_export
from planning.heatmap import density_raster
from planning.review import BULK_TARGETS, REVIEW_ROLES, ReviewFilter, review_choices, review_table
from planning.workflow import bulk_transition, merge
from ui.cached import clusters
from ui.context import current_actor, get_store, lang, show_refusal, tr
from ui.mapdata import base_map
from ui.moderation_queue import moderation_queue

store = get_store()
actor = current_actor(store)
st.title(tr("review.title"))
if actor.role not in REVIEW_ROLES:
    st.error(tr("review.only"))
    st.stop()
try:
    use_local_assets()
except AssetsMissing as exc:
    st.error(str(exc))
    st.stop()

for flash in ("flash_review_ok", "flash_review_err"):
    if st.session_state.get(flash):
        (st.success if flash.endswith("ok") else st.warning)(st.session_state.pop(flash))

choices = review_choices(store, lang())

# Labels are looked up in dicts made now: AppTest calls a widget's format_func
# outside the script run, where the language would fall back to Korean.
# --- filters ------------------------------------------------------------------
with st.expander(tr("review.filters"), expanded=True):
    c1, c2, c3 = st.columns(3)
    districts = c1.multiselect(tr("review.f.districts"), list(choices.districts), format_func=choices.districts.get, key="rf_districts", placeholder=tr("review.f.any"))
    hubs = c2.multiselect(tr("review.f.hubs"), list(choices.hubs), format_func=choices.hubs.get, key="rf_hubs", placeholder=tr("review.f.any"))
    categories = c3.multiselect(tr("review.f.categories"), list(choices.categories), format_func=choices.categories.get, key="rf_categories", placeholder=tr("review.f.any"))
    statuses = c1.multiselect(tr("review.f.statuses"), list(choices.statuses), format_func=choices.statuses.get, key="rf_statuses", placeholder=tr("review.f.any"))
    period = c2.date_input(tr("review.f.period"), value=(), key="rf_period")
    include_hidden = c3.checkbox(tr("review.f.hidden"), value=True, key="rf_hidden")
    c4, c5, c6, c7 = st.columns(4)
    eps = c4.number_input(tr("review.cl.eps"), min_value=10, max_value=20_000, value=300, step=50, key="rf_eps")
    min_size = c5.number_input(tr("review.cl.min"), min_value=1, max_value=1000, value=4, step=1, key="rf_min")
    by_category = c6.checkbox(tr("review.cl.by_category"), key="rf_by_category")
    hull = c7.radio(tr("review.cl.hull"), ["convex", "concave"], format_func={h: tr(f"review.cl.hull.{h}") for h in ("convex", "concave")}.get, key="rf_hull", horizontal=True)

try:
    since, until = (tuple(period) + (None, None))[:2] if period else (None, None)
    base_filter = ReviewFilter(
        district_codes=districts, hub_codes=hubs, categories=categories, statuses=statuses,
        since=since, until=until or since, include_hidden=include_hidden,
    )
    result = clusters(actor.id, base_filter, ClusterParams(float(eps), int(min_size), bool(by_category), hull))
except Refusal as err:
    show_refusal(err)
    st.stop()

labels = {int(i): int(c) for i, c in zip(result.frame["id"], result.frame["cluster"])}
cluster_options = ["all", *[card.label for card in result.cards], -1]
if "rf_cluster_next" in st.session_state:
    st.session_state["rf_cluster"] = st.session_state.pop("rf_cluster_next")
if st.session_state.get("rf_cluster") not in cluster_options:
    st.session_state["rf_cluster"] = "all"
picked = st.selectbox(
    tr("review.f.cluster"), cluster_options, key="rf_cluster",
    format_func={"all": tr("review.f.all_clusters"), -1: tr("review.f.noise"), **{c.label: f"{c.label}" for c in result.cards}}.get,
)
frame = result.frame if picked == "all" else result.frame[result.frame["cluster"] == picked]
review_filter = base_filter if picked == "all" else replace(base_filter, proposal_ids=tuple(int(i) for i in frame["id"]))
st.markdown(tr("review.count", n=len(frame)))


def show_map(m, key: str, identity: object, feature_group=None, bounds=None) -> None:
    """A display-only map; a new ``identity`` (what it shows) mounts a fresh map instead of redrawing into the old one.

    ``bounds`` (west, south, east, north in degrees) centres and zooms the map on them.
    """
    digest = hashlib.sha1(repr(identity).encode()).hexdigest()[:12]
    view = {}
    if bounds is not None:
        west, south, east, north = bounds
        view = {"center": [(south + north) / 2, (west + east) / 2], "zoom": min(16, zoom_for_bounds(*bounds, width_px=900, height_px=520))}
    streamlit_folium.st_folium(
        m, key=f"{key}_{digest}", feature_group_to_add=feature_group, returned_objects=[], use_container_width=True, height=520, **view
    )


def change_status(ids: list[int], to_status: str, reason: str) -> None:
    outcome = bulk_transition(store, actor, ids, to_status, reason)
    if outcome.changed:
        st.session_state["flash_review_ok"] = tr("review.bulk.done", n=len(outcome.changed))
    if outcome.refused:
        st.session_state["flash_review_err"] = "\n\n".join(
            tr("review.bulk.refused", id=pid, why=why.message(lang())) for pid, why in sorted(outcome.refused.items())
        )
    st.rerun()


tab_table, tab_clusters, tab_density, tab_areas, tab_flags = st.tabs(
    [tr("review.tab.table"), tr("review.tab.clusters"), tr("review.tab.density"), tr("review.tab.choropleth"), tr("review.tab.moderation")],
    key=f"review_tab_{lang()}", on_change="rerun",  # keeps the open tab across the reruns its buttons cause
)

# --- table, bulk changes, exports --------------------------------------------
with tab_table:
    if tab_table.open is not False:  # only the open tab runs
        st.dataframe(review_table(frame, choices, lang()), hide_index=True, use_container_width=True)
        st.subheader(tr("review.bulk.title"))
        everything = st.checkbox(tr("review.bulk.all", n=len(frame)), key="bulk_all")
        ids = list(frame["id"]) if everything else st.multiselect(tr("review.bulk.ids"), [int(i) for i in frame["id"]], key="bulk_ids")
        to_status = st.selectbox(tr("review.bulk.to"), BULK_TARGETS, format_func=choices.statuses.get, key="bulk_to")
        reason = st.text_input(tr("review.bulk.reason"), key="bulk_reason", max_chars=500)
        if st.button(tr("review.bulk.apply"), key="bulk_apply"):
            if not ids:
                st.warning(tr("review.bulk.none"))
            else:
                change_status([int(i) for i in ids], to_status, reason)
        st.subheader(tr("review.merge.title"))
        st.caption(tr("review.merge.help"))
        g1, g2 = st.columns(2)
        loser = g1.number_input(tr("review.merge.loser"), min_value=1, step=1, value=None, key="merge_loser")
        survivor = g2.number_input(tr("review.merge.survivor"), min_value=1, step=1, value=None, key="merge_survivor")
        merge_reason = st.text_input(tr("review.merge.reason"), key="merge_reason", max_chars=500)
        if st.button(tr("review.merge.apply"), key="merge_apply", disabled=loser is None or survivor is None):
            try:
                merge(store, actor, int(loser), int(survivor), merge_reason)
            except Refusal as err:
                show_refusal(err)
            else:
                st.session_state["flash_review_ok"] = tr("review.merge.done", loser=int(loser), survivor=int(survivor))
                st.rerun()
        st.subheader(tr("review.export"))
        columns = st.columns(len(FORMATS))
        for col, (fmt, mime) in zip(columns, FORMATS.items()):
            col.download_button(
                fmt.upper(), data=lambda fmt=fmt: review_export(store, actor, review_filter, fmt, clusters=labels),
                file_name=f"goyang-proposals.{fmt}", mime=mime, key=f"export_{fmt}", on_click="ignore",
            )

# --- clusters ----------------------------------------------------------------
with tab_clusters:
    if tab_clusters.open is not False:  # only the open tab runs
        st.markdown(tr("review.cl.summary", n=result.n_clusters, noise=result.noise))
        m = base_map(lang())
        cluster_layer(result.cards, lang()).add_to(m)
        shown = (result.params, lang(), tuple(zip(result.frame["id"], result.frame["status"], result.frame["cluster"])))
        hull_bounds = tuple(shapely.union_all([c.hull for c in result.cards]).bounds) if result.cards else None
        show_map(m, "review_clusters_map", shown, bounds=hull_bounds, feature_group=proposal_layer(result.frame, zoom=12, lang=lang(), max_features=5000))
        if not result.cards:
            st.info(tr("review.cl.none"))
        for card in result.cards:
            with st.expander(tr("review.cl.card", label=card.label, count=card.count, supports=card.supports)):
                cats = ", ".join(f"{md(choices.categories.get(c, c))} {n}" for c, n in card.categories)
                st.markdown(f"**{tr('review.cl.categories')}**: {cats}")
                st.markdown(f"**{tr('review.cl.dongs')}**: {md(', '.join(name for _, name in card.districts))}")
                st.markdown(f"**{tr('review.cl.legal_dongs')}**: {md(', '.join(name for _, name in card.legal_dongs))}")
                st.markdown(f"**{tr('review.cl.hubs')}**: {md(', '.join(name for _, name in card.hubs))}")
                st.markdown(tr("review.cl.cost", amount=f"{card.cost_total_krw:,}" if card.cost_total_krw is not None else "–"))
                st.markdown(tr("review.cl.comments", n=card.comments))
                st.markdown(f"**{tr('review.cl.words')}**: {md(', '.join(f'{w} ({n})' for w, n in card.words))}")
                st.markdown(f"**{tr('review.cl.members')}**: {', '.join(f'#{i}' for i in card.proposal_ids)}")
                b1, b2 = st.columns(2)
                if b1.button(tr("review.cl.shortlist"), key=f"cl_shortlist_{card.label}"):
                    change_status(card.proposal_ids, "shortlisted", "")
                if b2.button(tr("review.cl.filter"), key=f"cl_filter_{card.label}"):
                    st.session_state["rf_cluster_next"] = card.label
                    st.rerun()

# --- density raster -----------------------------------------------------------
with tab_density:
    if tab_density.open is not False:  # only the open tab runs
        d1, d2, d3 = st.columns(3)
        cell = d1.number_input(tr("review.ds.cell"), min_value=10, max_value=5000, value=250, step=50, key="ds_cell")
        method = d2.radio(tr("review.ds.method"), ["count", "kde"], format_func={v: tr(f"review.ds.method.{v}") for v in ("count", "kde")}.get, key="ds_method", horizontal=True)
        bandwidth = d3.number_input(tr("review.ds.bandwidth"), min_value=10, max_value=10_000, value=500, step=50, key="ds_bandwidth", disabled=method != "kde")
        if st.button(tr("review.ds.make"), key="ds_make"):
            try:
                made = density_raster(store, actor, review_filter, float(cell), method, float(bandwidth) if method == "kde" else None)
            except Refusal as err:
                show_refusal(err)
            else:
                st.session_state["review_density"] = made
        made = st.session_state.get("review_density")
        if made is not None and made.path.exists():
            st.success(tr("review.ds.made", n=made.features, name=made.path.name))
            m = base_map(lang())
            if made.layer is not None:
                overlay = folium_overlay(made.layer, lang=lang()).add_to(m)
                OverlayLegend(raster_legend_html(made.layer, lang()), overlay, position="bottomright").add_to(m)
            show_map(m, "review_density_map", (made.key, made.path.stat().st_mtime_ns, lang()))
            st.download_button(
                tr("review.ds.download"), data=made.path.read_bytes(), file_name=made.path.name, mime="image/tiff", key="ds_download", on_click="ignore"
            )

# --- aggregates by dong or H3 hexagon ----------------------------------------------
with tab_areas:
    if tab_areas.open is not False:  # only the open tab runs
        a1, a2, a3, a4 = st.columns(4)
        unit = a1.radio(tr("review.ch.unit"), ["dong", "h3"], format_func={u: tr(f"review.ch.unit.{u}") for u in ("dong", "h3")}.get, key="ch_unit")
        measure = a2.selectbox(tr("review.ch.measure"), ["proposals", "supports", "per_1000"], format_func={v: tr(f"review.ch.measure.{v}") for v in ("proposals", "supports", "per_1000")}.get, key="ch_measure")
        scheme = a3.selectbox(tr("review.ch.scheme"), list(SCHEMES), key="ch_scheme")
        k = a4.slider(tr("review.ch.k"), min_value=2, max_value=9, value=5, key="ch_k")
        resolution = st.slider(tr("review.ch.resolution"), min_value=6, max_value=9, value=8, key="ch_resolution") if unit == "h3" else None
        try:
            areas = by_dong(store, actor, review_filter) if unit == "dong" else by_hexagon(store, actor, review_filter, resolution=resolution)
            m = base_map(lang())
            classed_choropleth(
                areas, measure, scheme=scheme, k=k, lang=lang(), name_column="name" if unit == "dong" else "h3",
                title=tr(f"review.ch.measure.{measure}"),
            ).add_to(m)
        except Refusal as err:
            show_refusal(err)
        else:
            show_map(m, "review_areas_map", (unit, measure, scheme, k, resolution, lang(), tuple(areas[measure].fillna(-1))))

# --- flags and moderation -----------------------------------------------------------
with tab_flags:
    if tab_flags.open is not False:  # only the open tab runs
        moderation_queue(store, actor, result.frame)
