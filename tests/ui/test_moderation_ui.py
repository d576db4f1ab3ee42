"""The card's report (flag) button, moderation on the card, merged and rejected proposals, and notifications on "my proposals"."""
from __future__ import annotations

import pytest

from planning.auth import actor_for
from planning.moderation import hide
from planning.proposals import add_comment, submit_proposal
from planning.workflow import merge, transition

LON, LAT = 126.833004, 37.622148  # 행신1동


def square(i: int) -> dict:
    x = LON + 0.001 * i
    return {"type": "Polygon", "coordinates": [[[x, LAT], [x + 0.0005, LAT], [x + 0.0005, LAT + 0.0005], [x, LAT + 0.0005], [x, LAT]]]}


def text_of(at) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.subheader] + [e.value for e in at.caption]
    parts += [e.value for e in at.info] + [e.value for e in at.warning] + [e.value for e in at.success] + [e.value for e in at.error]
    return "\n".join(str(p) for p in parts).replace("\\", "")


@pytest.fixture
def people(app_store):
    with app_store.transaction() as tx:
        ids = {name: tx.residents.by_username(f"demo-{name}").id for name in ("resident", "r001", "r002", "planner", "admin")}
    return {name: actor_for(app_store, rid) for name, rid in ids.items()}


@pytest.fixture
def proposal(app_store, people):
    """A proposal of demo-resident with a comment of demo-r002."""
    pid = submit_proposal(app_store, people["resident"], square(1), "그늘막 설치", "놀이터에 그늘막을", "environment", "area", 3_000_000)
    cid = add_comment(app_store, people["r002"], pid, "좋은 생각입니다")
    return pid, cid


def open_card(make_app, fake_map, user, pid, lang="ko"):
    fake_map.result = {"last_object_clicked_tooltip": f"#{pid} x", "bounds": None}
    at = make_app(user, lang=lang).run()
    assert not at.exception, at.exception
    return at


def test_a_resident_reports_a_proposal_and_a_comment(make_app, fake_map, app_store, proposal):
    pid, cid = proposal
    at = open_card(make_app, fake_map, "demo-r001", pid)
    assert f"#{pid}" in "\n".join(s.value for s in at.subheader)
    at.selectbox(key=f"flag_proposal_{pid}_why").set_value("spam")
    at.text_input(key=f"flag_proposal_{pid}_detail").input("같은 글이 여러 번")
    at.button(key=f"flag_proposal_{pid}_send").click().run()
    assert not at.exception, at.exception
    assert "신고가 접수되었습니다" in text_of(at) and "신고하셨습니다" in text_of(at)
    assert f"flag_proposal_{pid}_send" not in [b.key for b in at.button]  # once is enough
    at.selectbox(key=f"flag_comment_{cid}_why").set_value("privacy")
    at.button(key=f"flag_comment_{cid}_send").click().run()
    assert not at.exception, at.exception
    assert f"flag_comment_{cid}_send" not in [b.key for b in at.button]
    with app_store.transaction() as tx:
        [pf] = tx.flags.open_for(proposal_id=pid)
        [cf] = tx.flags.open_for(comment_id=cid)
        r001 = tx.residents.by_username("demo-r001").id
    assert (pf.resident_id, pf.reason) == (r001, "광고·도배: 같은 글이 여러 번")
    assert (cf.resident_id, cf.reason) == (r001, "개인정보 노출")


def test_no_report_button_for_visitors_or_for_ones_own_items(make_app, fake_map, proposal):
    pid, cid = proposal
    anonymous = open_card(make_app, fake_map, None, pid)
    assert not [b.key for b in anonymous.button if str(b.key).startswith("flag_")]
    author = open_card(make_app, fake_map, "demo-resident", pid)
    keys = [b.key for b in author.button]
    assert f"flag_proposal_{pid}_send" not in keys and f"flag_comment_{cid}_send" in keys
    commenter = open_card(make_app, fake_map, "demo-r002", pid)
    keys = [b.key for b in commenter.button]
    assert f"flag_proposal_{pid}_send" in keys and f"flag_comment_{cid}_send" not in keys


def test_the_report_form_speaks_english(make_app, fake_map, proposal):
    pid, _ = proposal
    at = open_card(make_app, fake_map, "demo-r001", pid, lang="en")
    assert at.button(key=f"flag_proposal_{pid}_send").label == "Send the report"
    assert "Spam or advertising" in at.selectbox(key=f"flag_proposal_{pid}_why").options


def test_planners_see_hidden_items_marked_and_moderate_from_the_card(make_app, fake_map, app_store, people, proposal):
    pid, cid = proposal
    from planning.moderation import flag

    flag(app_store, people["r001"], "comment", cid, "욕설")
    at = open_card(make_app, fake_map, "demo-planner", pid)
    assert "처리할 신고 1건" in text_of(at)
    at.text_input(key=f"mod_comment_{cid}_reason").input("비방 표현")
    at.button(key=f"hide_comment_{cid}").click().run()
    assert not at.exception, at.exception
    assert "운영자가 숨긴 댓글입니다. 사유: 비방 표현" in text_of(at)
    with app_store.transaction() as tx:
        c = tx.comments.get(cid)
        assert (c.hidden, c.hidden_reason) == (True, "비방 표현") and tx.flags.open_all() == []
    # The whole proposal, hidden: planners see it marked, other residents do not see it at all.
    hide(app_store, people["admin"], "proposal", pid, "중복 게시")
    at = open_card(make_app, fake_map, "demo-planner", pid)
    assert "운영자가 숨긴 제안입니다. 사유: 중복 게시" in text_of(at)
    assert f"unhide_proposal_{pid}" in [b.key for b in at.button]
    other = open_card(make_app, fake_map, "demo-r001", pid)
    assert "찾을 수 없습니다" in text_of(other) and "중복 게시" not in text_of(other)
    author = open_card(make_app, fake_map, "demo-resident", pid)
    assert "운영자가 숨긴 제안입니다. 사유: 중복 게시" in text_of(author)
    assert f"hide_proposal_{pid}" not in [b.key for b in author.button] and f"unhide_proposal_{pid}" not in [b.key for b in author.button]


def test_a_merged_card_links_to_the_survivor_and_a_rejected_one_says_why(make_app, fake_map, app_store, people, proposal):
    pid, _ = proposal
    survivor = submit_proposal(app_store, people["r001"], square(2), "큰 그늘막", "놀이터 전체에", "environment", "area", 5_000_000)
    merge(app_store, people["planner"], pid, survivor, "같은 놀이터")
    at = open_card(make_app, fake_map, "demo-r002", pid)
    assert f"제안 #{survivor}에 병합되었습니다" in text_of(at)
    assert f"support_{pid}" not in [b.key for b in at.button]
    at.button(key=f"open_merged_{pid}").click().run()
    assert not at.exception, at.exception
    assert at.session_state["selected_proposal"] == survivor
    assert f"#{survivor}" in "\n".join(s.value for s in at.subheader)
    assert "좋은 생각입니다" in text_of(at)  # the comment moved with the merge
    transition(app_store, people["planner"], survivor, "rejected", "예산 범위 초과")
    at = open_card(make_app, fake_map, "demo-r002", survivor)
    assert "미채택 사유: 예산 범위 초과" in text_of(at)


def test_my_proposals_shows_notifications_unread_first_and_each_status_with_its_reason(make_app, app_store, people, proposal):
    pid, _ = proposal
    second = submit_proposal(app_store, people["resident"], square(3), "벤치", "정류장 옆", "welfare", "individual", None)
    third = submit_proposal(app_store, people["resident"], square(4), "가로등", "어두워요", "urban", "area", None)
    transition(app_store, people["planner"], pid, "rejected", "사유가 부족합니다")
    transition(app_store, people["planner"], second, "under_review", "검토 시작")
    hide(app_store, people["planner"], "proposal", third, "개인정보 포함")
    at = make_app("demo-resident").run()
    at.switch_page("ui/mine_page.py").run()
    assert not at.exception, at.exception
    body = text_of(at)
    assert "읽지 않은 알림 3건" in "\n".join(s.value for s in at.subheader)
    bells = [m.value for m in at.markdown if m.value.startswith("🔔")]
    assert len(bells) == 3 and "숨겼습니다" in bells[0] and "미채택" in bells[2]  # newest first
    assert "사유: 사유가 부족합니다" in bells[2].replace("\\", "")
    assert "미채택 사유: 사유가 부족합니다" in body
    assert "운영자가 숨긴 제안입니다. 사유: 개인정보 포함" in body
    with app_store.transaction() as tx:
        oldest = tx.notifications.list_for(people["resident"].id)[-1]
    at.button(key=f"note_read_{oldest.id}").click().run()
    assert not at.exception, at.exception
    assert "읽지 않은 알림 2건" in "\n".join(s.value for s in at.subheader)
    assert f"note_read_{oldest.id}" not in [b.key for b in at.button]
    at.button(key="notes_read_all").click().run()
    assert not at.exception, at.exception
    assert not [m for m in at.markdown if m.value.startswith("🔔")] and "notes_read_all" not in [b.key for b in at.button]
    with app_store.transaction() as tx:
        assert tx.notifications.unread_count(people["resident"].id) == 0


def test_notifications_in_english(make_app, app_store, people, proposal):
    pid, _ = proposal
    transition(app_store, people["planner"], pid, "under_review", "")
    at = make_app("demo-resident", lang="en").run()
    at.switch_page("ui/mine_page.py").run()
    assert not at.exception, at.exception
    assert any(m.value.startswith("🔔") and "is now 'under review'" in m.value for m in at.markdown)
    assert at.button(key="notes_read_all").label == "Mark all as read"
