import pytest

from planning.centres import initial_centres, initial_hub_codes
from planning.demo import DEMO_PREFIX, demo_accounts, seed_demo
from planning.geography import centres_frame, districts_frame, gazetteer, install_reference_data


def test_initial_centres():
    c = initial_centres()
    assert len(c) == 44 and c["is_hub"].sum() == len(initial_hub_codes()) == 11
    assert c.crs.to_epsg() == 4326


def test_install_is_idempotent_and_keeps_hub_changes(store):
    assert install_reference_data(store) == {"districts": 44, "centres": 44}
    with store.transaction() as tx:
        tx.centres.set_hub("4128156000", True)
    assert install_reference_data(store) == {"districts": 0, "centres": 0}
    assert "4128156000" in set(centres_frame(store, hubs_only=True)["code"])
    d = districts_frame(store)
    assert len(d) == 44 and d["approximate"].all() and d.crs.to_epsg() == 4326


def test_gazetteer_follows_hub_designation(store):
    install_reference_data(store)
    g1 = gazetteer(store)
    assert gazetteer(store) is g1  # cached while nothing changed
    with store.transaction() as tx:
        tx.centres.set_hub("4128156000", True)
    g2 = gazetteer(store)
    assert g2 is not g1 and "4128156000" in set(g2.hubs.codes)


def test_seed_demo(store):
    s = seed_demo(store, n_proposals=60, n_residents=10)
    assert s.proposals == 60 and not s.skipped
    assert seed_demo(store, n_proposals=60).skipped  # idempotent
    with store.transaction() as tx:
        ps = tx.proposals.list()
        assert len(ps) == 60 and all(p.is_demo and p.title.startswith(DEMO_PREFIX) for p in ps)
        kinds = {p.geometry.geom_type for p in ps}
        assert kinds == {"Point", "LineString", "Polygon"}
        assert all(p.district_code and p.hub_code and p.legal_dong_code for p in ps)
        roles = {tx.residents.by_username(a["username"]).role for a in demo_accounts()}
        assert roles == {"admin", "planner", "centre_staff", "resident"}
        assert sum(tx.supports.counts().values()) == s.supports
    again = seed_demo(store, n_proposals=20, reset=True)
    assert again.proposals == 20
    with store.transaction() as tx:
        assert tx.proposals.count() == 20


def test_import_official_boundaries_replaces_approximate_cells(store, tmp_path):
    import json

    from shapely.geometry import mapping

    from geo.boundaries import approximate_districts
    from geo.crs import to_metric
    from planning.cli import main
    from planning.geography import import_official_boundaries

    install_reference_data(store)
    cells = approximate_districts()
    # an "official" file in the admdongkor layout, for all but 행신1동; 주교동 shrunk so we can see the change
    feats = []
    for r in cells.itertuples():
        if r.adm_code == "4128164000":
            continue
        geom = r.geometry.buffer(-0.001) if r.adm_code == "4128151000" else r.geometry
        feats.append(
            {
                "type": "Feature",
                "properties": {"adm_nm": f"경기도 고양시{r.gu} {r.name}", "adm_cd2": r.adm_code},
                "geometry": mapping(geom),
            }
        )
    path = tmp_path / "hangjeongdong.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False), encoding="utf-8")
    result = import_official_boundaries(store, path)
    assert list(result.missing) == ["4128164000"]
    d = districts_frame(store).set_index("adm_code")
    assert not d.at["4128151000", "approximate"] and d.at["4128164000", "approximate"]
    assert d.at["4128151000", "source"] == "official: hangjeongdong.geojson"
    shrunk = cells.set_index("adm_code").at["4128151000", "geometry"].buffer(-0.001)
    assert d.at["4128151000", "geometry"].symmetric_difference(shrunk).area < 1e-12
    # the gazetteer picks up the new polygons
    gz = gazetteer(store)
    idx = list(gz.districts.codes).index("4128151000")
    assert abs(gz.districts.geoms_m[idx].area - to_metric(shrunk).area) < 1.0
    # and the CLI prints the report
    import io

    out = io.StringIO()
    assert main(["--database-url", str(store.url.render_as_string(hide_password=False)), "--lang", "en", "import-boundaries", str(path)], out=out) == 0
    assert "Imported 43 of 44" in out.getvalue()


def test_only_admins_set_hubs(store):
    from planning.accounts import register
    from planning.auth import actor_for
    from planning.errors import NotAllowed
    from planning.geography import set_hub

    install_reference_data(store)
    resident = actor_for(store, register(store, "someone", "long enough pw", "주민", "4128164000"))
    admin = actor_for(store, register(store, "boss", "long enough pw", "관리자", None, role="admin"))
    with pytest.raises(NotAllowed):
        set_hub(store, resident, "4128156000", True)
    assert "4128156000" not in set(centres_frame(store, hubs_only=True)["code"])
    set_hub(store, admin, "4128156000", True)
    assert "4128156000" in set(centres_frame(store, hubs_only=True)["code"])


def test_demo_budget_cycle_with_published_quotas(store):
    from planning.budget import current_cycle, published_quota_status
    from planning.demo import seed_demo_budget

    seed_demo(store, n_proposals=5, n_residents=2)
    cid = seed_demo_budget(store)
    assert cid is not None and seed_demo_budget(store) is None  # once
    cycle = current_cycle(store)
    assert cycle.fiscal_year == 2026 and cycle.phase == "proposals_open" and cycle.quotas_published_at is not None
    with store.transaction() as tx:
        total = sum(q.amount_krw for q in tx.quotas.list(cid))
    assert total == 3_000_000_000
    assert published_quota_status(store, "4128164000").quota_krw > 20_000_000


def test_gazetteer_is_built_once_when_many_ask_at_a_cold_start(store, monkeypatch):
    import threading

    import planning.geography as geography

    install_reference_data(store)
    geography._cache.pop(store.url, None)
    builds = []
    real = geography.build_gazetteer

    def counting(*args, **kwargs):
        builds.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(geography, "build_gazetteer", counting)
    got, start = [], threading.Barrier(6)

    def ask():
        start.wait()
        got.append(gazetteer(store))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and len(got) == 6 and all(g is got[0] for g in got)
