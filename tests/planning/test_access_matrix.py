"""The access-control matrix (issue 8): every role against every action of the service layer.

Seven actors in one seeded store: anonymous, resident A (the author of the
test proposals), resident B, centre staff of the proposals' hub, staff of
another hub, a planner and an admin. :data:`MATRIX` says, per action, which
of them may do it. Every (action, role) cell runs on its own copy of the
seeded SQLite database: an allowed cell must succeed and really change (or
return) what it should; a denied cell must raise a bilingual refusal and
leave every table exactly as it was. Actions tied to a budget phase run in
that phase. A subset runs on PostGIS too, and made-up ``Actor`` objects
(a resident claiming to be an admin) are refused everywhere.
"""
from __future__ import annotations

import functools
import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from affine import Affine
from shapely.geometry import Point, box, mapping
from sqlalchemy import text

from geo.crs import lonlat_to_metric
from geo.errors import Refusal
from layers.rasters import RasterRegistry, write_geotiff
from planning import aggregates, budget, meetings, moderation, proposals, review, users, workflow
from planning.auth import Actor, actor_for
from planning.budget_views import district_card, quota_status_by_district, review_rows
from planning.catchments import clear_catchment, set_catchment
from planning.clusters import ClusterParams, cluster_proposals
from planning.errors import InvalidInput, NotAllowed
from planning.exports import review_export
from planning.geography import install_reference_data, set_hub
from planning.heatmap import density_raster
from planning.hub_suggestion import HubSuggestion, adopt_suggestion
from planning.packet import build_packet
from planning.reference_layers import remove_raster, upload_raster
from planning.villages import add_village, delete_village, import_villages
from store import Store
from store.models import Base

HAENGSIN1 = "4128164000"  # 행신1동: home of A and B, district of the proposals
HUB = "4128165000"  # 행신2동: the hub of 행신1동
OTHER_HUB = "4128162100"  # 화정1동, another hub
NOT_A_HUB = HAENGSIN1
LON, LAT = 126.833004, 37.622148
SOON = datetime.now(UTC) + timedelta(days=7)

ROLES = ("anonymous", "author", "other", "hub_staff", "far_staff", "planner", "admin")
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
RESIDENTS = frozenset({"author", "other"})
R = frozenset({"planner", "admin"})
ADMIN = frozenset({"admin"})
AUTHOR = frozenset({"author"})
# Who sees hidden content: moderators and the author.
HIDDEN_READERS = R | AUTHOR

# Personal data of the authors, which no review export may contain.
PERSONAL = {
    "author": ("minji-login", "김민지작가", "minji@example.org"),
    "other": ("junho-login", "박준호주민", "junho@example.org"),
}


# ---------------------------------------------------------------- the seeded store


@dataclass
class World:
    """The seeded store's ids: accounts, proposals, comment, meetings, village, cycle."""

    actors: dict[str, Actor]
    ids: dict[str, int]


def _seed(store: Store) -> World:
    install_reference_data(store)
    with store.transaction() as tx:
        ids = {
            "author": tx.residents.add(PERSONAL["author"][0], PERSONAL["author"][1], home_district_code=HAENGSIN1,
                                       email=PERSONAL["author"][2], password_hash="x").id,
            "other": tx.residents.add(PERSONAL["other"][0], PERSONAL["other"][1], home_district_code=HAENGSIN1,
                                      email=PERSONAL["other"][2], password_hash="x").id,
            "hub_staff": tx.residents.add("staff", "직원", role="centre_staff", hub_code=HUB, password_hash="x").id,
            "far_staff": tx.residents.add("far", "먼직원", role="centre_staff", hub_code=OTHER_HUB, password_hash="x").id,
            "planner": tx.residents.add("planner", "기획", role="planner", password_hash="x").id,
            "admin": tx.residents.add("admin", "관리", role="admin", password_hash="x").id,
        }

        def proposal(title: str, status: str = "submitted", hidden: bool = False, x: float = 0.0) -> int:
            p = tx.proposals.add(title=title, body="공원에 벤치를", category="environment", kind="area",
                                 author_id=ids["author"], geometry=Point(LON + x, LAT), hub_code=HUB,
                                 district_code=HAENGSIN1, cost_krw=5_000_000)
            if status != "submitted":
                tx.proposals.set_status(p.id, status, None, "setup")
            if hidden:
                tx.proposals.set_hidden(p.id, True, reason="setup", by=None)
            return int(p.id)

        ids["P"] = proposal("벤치 설치")  # submitted, visible
        ids["H"] = proposal("숨긴 제안", hidden=True, x=0.001)  # hidden by a moderator
        ids["S"] = proposal("가로등", "shortlisted", x=0.002)  # shortlisted: a meeting may decide it
        ids["S2"] = proposal("화단", "shortlisted", x=0.003)
        ids["C"] = int(tx.comments.add(ids["P"], ids["other"], "좋아요").id)
        tx.flags.add(ids["author"], "욕설", proposal_id=None, comment_id=ids["C"])
        ids["V"] = int(tx.villages.add("햇살마을", HAENGSIN1, box(LON, LAT, LON + 0.002, LAT + 0.001), created_by=ids["admin"]).id)
        ids["cycle"] = int(tx.cycles.add(2030, created_by=ids["admin"]).id)
    actors = {name: actor_for(store, rid) for name, rid in ids.items() if name in ROLES}
    actors["anonymous"] = Actor.anonymous()
    staff = actors["hub_staff"]
    ids["M_draft"] = meetings.create_meeting(store, staff, HUB, "hub_meeting", SOON, "센터").id
    meetings.set_agenda(store, staff, ids["M_draft"], [{"proposal_id": ids["S"]}])
    ids["M_pub"] = meetings.create_meeting(store, staff, HUB, "hub_meeting", SOON, "센터").id
    view = meetings.set_agenda(store, staff, ids["M_pub"], [{"proposal_id": ids["S2"]}])
    ids["M_pub_item"] = int(view.items[0].id)
    meetings.publish_meeting(store, staff, ids["M_pub"])
    return World(actors, ids)


def _set_phase(store: Store, w: World, phase: str) -> None:
    with store.transaction() as tx:
        tx.cycles.update(w.ids["cycle"], phase=phase)


def _quotas(store: Store, w: World, publish: bool = True) -> None:
    budget.set_quotas_by_rule(store, w.actors["admin"], w.ids["cycle"], 44 * 100_000_000, 50_000_000, "0.5")
    if publish:
        budget.publish_quotas(store, w.actors["admin"], w.ids["cycle"])


def _passed_review(store: Store, w: World, pid: str = "P") -> None:
    with store.transaction() as tx:
        tx.reviews.put(w.ids["cycle"], w.ids[pid], feasible=True, official_cost_krw=4_000_000, field_verified_on=None,
                       field_note="", field_photo_url=None, construction=False, passed=True, reviewed_by=w.ids["planner"])


def snapshot(store: Store) -> dict[str, list[tuple]]:
    """Every row of every table (and the data-version counters), as plain tuples ordered by all columns."""
    out = {}
    with store.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(text(f"SELECT * FROM {table.name}")).all()
            out[table.name] = sorted((tuple(repr(v) for v in r) for r in rows))
    return out


def _status(store: Store, pid: int) -> str:
    with store.transaction() as tx:
        return tx.proposals.get(pid).status


def _audit(store: Store, action: str) -> list[Any]:
    with store.transaction() as tx:
        return tx.audit.list(action=action)


# ---------------------------------------------------------------- the actions


@dataclass(frozen=True)
class Action:
    """One service call: who may make it, how to prepare the store, the call, and what an allowed call must have done."""

    name: str
    allowed: frozenset[str]
    run: Callable[[Store, World, Actor], Any]
    check: Callable[[Store, World, Any], None]
    setup: Callable[[Store, World], None] = lambda store, w: None
    # Reads of hidden content answer "not found" to those who may not see it (existence is not revealed).
    hidden_read: bool = False


def _returns(pred: Callable[[Any], bool]) -> Callable[[Store, World, Any], None]:
    def check(store: Store, w: World, result: Any) -> None:
        assert pred(result), result
    return check


def _status_is(pid: str, status: str) -> Callable[[Store, World, Any], None]:
    def check(store: Store, w: World, result: Any) -> None:
        assert _status(store, w.ids[pid]) == status
    return check


def _audited(action: str) -> Callable[[Store, World, Any], None]:
    def check(store: Store, w: World, result: Any) -> None:
        assert _audit(store, action), action
    return check


def _phase(phase: str, then: Callable[[Store, World], None] | None = None) -> Callable[[Store, World], None]:
    def setup(store: Store, w: World) -> None:
        if then is not None:
            then(store, w)
        _set_phase(store, w, phase)
    return setup


def _move_catchment(store: Store, w: World) -> None:
    set_catchment(store, w.actors["admin"], OTHER_HUB, [HAENGSIN1])


def _check_vote(store: Store, w: World, result: Any) -> None:
    assert result == [w.ids["P"]]
    with store.transaction() as tx:
        assert tx.votes.counts(w.ids["cycle"]) == {w.ids["P"]: 1}


def _check_minutes(store: Store, w: World, result: Any) -> None:
    assert _status(store, w.ids["S2"]) == "adopted"
    assert result.items[0].minutes is not None and result.items[0].minutes.decision == "adopted"


def _check_export(store: Store, w: World, result: Any) -> None:
    text_ = result.decode("utf-8-sig")
    assert "벤치 설치" in text_ and "숨긴 제안" in text_


def _check_user(role: str) -> Callable[[Store, World, Any], None]:
    def check(store: Store, w: World, result: Any) -> None:
        with store.transaction() as tx:
            assert tx.residents.get(w.ids["other"]).role == role
        assert _audit(store, "user.set_role" if role == "planner" else "user.disable")
    return check


def _suggestion(store: Store, w: World) -> HubSuggestion:
    with store.transaction() as tx:
        hubs = sorted(c.code for c in tx.centres.list(hubs_only=True))
    codes = tuple(sorted([*hubs, NOT_A_HUB]))
    return HubSuggestion(codes=codes, assignment={}, distance_m={}, weighted_mean_m=0.0, worst_m=0.0, objective=0.0)


def _is_hub(code: str, expected: bool) -> Callable[[Store, World, Any], None]:
    def check(store: Store, w: World, result: Any) -> None:
        with store.transaction() as tx:
            assert bool(tx.centres.get(code).is_hub) is expected
    return check


SQUARE = mapping(box(LON, LAT, LON + 0.002, LAT + 0.001))
FIELD_NOTE = "현장 메모: 배수로 막힘"  # a planner's note: not public


def _cell_dir(store: Store) -> Path | None:
    """The folder of a cell's own SQLite copy (rasters and packets of the cell go there); None on PostGIS."""
    if store.engine.url.get_backend_name() != "sqlite":
        return None
    return Path(store.engine.url.database).parent


def _registry(store: Store) -> RasterRegistry:
    return RasterRegistry(_cell_dir(store) / "rasters")


def _files(store: Store) -> list[tuple[str, int]]:
    """Every file next to the cell's database (not the database itself), with its size."""
    folder = _cell_dir(store)
    if folder is None:
        return []
    return sorted((str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*")
                  if p.is_file() and not p.name.startswith("cell.sqlite3"))


@functools.cache
def _geotiff() -> bytes:
    """A 40 x 40 GeoTIFF of 100 m cells in EPSG:5179 over 행신동."""
    x, y = (float(v[0]) for v in lonlat_to_metric([LON], [LAT]))
    with tempfile.TemporaryDirectory() as folder:
        path = write_geotiff(Path(folder) / "flood.tif", np.full((40, 40), 7.0, dtype=np.float32),
                             Affine(100.0, 0.0, x - 2000.0, 0.0, -100.0, y + 2000.0), nodata=-9999.0)
        return path.read_bytes()


def _upload(store: Store, actor: Actor) -> Any:
    return upload_raster(store, actor, _geotiff(), "flood.tif", "침수 위험도", "Flood risk", units="cm",
                         registry=_registry(store))


def _uploaded_keys(store: Store) -> list[str]:
    return [layer.key for layer in _registry(store).list(("uploaded",))]


def _remove_uploaded(store: Store, w: World, actor: Actor) -> None:
    [key] = _uploaded_keys(store)
    remove_raster(store, actor, key, registry=_registry(store))


def _check_upload(store: Store, w: World, layer: Any) -> None:
    assert _uploaded_keys(store) == [layer.key]
    assert _audit(store, "raster.upload")


def _check_removed(store: Store, w: World, result: Any) -> None:
    assert _uploaded_keys(store) == [] and _audit(store, "raster.remove")


def _check_density(store: Store, w: World, result: Any) -> None:
    # hidden proposals count (the planners' view): all four seeded ones
    assert result.layer is not None and result.features == 4
    assert [layer.key for layer in _registry(store).list(("density",))] == [result.key]


def _packet(store: Store, w: World, actor: Actor) -> Any:
    return build_packet(store, HUB, _cell_dir(store) / "packet", meeting_id=w.ids["M_draft"], viewer=actor,
                        creation_date=datetime(2030, 1, 1, tzinfo=UTC))


def _check_packet(store: Store, w: World, files: Any) -> None:
    assert files.meeting_id == w.ids["M_draft"] and files.proposal_ids == [w.ids["S"]]
    assert files.pdf.read_bytes().startswith(b"%PDF") and files.pages >= 3


def _noted_review(store: Store, w: World) -> None:
    with store.transaction() as tx:
        tx.reviews.put(w.ids["cycle"], w.ids["P"], feasible=True, official_cost_krw=4_000_000, field_verified_on=None,
                       field_note=FIELD_NOTE, field_photo_url=None, construction=False, passed=True,
                       reviewed_by=w.ids["planner"])
    _set_phase(store, w, "review")


def _check_review_rows(store: Store, w: World, rows: Any) -> None:
    notes = {r.id: r.field_note for r in rows}
    assert notes[w.ids["P"]] == FIELD_NOTE and w.ids["H"] not in notes


def _check_draft_quotas(store: Store, w: World, rows: Any) -> None:
    assert len(rows) == 44 and sum(r["amount_krw"] for r in rows) == 44 * 100_000_000

ACTIONS: tuple[Action, ...] = (
    # --- reading hidden content
    Action("card_of_hidden", HIDDEN_READERS, lambda s, w, a: proposals.proposal_card(s, w.ids["H"], a),
           _returns(lambda c: c.hidden and c.title == "숨긴 제안"), hidden_read=True),
    Action("thread_of_hidden", HIDDEN_READERS, lambda s, w, a: proposals.comment_thread(s, w.ids["H"], a),
           _returns(lambda t: t == []), hidden_read=True),
    Action("history_of_hidden", HIDDEN_READERS, lambda s, w, a: workflow.status_history(s, a, w.ids["H"]),
           _returns(lambda h: len(h) >= 1), hidden_read=True),
    Action("staff_map_with_hidden", R, lambda s, w, a: proposals.map_frame(s, include_hidden=True, viewer=a),
           _returns(lambda f: w_ids_in(f, "숨긴 제안"))),
    Action("review_table", R, lambda s, w, a: review.review_frame(s, a),
           _returns(lambda f: w_ids_in(f, "숨긴 제안"))),
    Action("flag_queue", R, lambda s, w, a: moderation.flag_queue(s, a), _returns(lambda q: len(q) == 1)),
    Action("draft_meeting_view", R | {"hub_staff"}, lambda s, w, a: meetings.meeting_view(s, a, w.ids["M_draft"]),
           _returns(lambda v: v.meeting.status == "draft"), hidden_read=True),
    Action("list_meetings_with_drafts", R | {"hub_staff"}, lambda s, w, a: meetings.list_meetings(s, a, HUB),
           _returns(lambda ms: {m.status for m in ms} == {"draft", "published"})),
    # --- a proposal's author
    Action("edit", AUTHOR, lambda s, w, a: proposals.edit_proposal(s, a, w.ids["P"], title="새 제목"),
           _returns(lambda changed: "title" in changed), setup=_phase("proposals_open")),
    Action("withdraw", AUTHOR, lambda s, w, a: proposals.withdraw_proposal(s, a, w.ids["P"], "이사"),
           _status_is("P", "withdrawn"), setup=_phase("review")),
    # --- any signed-in person
    Action("submit", SIGNED_IN, lambda s, w, a: proposals.submit_proposal(s, a, SQUARE, "새 제안", "내용", "environment"),
           _returns(lambda pid: isinstance(pid, int)), setup=_phase("proposals_open")),
    Action("comment", SIGNED_IN, lambda s, w, a: proposals.add_comment(s, a, w.ids["P"], "의견"),
           _returns(lambda cid: isinstance(cid, int)), setup=_phase("results")),
    Action("support", SIGNED_IN, lambda s, w, a: proposals.support_proposal(s, a, w.ids["P"]),
           _returns(lambda n: n == 1), setup=_phase("assemblies")),
    Action("flag", SIGNED_IN - AUTHOR, lambda s, w, a: moderation.flag(s, a, "proposal", w.ids["P"], "광고"),
           _returns(lambda fid: isinstance(fid, int))),
    # --- workflow moves
    Action("status_review_move", R, lambda s, w, a: workflow.transition(s, a, w.ids["P"], "under_review"),
           _status_is("P", "under_review")),
    Action("status_meeting_decision", R | {"hub_staff"}, lambda s, w, a: workflow.transition(s, a, w.ids["S"], "adopted"),
           _status_is("S", "adopted")),
    Action("merge", R, lambda s, w, a: workflow.merge(s, a, w.ids["P"], w.ids["S"], "중복"), _status_is("P", "merged")),
    # --- moderation
    Action("hide", R, lambda s, w, a: moderation.hide(s, a, "proposal", w.ids["P"], "광고"),
           _audited("moderation.hide")),
    Action("unhide", R, lambda s, w, a: moderation.unhide(s, a, "proposal", w.ids["H"], "오해"),
           _audited("moderation.unhide")),
    Action("dismiss_flags", R, lambda s, w, a: moderation.dismiss_flags(s, a, "comment", w.ids["C"]),
           _returns(lambda n: n == 1)),
    # --- budget
    Action("create_cycle", ADMIN, lambda s, w, a: budget.create_cycle(s, a, 2031), _audited("cycle.create")),
    Action("advance_phase", ADMIN, lambda s, w, a: budget.advance_phase(s, a, w.ids["cycle"]),
           _returns(lambda p: p == "review")),
    Action("set_quotas", ADMIN,
           lambda s, w, a: budget.set_quotas_by_rule(s, a, w.ids["cycle"], 44 * 100_000_000, 50_000_000, "0.5"),
           _audited("quotas.set_by_rule"), setup=_phase("review")),
    Action("override_quota", ADMIN, lambda s, w, a: budget.override_quota(s, a, w.ids["cycle"], HAENGSIN1, 1),
           _audited("quota.override"), setup=_phase("assemblies", lambda s, w: _quotas(s, w, publish=False))),
    Action("publish_quotas", ADMIN, lambda s, w, a: budget.publish_quotas(s, a, w.ids["cycle"]),
           _audited("quotas.publish"), setup=_phase("proposals_open", lambda s, w: _quotas(s, w, publish=False))),
    Action("planner_review", R,
           lambda s, w, a: budget.review_proposal(s, a, w.ids["cycle"], w.ids["P"], feasible=True,
                                                  official_cost_krw=4_000_000, construction=False),
           _status_is("P", "shortlisted"), setup=_phase("review")),
    Action("record_assembly", ADMIN | {"hub_staff"},
           lambda s, w, a: budget.record_assembly(s, a, w.ids["cycle"], HAENGSIN1, date(2030, 5, 1), 300, [w.ids["P"]]),
           _audited("assembly.record"), setup=_phase("assemblies", lambda s, w: _passed_review(s, w))),
    # an admin moved 행신1동 to the other hub's catchment: its staff record the assembly now, the nearest hub's may not
    Action("record_assembly_moved_catchment", ADMIN | {"far_staff"},
           lambda s, w, a: budget.record_assembly(s, a, w.ids["cycle"], HAENGSIN1, date(2030, 5, 1), 300, [w.ids["P"]]),
           _audited("assembly.record"), setup=_phase("assemblies", lambda s, w: (_passed_review(s, w), _move_catchment(s, w)))),
    Action("vote", RESIDENTS, lambda s, w, a: budget.cast_votes(s, a, w.ids["cycle"], [w.ids["P"]]), _check_vote,
           setup=_phase("voting", lambda s, w: (_quotas(s, w), _passed_review(s, w)))),
    Action("ballot_status", RESIDENTS, lambda s, w, a: budget.ballot_status(s, a, w.ids["cycle"]),
           _returns(lambda b: b.proposal_ids == [] and b.quota_krw > 0), setup=_phase("voting", lambda s, w: _quotas(s, w))),
    Action("run_allocation", ADMIN, lambda s, w, a: budget.run_allocation(s, a, w.ids["cycle"]),
           _audited("allocation.run"), setup=_phase("allocation", lambda s, w: (_quotas(s, w), _passed_review(s, w)))),
    Action("approve", ADMIN, lambda s, w, a: budget.approve_proposal(s, a, w.ids["cycle"], w.ids["P"]),
           _audited("proposal.approve"), setup=_phase("allocation", lambda s, w: (_quotas(s, w), _passed_review(s, w)))),
    Action("publish_results", ADMIN, lambda s, w, a: budget.advance_phase(s, a, w.ids["cycle"]),
           _returns(lambda p: p == "results"), setup=_phase("allocation")),
    # --- meetings (a draft exists only for those who may prepare it: "not found" for the others)
    Action("create_meeting", R | {"hub_staff"}, lambda s, w, a: meetings.create_meeting(s, a, HUB, "dong_group", SOON, "경로당"),
           _audited("meeting.create")),
    Action("set_agenda", R | {"hub_staff"},
           lambda s, w, a: meetings.set_agenda(s, a, w.ids["M_draft"], [{"proposal_id": w.ids["S"]}, {"proposal_id": w.ids["S2"]}]),
           _returns(lambda v: len(v.items) == 2), hidden_read=True),
    Action("publish_meeting", R | {"hub_staff"}, lambda s, w, a: meetings.publish_meeting(s, a, w.ids["M_draft"]),
           _returns(lambda m: m.status == "published"), hidden_read=True),
    Action("delete_meeting", R | {"hub_staff"}, lambda s, w, a: meetings.delete_meeting(s, a, w.ids["M_draft"]),
           _audited("meeting.delete"), hidden_read=True),
    Action("agenda_candidates", R | {"hub_staff"}, lambda s, w, a: meetings.agenda_candidates(s, a, HUB),
           _returns(lambda cs: isinstance(cs, list))),
    Action("update_published_meeting", R | {"hub_staff"}, lambda s, w, a: meetings.update_meeting(s, a, w.ids["M_pub"], place="도서관"),
           _audited("meeting.update")),
    Action("close_meeting", R | {"hub_staff"}, lambda s, w, a: meetings.close_meeting(s, a, w.ids["M_pub"]),
           _returns(lambda m: m.status == "held")),
    Action("record_minutes", ADMIN | {"hub_staff"},
           lambda s, w, a: meetings.record_minutes(s, a, w.ids["M_pub"], w.ids["M_pub_item"], "adopted", votes_for=9),
           _check_minutes),
    # --- exports (planners' exports carry no personal data: see test_no_review_export_holds_personal_data)
    Action("by_dong", R, lambda s, w, a: aggregates.by_dong(s, a), _returns(lambda f: len(f) == 44)),
    Action("export_csv", R, lambda s, w, a: review_export(s, a, None, "csv"), _check_export),
    # --- geography (admins)
    Action("add_village", ADMIN, lambda s, w, a: add_village(s, a, "새마을", SQUARE), _returns(lambda vid: isinstance(vid, int))),
    Action("import_villages", ADMIN, lambda s, w, a: _import_villages(s, a), _returns(lambda r: len(r.added_ids) == 1)),
    Action("delete_village", ADMIN, lambda s, w, a: delete_village(s, a, w.ids["V"]), lambda s, w, r: _village_gone(s, w)),
    Action("set_hub", ADMIN, lambda s, w, a: set_hub(s, a, NOT_A_HUB, True), _is_hub(NOT_A_HUB, True)),
    Action("adopt_hub_suggestion", ADMIN, lambda s, w, a: adopt_suggestion(s, a, _suggestion(s, w)),
           _is_hub(NOT_A_HUB, True)),
    Action("set_catchment", ADMIN, lambda s, w, a: set_catchment(s, a, OTHER_HUB, [HAENGSIN1]),
           _returns(lambda codes: HAENGSIN1 in codes)),
    Action("clear_catchment", ADMIN, lambda s, w, a: clear_catchment(s, a, OTHER_HUB),
           _returns(lambda codes: HAENGSIN1 not in codes), setup=lambda s, w: _move_catchment(s, w)),
    # --- users (admins)
    Action("list_users", ADMIN, lambda s, w, a: users.list_users(s, a), _returns(lambda rows: len(rows) == 6)),
    Action("set_role", ADMIN, lambda s, w, a: users.set_role(s, a, w.ids["other"], "planner"), _check_user("planner")),
    Action("disable_user", ADMIN, lambda s, w, a: users.disable_user(s, a, w.ids["other"]), _check_user("resident")),
    # --- budget read-models that are not public: quotas before publication, planners' field notes
    Action("quota_table_unpublished", R, lambda s, w, a: budget.quota_table(s, a, w.ids["cycle"]), _check_draft_quotas,
           setup=lambda s, w: _quotas(s, w, publish=False)),
    Action("quota_map_unpublished", R, lambda s, w, a: quota_status_by_district(s, a, w.ids["cycle"]),
           _returns(lambda q: len(q) == 44), setup=lambda s, w: _quotas(s, w, publish=False)),
    Action("district_card_unpublished", R, lambda s, w, a: district_card(s, a, w.ids["cycle"], HAENGSIN1),
           _returns(lambda c: c.quota_krw > 0), setup=lambda s, w: _quotas(s, w, publish=False)),
    Action("review_rows", R, lambda s, w, a: review_rows(s, a, w.ids["cycle"]), _check_review_rows, setup=_noted_review),
    # --- raster layers (admins), density maps and clusters (planners), meeting packets (who may see the meeting)
    Action("upload_raster", ADMIN, lambda s, w, a: _upload(s, a), _check_upload),
    Action("remove_raster", ADMIN, lambda s, w, a: _remove_uploaded(s, w, a), _check_removed,
           setup=lambda s, w: _upload(s, w.actors["admin"])),
    Action("density_raster", R, lambda s, w, a: density_raster(s, a, None, 500, "count", registry=_registry(s)),
           _check_density),
    Action("cluster_proposals", R, lambda s, w, a: cluster_proposals(s, a, None, ClusterParams(eps_m=150, min_size=2)),
           _returns(lambda r: len(r.cards) == 1 and r.noise == 0)),
    Action("draft_meeting_packet", R | {"hub_staff"}, _packet, _check_packet, hidden_read=True),
)


def _import_villages(store: Store, actor: Actor) -> Any:
    feature = {"type": "Feature", "properties": {"name": "들꽃마을"}, "geometry": mapping(box(LON, LAT, LON + 0.002, LAT + 0.001))}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "villages.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
        return import_villages(store, actor, path, "name")


def _village_gone(store: Store, w: World) -> None:
    with store.transaction() as tx:
        assert tx.villages.get(w.ids["V"]) is None


def w_ids_in(frame: Any, title: str) -> bool:
    return title in set(frame["title"])


BY_NAME = {a.name: a for a in ACTIONS}


# ---------------------------------------------------------------- the matrix, cell by cell


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World]:
    """The seeded SQLite database, once per module; every cell works on its own copy."""
    path = tmp_path_factory.mktemp("matrix") / "seed.sqlite3"
    store = Store.open(f"sqlite:///{path}")
    try:
        world = _seed(store)
    finally:
        store.dispose()
    return path, world


@pytest.fixture
def cell_store(template: tuple[Path, World], tmp_path: Path):
    path, world = template
    # In memory when the machine has /dev/shm: ~300 cells, each committing a few times, need no fsync.
    where = Path(tempfile.mkdtemp(dir="/dev/shm")) if Path("/dev/shm").is_dir() else tmp_path
    copy = where / "cell.sqlite3"
    shutil.copyfile(path, copy)
    store = Store.open(f"sqlite:///{copy}", migrate=False)
    try:
        yield store, world
    finally:
        store.dispose()
        if where != tmp_path:
            shutil.rmtree(where, ignore_errors=True)


def _refused_cleanly(store: Store, action: Action, world: World, actor: Actor) -> Refusal:
    before, files = snapshot(store), _files(store)
    with pytest.raises(Refusal) as err:
        action.run(store, world, actor)
    refusal = err.value
    assert refusal.ko.strip() and refusal.en.strip(), refusal
    assert refusal.ko != refusal.en
    if not isinstance(refusal, NotAllowed):
        # Hidden content is "not found" (InvalidInput) for those who may not see it, exactly as a missing id.
        assert action.hidden_read and refusal.code.startswith("no_such_"), (action.name, type(refusal), refusal.code)
    assert snapshot(store) == before, f"{action.name}: a refused call changed the database"
    assert _files(store) == files, f"{action.name}: a refused call wrote files (rasters, packets)"
    return refusal


CELLS = [pytest.param(a.name, role, id=f"{a.name}-{role}") for a in ACTIONS for role in ROLES]


@pytest.mark.parametrize(("action_name", "role"), CELLS)
def test_cell(cell_store, action_name: str, role: str):
    store, world = cell_store
    action = BY_NAME[action_name]
    action.setup(store, world)
    actor = world.actors[role]
    if role in action.allowed:
        result = action.run(store, world, actor)
        action.check(store, world, result)
    else:
        refusal = _refused_cleanly(store, action, world, actor)
        if role == "anonymous" and isinstance(refusal, NotAllowed):
            assert refusal.code == "sign_in_required", (action_name, refusal.code)
        if not action.hidden_read:
            assert not refusal.code.startswith("no_such_"), (action_name, role, refusal.code)


def test_every_role_is_in_the_matrix_and_every_action_denies_someone():
    for a in ACTIONS:
        assert a.allowed <= set(ROLES), a.name
        assert a.allowed != set(ROLES), f"{a.name} allows everyone: it is no access-control cell"
        assert "anonymous" not in a.allowed, a.name


# ---------------------------------------------------------------- forged actors


FORGEABLE = ("card_of_hidden", "review_table", "flag_queue", "hide", "status_review_move", "create_cycle",
             "set_quotas", "run_allocation", "record_minutes", "export_csv", "add_village", "set_hub",
             "adopt_hub_suggestion", "set_catchment", "list_users", "set_role", "disable_user", "planner_review",
             "draft_meeting_view", "staff_map_with_hidden", "quota_table_unpublished", "quota_map_unpublished", "district_card_unpublished",
             "review_rows", "upload_raster",
             "remove_raster", "density_raster", "cluster_proposals")


@pytest.mark.parametrize("action_name", FORGEABLE)
def test_a_made_up_actor_is_not_trusted(cell_store, action_name: str):
    """Actor(id=B, role="admin", hub of the proposals) made up by a caller: the store says B is a resident."""
    store, world = cell_store
    action = BY_NAME[action_name]
    action.setup(store, world)
    forged = Actor(id=world.ids["other"], role="admin", hub_code=HUB, display_name="가짜 관리자")
    if "other" in action.allowed:
        pytest.fail(f"{action_name} is allowed to resident B: pick another action")
    _refused_cleanly(store, action, world, forged)
    ghost = Actor(id=999_999, role="admin")  # an account that does not exist is anonymous
    _refused_cleanly(store, action, world, ghost)


def test_a_deleted_account_acts_as_nobody(cell_store):
    """An account deleted by its owner keeps its row; a stale session or id of it is anonymous in every service."""
    store, world = cell_store
    with store.transaction() as tx:
        tx.residents.get(world.ids["admin"]).deleted_at = datetime.now(UTC)
    stale = world.actors["admin"]  # the Actor a page made before the deletion
    assert actor_for(store, world.ids["admin"]) == Actor.anonymous()
    for name in ("list_users", "set_hub", "comment", "hide"):
        refusal = _refused_cleanly(store, BY_NAME[name], world, stale)
        assert refusal.code == "sign_in_required", (name, refusal.code)


def test_published_quotas_are_public(cell_store):
    """Once published, every role (anonymous too) reads the same quota table, map figures and district card."""
    store, world = cell_store
    cid = world.ids["cycle"]
    _quotas(store, world, publish=True)
    seen = {
        role: (budget.quota_table(store, actor, cid), quota_status_by_district(store, actor, cid),
               district_card(store, actor, cid, HAENGSIN1).quota_krw)
        for role, actor in world.actors.items() if role in ROLES
    }
    first = seen["admin"]
    assert len(first[0]) == 44 and first[2] > 0
    assert all(v == first for v in seen.values()), seen.keys()


# ---------------------------------------------------------------- users: the rules beyond the role


def test_user_management_rules(cell_store):
    store, world = cell_store
    admin, ids = world.actors["admin"], world.ids
    with pytest.raises(InvalidInput) as err:
        users.set_role(store, admin, ids["other"], "centre_staff")
    assert err.value.code == "hub_required"
    with pytest.raises(InvalidInput) as err:
        users.set_role(store, admin, ids["other"], "centre_staff", NOT_A_HUB)
    assert err.value.code == "no_such_hub"
    with pytest.raises(InvalidInput) as err:
        users.set_role(store, admin, ids["other"], "planner", HUB)
    assert err.value.code == "hub_unexpected"
    with pytest.raises(InvalidInput) as err:
        users.set_role(store, admin, ids["other"], "superuser")
    assert err.value.code == "bad_role" and err.value.ko and err.value.en
    with pytest.raises(InvalidInput):
        users.set_role(store, admin, 999_999, "planner")
    row = users.set_role(store, admin, ids["other"], "centre_staff", OTHER_HUB)
    assert (row.role, row.hub_code) == ("centre_staff", OTHER_HUB)
    # the new role counts at once: B, now staff of the other hub, may prepare its meetings ...
    assert meetings.list_meetings(store, ids["other"], OTHER_HUB) == []
    # ... and back to resident drops the hub
    row = users.set_role(store, admin, ids["other"], "resident")
    assert (row.role, row.hub_code) == ("resident", None)
    # the last admin cannot go: neither demoted (even by themselves) nor disabled
    before = snapshot(store)
    for call in (lambda: users.set_role(store, admin, ids["admin"], "planner"),
                 lambda: users.disable_user(store, admin, ids["admin"])):
        with pytest.raises(NotAllowed) as err:
            call()
        assert err.value.code in ("last_admin", "disable_self") and err.value.ko and err.value.en
    assert snapshot(store) == before
    # with a second admin, the first may step down; the second is then the last one
    users.set_role(store, admin, ids["planner"], "admin")
    users.set_role(store, admin, ids["admin"], "resident")
    with pytest.raises(NotAllowed):  # no longer an admin: re-read from the store
        users.list_users(store, admin)
    second = actor_for(store, ids["planner"])
    with pytest.raises(NotAllowed) as err:
        users.set_role(store, second, ids["planner"], "resident")
    assert err.value.code == "last_admin"
    # disabling removes the password and any staff role; the account can no longer sign in
    row = users.disable_user(store, second, ids["hub_staff"])
    assert row.disabled and row.role == "resident" and row.hub_code is None
    with store.transaction() as tx:
        assert tx.residents.get(ids["hub_staff"]).password_hash is None
    entries = _audit(store, "user.disable")
    assert json.loads(entries[-1].detail)["before"]["role"] == "centre_staff"
    assert [r.username for r in users.list_users(store, second, role="admin")] == ["planner"]


# ---------------------------------------------------------------- exports hold no personal data


@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg"])
def test_no_review_export_holds_personal_data(cell_store, fmt: str):
    """README: planners' exports never hold names or contacts (usernames, display names, emails, home dongs)."""
    from planning.exports import read_back

    store, world = cell_store
    data = review_export(store, world.actors["planner"], None, fmt)
    frame = read_back(data, fmt)
    assert "벤치 설치" in set(frame["title"])  # the export is not empty
    cells = " ".join(str(v) for v in frame.astype(str).to_numpy().ravel()) + " " + " ".join(map(str, frame.columns))
    raw = data.decode("utf-8-sig", errors="replace") if fmt != "gpkg" else ""
    for username, display, email in PERSONAL.values():
        for secret in (username, display, email, email.split("@")[0]):
            assert secret not in cells and secret not in raw, (fmt, secret)
    assert not {"author", "author_id", "author_name", "email", "username", "display_name", "home_district_code"} & set(frame.columns)
    if fmt == "gpkg":  # the file itself: no string of it anywhere in the bytes
        for username, display, email in PERSONAL.values():
            for secret in (username, display, email):
                assert secret.encode() not in data, secret


# ---------------------------------------------------------------- a subset on PostGIS (and SQLite) via the `store` fixture


# In this order on one database: each allowed call leaves what the next ones need
# (``hide`` hides P, ``set_role`` makes B a planner: both last).
PG_SUBSET = ("card_of_hidden", "status_meeting_decision", "set_quotas", "vote", "record_assembly",
             "record_minutes", "export_csv", "set_hub", "hide", "set_role")


def test_denied_cells_leave_the_database_unchanged_on_each_engine(store):
    """On each engine: every denied role of a subset of actions is refused without a write; then an allowed one succeeds."""
    world = _seed(store)
    for name in PG_SUBSET:
        action = BY_NAME[name]
        action.setup(store, world)
        for role in ROLES:
            if role not in action.allowed:
                _refused_cleanly(store, action, world, world.actors[role])
        forged = Actor(id=world.ids["other"], role="admin", hub_code=HUB)
        if "other" not in action.allowed:
            _refused_cleanly(store, action, world, forged)
        allowed = sorted(action.allowed)[0]
        action.check(store, world, action.run(store, world, world.actors[allowed]))
        _set_phase(store, world, "proposals_open")


# ---------------------------------------------------------------- read-models the budget pages use (no actor)


def test_budget_read_models_leave_hidden_proposals_out(cell_store):
    """Titles for the assemblies page and the results table never show a hidden proposal's title."""
    from planning.budget_views import districts_of_hub, proposal_titles, result_rows

    store, world = cell_store
    ids = world.ids
    assert proposal_titles(store, [ids["P"], ids["H"]]) == {ids["P"]: "벤치 설치"}
    # a proposal allocated, then hidden by a moderator: its result row stays, without its title
    with store.transaction() as tx:
        tx.results.put(ids["cycle"], ids["H"], district_code=HAENGSIN1, selected=True, rank=1, votes=0, cost_krw=1,
                       code="selected", reason_ko="선정", reason_en="selected")
    rows = result_rows(store, ids["cycle"])
    assert [(r["proposal_id"], r["title"]) for r in rows] == [(ids["H"], "")]
    # the districts a hub's staff may record assemblies for follow the catchments
    assert HAENGSIN1 in districts_of_hub(store, HUB)
    set_catchment(store, world.actors["admin"], OTHER_HUB, [HAENGSIN1])
    assert HAENGSIN1 not in districts_of_hub(store, HUB) and HAENGSIN1 in districts_of_hub(store, OTHER_HUB)
