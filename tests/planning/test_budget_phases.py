"""The current budget cycle's phase decides what residents can do with proposals."""
import pytest

from planning.accounts import register
from planning.auth import actor_for
from planning.budget import advance_phase, create_cycle, current_cycle, publish_quotas, set_quotas_by_rule
from planning.errors import NotAllowed
from planning.geography import install_reference_data
from planning.proposals import add_comment, edit_proposal, submit_proposal, support_proposal, withdraw_proposal, withdraw_support

LON, LAT = 126.833004, 37.622148
POINT = {"type": "Point", "coordinates": [LON, LAT]}


@pytest.fixture
def people(store):
    install_reference_data(store)
    admin = actor_for(store, register(store, "boss", "long enough pw", "관리자", None, role="admin"))
    minji = actor_for(store, register(store, "minji", "long enough pw", "민지", "4128164000"))
    junho = actor_for(store, register(store, "junho", "long enough pw", "준호", "4128164000"))
    return admin, minji, junho


def test_without_a_cycle_everything_is_open(store, people):
    _, minji, junho = people
    assert current_cycle(store) is None
    pid = submit_proposal(store, minji, POINT, "벤치", "필요해요", "welfare")
    assert support_proposal(store, junho, pid) == 1


def test_phases_open_and_close_actions(store, people):
    admin, minji, junho = people
    cid = create_cycle(store, admin, 2027)
    assert current_cycle(store).id == cid
    pid = submit_proposal(store, minji, POINT, "벤치", "필요해요", "welfare")  # proposals_open
    other = submit_proposal(store, minji, POINT, "가로등", "어두워요", "urban")
    assert advance_phase(store, admin, cid) == "review"
    with pytest.raises(NotAllowed) as e:
        submit_proposal(store, minji, POINT, "늦은 제안", "내용", "welfare")
    assert e.value.code == "phase_closed"
    assert "2027" in e.value.message("ko") and "제안 접수" in e.value.message("ko")
    assert "proposals open" in e.value.message("en")
    with pytest.raises(NotAllowed):
        edit_proposal(store, minji, pid, title="바뀐 제목")
    assert support_proposal(store, junho, pid) == 1  # supports stay open until voting
    withdraw_proposal(store, minji, other)  # and withdrawing
    set_quotas_by_rule(store, admin, cid, 1_000_000_000, 10_000_000, 0.5)
    publish_quotas(store, admin, cid)
    assert advance_phase(store, admin, cid) == "assemblies"
    assert advance_phase(store, admin, cid) == "voting"
    with pytest.raises(NotAllowed) as e:
        support_proposal(store, minji, pid)
    assert e.value.code == "phase_closed" and "주민 투표" in e.value.message("ko")
    with pytest.raises(NotAllowed):
        withdraw_support(store, junho, pid)
    assert add_comment(store, junho, pid, "투표 중에도 댓글은 됩니다") > 0
    with store.transaction() as tx:
        assert tx.supports.count_for(pid) == 1 and tx.proposals.count() == 2


def test_published_quota_status_for_the_drawing_panel(store, people):
    from planning.budget import published_quota_status

    admin, _, _ = people
    assert published_quota_status(store, "4128164000") is None  # no cycle
    cid = create_cycle(store, admin, 2027)
    table = set_quotas_by_rule(store, admin, cid, 1_000_000_000, 10_000_000, 0.5)
    assert published_quota_status(store, "4128164000") is None  # not published yet
    publish_quotas(store, admin, cid)
    status = published_quota_status(store, "4128164000")
    assert status.quota_krw == table["4128164000"] and status.committed_krw == 0 and status.left_krw == status.quota_krw
