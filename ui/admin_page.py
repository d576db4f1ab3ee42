"""Administration: hub designation, villages (마을) drawn or imported, raster layers (GeoTIFF uploads), accounts."""
from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st
import streamlit_folium

from geo.errors import Refusal
from layers.draw import latest_drawing, village_draw_control
from layers.rasters import RasterRegistry
from planning.catchments import catchment_names, catchment_of, clear_catchment, hub_choices, is_explicit, set_catchment
from planning.geography import centres_frame, district_choices, set_hub
from planning.hub_suggestion import adopt_suggestion, centres_with_voters, evaluate_hubs, suggest_hubs
from planning.reference_layers import remove_raster, upload_raster
from planning.users import ROLES, disable_user, list_users, set_role
from planning.villages import add_village, delete_village, import_villages, villages_frame
from settings import raster_dir
from ui.context import current_actor, get_store, lang, show_refusal, tr
from ui.mapdata import base_map, forget_reference

store = get_store()
actor = current_actor(store)
st.title(tr("nav.admin"))
if actor.role != "admin":
    st.error(tr("admin.only"))
    st.stop()


def _hubs_section() -> None:
    st.caption(tr("admin.hubs.help"))
    centres = centres_frame(store)
    edited = st.data_editor(
        centres[["code", "name", "is_hub"]],
        column_config={
            "code": st.column_config.TextColumn(tr("admin.code"), disabled=True),
            "name": st.column_config.TextColumn(tr("admin.centre"), disabled=True),
            "is_hub": st.column_config.CheckboxColumn(tr("layer.hubs")),
        },
        hide_index=True,
        key="hub_editor",
    )
    if st.button(tr("admin.save"), key="save_hubs", type="primary"):
        changed = [(c, bool(h)) for c, h, old in zip(edited["code"], edited["is_hub"], centres["is_hub"]) if bool(h) != bool(old)]
        try:
            for code, is_hub in changed:
                set_hub(store, actor, code, is_hub)
        except Refusal as err:
            show_refusal(err)
        else:
            forget_reference()
            st.success(tr("admin.saved", n=len(changed)))

    st.subheader(tr("admin.suggest"))
    st.caption(tr("admin.suggest.help"))
    k = st.number_input(tr("admin.suggest.k"), min_value=1, max_value=44, value=max(1, int(centres["is_hub"].sum())), key="suggest_k")
    if st.button(tr("admin.suggest.run"), key="suggest_run"):
        try:
            points = centres_with_voters(store)
            st.session_state["hub_suggestion"] = (
                suggest_hubs(points, int(k)),
                evaluate_hubs(points, centres.loc[centres["is_hub"], "code"]),
            )
        except Refusal as err:
            show_refusal(err)
    if "hub_suggestion" in st.session_state:
        suggested, current = st.session_state["hub_suggestion"]
        names = dict(zip(centres["code"], centres["name"]))
        c1, c2 = st.columns(2)
        for col, label, s in ((c1, tr("admin.suggest.current"), current), (c2, tr("admin.suggest.suggested"), suggested)):
            col.markdown(f"**{label}**")
            col.metric(tr("admin.suggest.mean"), f"{s.weighted_mean_m:,.0f} m")
            col.metric(tr("admin.suggest.worst"), f"{s.worst_m:,.0f} m")
            col.caption(", ".join(names.get(c, c) for c in s.codes))
        if st.button(tr("admin.suggest.adopt"), key="suggest_adopt", type="primary"):
            try:
                adopt_suggestion(store, actor, suggested)
            except Refusal as err:
                show_refusal(err)
            else:
                forget_reference()
                st.session_state.pop("hub_suggestion")
                st.rerun()


def _villages_section(draw_map: bool) -> None:
    villages = villages_frame(store)
    st.dataframe(villages.drop(columns="geometry"), hide_index=True)
    st.subheader(tr("admin.villages.draw"))
    name = st.text_input(tr("admin.villages.name"), key="village_name")
    drawing = None
    if draw_map:  # only while the tab is open: see the tabs below
        m = base_map(lang())
        village_draw_control(lang()).add_to(m)
        out = streamlit_folium.st_folium(m, key="village_map", returned_objects=["last_active_drawing", "all_drawings"], use_container_width=True, height=480)
        drawing = latest_drawing(out)
    if st.button(tr("admin.villages.add"), key="add_village", disabled=drawing is None):
        try:
            vid = add_village(store, actor, name, drawing)
        except Refusal as err:
            show_refusal(err)
        else:
            forget_reference()
            st.success(tr("admin.villages.added", id=vid))
    st.subheader(tr("admin.villages.import"))
    upload = st.file_uploader(tr("admin.villages.file"), type=["geojson", "json", "gpkg", "zip"], key="village_file")
    name_column = st.text_input(tr("admin.villages.name_column"), value="name", key="village_name_column")
    if upload is not None and st.button(tr("admin.villages.import"), key="import_villages"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(upload.name).name
            path.write_bytes(upload.getvalue())
            try:
                report = import_villages(store, actor, path, name_column)
            except Refusal as err:
                show_refusal(err)
            else:
                forget_reference()
                st.text(report.summary(lang()) if hasattr(report, "summary") else str(report))
    if len(villages):
        names = dict(zip(villages["id"], villages["name"]))
        gone = st.selectbox(tr("admin.villages.delete"), options=list(names), format_func=names.get, key="village_delete")
        if st.button(tr("admin.villages.delete"), key="delete_village"):
            try:
                delete_village(store, actor, int(gone))
            except Refusal as err:
                show_refusal(err)
            else:
                forget_reference()
                st.rerun()


def _rasters_section() -> None:
    st.caption(tr("admin.rasters.help"))
    registered = RasterRegistry(raster_dir()).list()
    st.dataframe(
        [{tr("admin.rasters.key"): r.key, tr("admin.rasters.title"): r.title(lang()), tr("admin.rasters.kind"): tr(f"admin.rasters.kind.{r.kind}")} for r in registered],
        hide_index=True,
    )
    raster_file = st.file_uploader(tr("admin.rasters.file"), type=["tif", "tiff"], key="raster_file")
    r1, r2, r3 = st.columns(3)
    raster_title = r1.text_input(tr("admin.rasters.title_ko"), key="raster_title_ko", max_chars=120)
    raster_title_en = r2.text_input(tr("admin.rasters.title_en"), key="raster_title_en", max_chars=120)
    raster_units = r3.text_input(tr("admin.rasters.units"), key="raster_units", max_chars=40)
    raster_categorical = st.checkbox(tr("admin.rasters.categorical"), key="raster_categorical")
    if st.button(tr("admin.rasters.upload"), key="raster_upload", disabled=raster_file is None):
        try:
            layer = upload_raster(
                store, actor, raster_file.getvalue(), raster_file.name, raster_title, raster_title_en or None,
                units=raster_units, categorical=raster_categorical,
            )
        except Refusal as err:
            show_refusal(err)
        else:
            forget_reference()
            st.success(tr("admin.rasters.added", title=layer.title(lang())))
    removable = [r for r in registered if r.kind != "reference"]
    if removable:
        titles = {r.key: r.title(lang()) for r in removable}
        gone_raster = st.selectbox(tr("admin.rasters.remove"), list(titles), format_func=titles.get, key="raster_remove_pick")
        if st.button(tr("admin.rasters.remove"), key="raster_remove"):
            try:
                remove_raster(store, actor, gone_raster)
            except Refusal as err:
                show_refusal(err)
            else:
                forget_reference()
                st.rerun()


def _catchments_section() -> None:
    st.caption(tr("admin.catchments.help"))
    hub_names = hub_choices(store)
    overview = catchment_names(store)
    st.dataframe(
        [{tr("mtg.hub"): hub_names.get(h, h), tr("admin.catchments.dongs"): ", ".join(names)} for h, names in overview.items()],
        hide_index=True,
    )
    chosen_hub = st.selectbox(tr("mtg.hub"), list(hub_names), format_func=hub_names.get, key="catchment_hub")
    dongs = district_choices(store)
    picked_dongs = st.multiselect(
        tr("admin.catchments.dongs"), list(dongs), default=catchment_of(store, chosen_hub), format_func=dongs.get, key=f"catchment_dongs_{chosen_hub}"
    )
    k1, k2 = st.columns(2)
    if k1.button(tr("admin.catchments.save"), key="catchment_save", type="primary"):
        try:
            set_catchment(store, actor, chosen_hub, picked_dongs)
        except Refusal as err:
            show_refusal(err)
        else:
            st.success(tr("admin.catchments.saved"))
    if k2.button(tr("admin.catchments.clear"), key="catchment_clear", disabled=not is_explicit(store, chosen_hub)):
        try:
            clear_catchment(store, actor, chosen_hub)
        except Refusal as err:
            show_refusal(err)
        else:
            st.rerun()


def _users_section() -> None:
    st.caption(tr("admin.users.help"))
    try:
        accounts = list_users(store, actor)
    except Refusal as err:
        show_refusal(err)
        accounts = []
    st.dataframe(
        [
            {
                "id": u.id,
                tr("signin.username"): u.username,
                tr("admin.users.account"): u.display_name,
                tr("admin.users.role"): tr(f"role.{u.role}") + (f" ({tr('admin.users.disabled')})" if u.disabled else ""),
                tr("admin.users.hub"): u.hub_code or "",
            }
            for u in accounts
        ],
        hide_index=True,
    )
    if accounts:
        by_id = {u.id: u for u in accounts}
        who = st.selectbox(tr("admin.users.account"), list(by_id), format_func=lambda i: f"{by_id[i].display_name} ({by_id[i].username})", key="user_pick")
        role_names = {r: tr(f"role.{r}") for r in ROLES}  # in this run's language (format_func may be called later)
        role = st.selectbox(tr("admin.users.role"), ROLES, index=ROLES.index(by_id[who].role), format_func=role_names.get, key=f"user_role_{who}")
        hub_names = hub_choices(store)
        hub = None
        if role == "centre_staff":
            codes = list(hub_names)
            current = by_id[who].hub_code
            hub = st.selectbox(tr("admin.users.hub"), codes, index=codes.index(current) if current in codes else 0, format_func=hub_names.get, key=f"user_hub_{who}")
        u1, u2 = st.columns(2)
        if u1.button(tr("admin.users.save"), key="user_save", type="primary"):
            try:
                set_role(store, actor, who, role, hub)
            except Refusal as err:
                show_refusal(err)
            else:
                st.success(tr("admin.users.done"))
        if u2.button(tr("admin.users.disable"), key="user_disable", disabled=who == actor.id or by_id[who].disabled):
            try:
                disable_user(store, actor, who)
            except Refusal as err:
                show_refusal(err)
            else:
                st.rerun()


# The tabs track which one is open (``on_change="rerun"``) so that the villages map is drawn only while its tab is
# open: a streamlit-folium map drawn in a tab that is not open has no size, so Leaflet threw "Invalid LatLng object:
# (NaN, NaN)" half-way through the map's script, and opening the tab ran that script again in the same frame
# ("Identifier 'layer_control_div_N' has already been declared"). The rest of every tab runs as before.
hubs_tab, catchments_tab, villages_tab, rasters_tab, users_tab = st.tabs(
    [tr("admin.hubs"), tr("admin.catchments"), tr("admin.villages"), tr("admin.rasters"), tr("admin.users.tab")],
    key=f"admin_tab_{lang()}",  # the state is the open tab's label, which changes with the language
    on_change="rerun",
)
with hubs_tab:
    _hubs_section()
with catchments_tab:
    _catchments_section()
with villages_tab:
    _villages_section(draw_map=bool(villages_tab.open))
with rasters_tab:
    _rasters_section()
with users_tab:
    _users_section()
