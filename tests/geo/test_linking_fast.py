"""The fast linker (grid shortcuts, numpy measures, threads) against a plain reference implementation.

The oracle below is the linker as it was before the fast path: every geometry
projected with ``to_metric``, hubs by ``STRtree.query_nearest``, overlaps by a
GEOS intersection per touched polygon. The fast path must give the same codes,
distances (1e-6 m; in practice bit for bit) and rounded shares.
"""
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import geo.linking as linking
from bench.generate import generate_geometries
from geo import boundaries as b
from geo.crs import to_metric, to_storage
from geo.interior import build_interior_grid
from geo.linking import PolygonLayer, build_gazetteer, largest_overlap, link_geometries
from geo.overlap import LayerEdges, measure_overlaps

# ---------------------------------------------------------------- the oracle


def oracle_nearest(geoms_m, layer):
    (gi, pi), dist = layer.tree.query_nearest(geoms_m, return_distance=True, all_matches=True)
    order = np.lexsort((pi, dist, gi))
    gi, pi, dist = gi[order], pi[order], dist[order]
    first = np.ones(len(gi), dtype=bool)
    first[1:] = gi[1:] != gi[:-1]
    idx = np.full(len(geoms_m), -1, dtype=np.int64)
    out = np.full(len(geoms_m), np.nan)
    idx[gi[first]] = pi[first]
    out[gi[first]] = dist[first]
    return idx, out


def oracle_measures(geoms_m, polys_m):
    dims = shapely.get_dimensions(geoms_m)
    measure = np.zeros(len(geoms_m))
    inside = shapely.contains(polys_m, geoms_m)
    single = shapely.get_type_id(geoms_m) == 0
    measure[single] = shapely.intersects(polys_m[single], geoms_m[single]).astype(float)
    pts = (dims == 0) & ~single
    if pts.any():
        sub = shapely.intersection(geoms_m[pts], polys_m[pts])
        counts = shapely.get_num_geometries(sub).astype(float)
        counts[shapely.is_empty(sub)] = 0.0
        measure[pts] = counts
    for dim, fn in ((1, shapely.length), (2, shapely.area)):
        sel = dims == dim
        whole = sel & inside
        measure[whole] = fn(geoms_m[whole])
        part = sel & ~inside
        if part.any():
            measure[part] = fn(shapely.intersection(geoms_m[part], polys_m[part]))
    return measure


def oracle_overlap(geoms_m, layer):
    n = len(geoms_m)
    gi, pi = layer.tree.query(geoms_m, predicate="intersects")
    measure = oracle_measures(geoms_m[gi], layer.geoms_m[pi])
    keep = measure > 0
    gi, pi, measure = gi[keep], pi[keep], measure[keep]
    has = np.zeros(n, dtype=bool)
    has[gi] = True
    orphans = np.flatnonzero(~has)
    if len(orphans):
        (oi, opi), odist = layer.tree.query_nearest(geoms_m[orphans], return_distance=True, all_matches=True)
        order = np.lexsort((opi, odist, oi))
        oi, opi = oi[order], opi[order]
        first = np.ones(len(oi), dtype=bool)
        first[1:] = oi[1:] != oi[:-1]
        gi = np.concatenate([gi, orphans[oi[first]]])
        pi = np.concatenate([pi, opi[first]])
        measure = np.concatenate([measure, np.ones(first.sum())])
    totals = np.bincount(gi, weights=measure, minlength=n)
    share = measure / totals[gi]
    order = np.lexsort((pi, -measure, gi))
    gi, pi, share = gi[order], pi[order], share[order]
    first = np.ones(len(gi), dtype=bool)
    first[1:] = gi[1:] != gi[:-1]
    primary = np.full(n, -1, dtype=np.int64)
    primary[gi[first]] = pi[first]
    return primary, gi, pi, share


def oracle_link(geoms, gz):
    geoms = np.asarray(geoms, dtype=object)
    geoms_m = np.asarray(to_metric(geoms), dtype=object)
    hub_idx, hub_dist = oracle_nearest(geoms_m, gz.hubs)
    dp, dg, dpi, ds = oracle_overlap(geoms_m, gz.districts)
    lp, *_ = oracle_overlap(geoms_m, gz.legal_dongs)
    shares = [{} for _ in range(len(geoms))]
    for g, p, s in zip(dg.tolist(), dpi.tolist(), ds.tolist()):
        shares[g][str(gz.districts.codes[p])] = round(float(s), 6)
    return pd.DataFrame(
        {
            "hub_code": gz.hubs.codes[hub_idx],
            "hub_name": gz.hubs.names[hub_idx],
            "hub_distance_m": hub_dist,
            "district_code": gz.districts.codes[dp],
            "district_name": gz.districts.names[dp],
            "legal_dong_code": gz.legal_dongs.codes[lp],
            "legal_dong_name": gz.legal_dongs.names[lp],
            "district_shares": shares,
        }
    )


def assert_same_links(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for col in ("hub_code", "hub_name", "district_code", "district_name", "legal_dong_code", "legal_dong_name"):
        bad = np.flatnonzero(got[col].to_numpy(dtype=object) != want[col].to_numpy(dtype=object))
        assert len(bad) == 0, (col, bad[:10].tolist())
    gd, wd = got["hub_distance_m"].to_numpy(), want["hub_distance_m"].to_numpy()
    assert np.array_equal(np.isnan(gd), np.isnan(wd))
    ok = ~np.isnan(wd)
    assert np.abs(gd[ok] - wd[ok]).max(initial=0.0) <= 1e-6
    if "district_shares" in want.columns:
        bad = [i for i, (x, y) in enumerate(zip(got["district_shares"], want["district_shares"])) if x != y]
        assert not bad, [(i, got["district_shares"][i], want["district_shares"][i]) for i in bad[:5]]


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def layers():
    ad = b.admin_dongs()
    hub_codes = set(pd.read_csv(b.ADMIN_DONGS_CSV.parent / "hubs.csv", dtype=str)["adm_code"])
    hubs = ad[ad["adm_code"].isin(hub_codes)].rename(columns={"adm_code": "code"})[["code", "name", "geometry"]]
    return hubs, b.approximate_districts(), b.legal_dongs()


@pytest.fixture(scope="module")
def gz(layers):
    return build_gazetteer(*layers)


@pytest.fixture(params=[False, True], ids=["one-thread", "threads"])
def threaded(request, monkeypatch):
    """Run each comparison on the single-chunk path and on the threaded one (small chunks)."""
    if request.param:
        monkeypatch.setattr(linking, "MIN_CHUNK", 500)
    else:
        monkeypatch.setattr(linking, "MIN_CHUNK", 10**9)
    return request.param


def compare(geoms, gz, with_shares=True):
    geoms = np.asarray(geoms, dtype=object)
    got = link_geometries(geoms, gz, with_shares=with_shares)
    want = oracle_link(geoms, gz)
    if not with_shares:
        want = want.drop(columns="district_shares")
    assert_same_links(got, want)
    return got


# ---------------------------------------------------------------- generated proposals


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_proposals_link_exactly_as_the_reference(gz, seed, threaded):
    gen = generate_geometries(20_000, seed=seed)
    compare(gen.geoms, gz)


def test_bulk_mode_without_shares_gives_the_same_codes(gz, threaded):
    gen = generate_geometries(20_000, seed=11)
    compare(gen.geoms, gz, with_shares=False)


def test_distances_are_bit_identical_to_geos(gz):
    gen = generate_geometries(5_000, seed=5)
    got = link_geometries(gen.geoms, gz, with_shares=False)
    want = oracle_link(gen.geoms, gz)
    assert np.array_equal(got["hub_distance_m"].to_numpy(), want["hub_distance_m"].to_numpy())


def test_most_generated_shapes_take_a_shortcut(gz, monkeypatch):
    """Guards the speed-up itself: few geometries may fall back to GEOS overlays."""
    calls = []
    real = linking.largest_overlap

    def counting(geoms_m, layer):
        calls.append(len(geoms_m))
        return real(geoms_m, layer)

    monkeypatch.setattr(linking, "largest_overlap", counting)
    monkeypatch.setattr(linking, "MIN_CHUNK", 10**9)
    gen = generate_geometries(10_000, seed=4)
    link_geometries(gen.geoms, gz, with_shares=False)
    assert sum(calls) < 0.1 * 2 * 10_000


# ---------------------------------------------------------------- adversarial cases


def _metric_to_input(geoms_m):
    return np.asarray(to_storage(np.asarray(geoms_m, dtype=object)), dtype=object)


def test_points_on_boundaries_and_vertices(gz, threaded):
    pts = []
    for layer in (gz.districts, gz.legal_dongs):
        coords = shapely.get_coordinates(shapely.boundary(layer.geoms_m))
        pts.append(coords)  # vertices, shared by two or three polygons
        pts.append((coords[:-1] + coords[1:]) / 2)  # on edges
    xy = np.concatenate(pts)
    geoms_m = shapely.points(xy)
    compare(_metric_to_input(geoms_m), gz)


def test_points_in_the_gaps_between_legal_dongs_and_just_outside_the_city(gz, threaded):
    city = b.city_outline_metric()
    legal_union = shapely.union_all(gz.legal_dongs.geoms_m)
    gaps = shapely.get_parts(shapely.difference(city, legal_union))
    rng = np.random.default_rng(3)
    pts = [shapely.point_on_surface(gaps)]
    pts.append(shapely.centroid(gaps))
    ring = city.exterior if city.geom_type == "Polygon" else max(city.geoms, key=lambda p: p.area).exterior
    for d in (0.001, 1.0, 20.0, 45.0):
        outside = shapely.get_coordinates(shapely.segmentize(ring.parallel_offset(d, "right"), 400))  # may be either side
        pts.append(shapely.points(outside))
        pts.append(shapely.points(shapely.get_coordinates(shapely.segmentize(ring.parallel_offset(d, "left"), 400))))
    pts.append(shapely.points(shapely.get_coordinates(ring)[rng.integers(0, len(ring.coords), 300)]))
    geoms_m = np.concatenate([np.asarray(p, dtype=object).ravel() for p in pts])
    assert len(gaps) > 0 and len(geoms_m) > 500
    compare(_metric_to_input(geoms_m), gz)


def test_shapes_along_across_and_around_boundaries(gz, threaded):
    rng = np.random.default_rng(9)
    shapes = []
    for layer in (gz.districts, gz.legal_dongs):
        for poly in layer.geoms_m:
            ring = shapely.get_coordinates(shapely.boundary(poly))
            k = rng.integers(0, len(ring) - 1, 6)
            a, c = ring[k], ring[k + 1]
            for p, q in zip(a, c):
                shapes.append(shapely.LineString([p, q]))  # along a boundary edge
                mid = (p + q) / 2
                normal = np.array([-(q - p)[1], (q - p)[0]])
                normal /= np.linalg.norm(normal) or 1
                shapes.append(shapely.LineString([mid - 30 * normal, mid + 30 * normal]))  # across it
                shapes.append(shapely.Polygon([p, q, mid + 50 * normal]))  # a triangle on the edge, one side
                shapes.append(shapely.Polygon([p, q, mid - 50 * normal]))  # and the other
                shapes.append(shapely.Point(mid).buffer(40, 3))  # straddling it
                shapes.append(shapely.LineString([p, p + 0.5 * normal, q]))  # touching at vertices
                shapes.append(shapely.box(*(p - 5), *(p + 5)))  # around a vertex
    # a polygon holding a whole small legal dong, and one around every hub
    smallest = int(np.argmin(shapely.area(gz.legal_dongs.geoms_m)))
    shapes.append(shapely.convex_hull(gz.legal_dongs.geoms_m[smallest]).buffer(30))
    shapes.extend(shapely.buffer(gz.hubs.geoms_m, 120, quad_segs=2))
    compare(_metric_to_input(np.asarray(shapes, dtype=object)), gz)


def test_multipart_and_holed_geometries(gz, threaded):
    gen = generate_geometries(600, seed=8)
    g = shapely.get_parts(gen.geoms)
    geoms_m = np.asarray(to_metric(g), dtype=object)
    tid = shapely.get_type_id(geoms_m)
    pts, lines, polys = geoms_m[tid == 0], geoms_m[tid == 1], geoms_m[tid == 3]
    multi = [shapely.MultiPoint(list(pts[i : i + 3])) for i in range(0, 60, 3)]
    multi += [shapely.MultiPoint([pts[0], pts[0]])]  # duplicate points
    multi += [shapely.MultiLineString(list(lines[i : i + 2])) for i in range(0, 40, 2)]
    multi += [shapely.MultiPolygon(list(polys[i : i + 2])) for i in range(0, 40, 2) if not polys[i].intersects(polys[i + 1])]
    holed = [p.buffer(0).difference(p.centroid.buffer(10)) for p in polys[:40] if p.area > 2000]
    coll = [shapely.GeometryCollection([pts[1], lines[1]])]
    compare(_metric_to_input(np.asarray(multi + holed + coll, dtype=object)), gz)


def test_hub_ties_go_to_the_smaller_code_through_the_whole_linker(layers, threaded):
    hubs, districts, legal = layers
    first = hubs.iloc[[0]]
    twins = gpd.GeoDataFrame(
        {"code": ["Z9", "A1", "M5"], "name": ["z", "a", "m"]},
        geometry=[first.geometry.iloc[0]] * 2 + [hubs.geometry.iloc[1]],
        crs=4326,
    )  # Z9 and A1 at the very same place: every distance to them ties exactly
    gz2 = build_gazetteer(twins, districts, legal)
    gen = generate_geometries(3_000, seed=21)
    got = compare(gen.geoms, gz2)
    assert "Z9" not in set(got["hub_code"]) and {"A1", "M5"} <= set(got["hub_code"])


def test_one_geometry_and_empty_input(gz):
    gen = generate_geometries(3, seed=2)
    for g in gen.geoms:
        compare(np.array([g], dtype=object), gz)
    out = link_geometries(np.array([], dtype=object), gz)
    assert len(out) == 0 and list(out.columns) == list(oracle_link(gen.geoms, gz).columns)


def test_empty_and_missing_geometries_link_as_before(gz):
    """Validation refuses them; the linker still answers exactly as the reference does (no crash)."""
    gen = generate_geometries(20, seed=3)
    for extra in (None, shapely.Point(), shapely.LineString(), shapely.Polygon()):
        compare(np.array(list(gen.geoms) + [extra], dtype=object), gz)


def test_a_list_input_works_like_an_array(gz):
    gen = generate_geometries(50, seed=6)
    got = link_geometries(list(gen.geoms), gz)
    assert_same_links(got, oracle_link(gen.geoms, gz))


# ---------------------------------------------------------------- the pieces, in metres


def _boxes_layer():
    boxes = np.array([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10), shapely.box(0, 10, 20, 20), shapely.box(30, 30, 31, 31)], dtype=object)
    shapely.prepare(boxes)
    layer = PolygonLayer(codes=np.array(["A", "B", "C", "D"]), names=np.array(["a", "b", "c", "d"]), geoms_m=boxes, tree=shapely.STRtree(boxes))
    return layer, LayerEdges.from_polygons(boxes), build_interior_grid(boxes, cell=1.0)


def _measure(shapes, layer, edges, grid):
    coords, owner = shapely.get_coordinates(shapes, return_index=True)
    count = np.bincount(owner, minlength=len(shapes))
    start = np.cumsum(count) - count
    is_poly = shapely.get_type_id(shapes) == 3
    return measure_overlaps(coords[:, 0], coords[:, 1], start, count, is_poly, layer.geoms_m, edges, grid)


def test_measured_overlaps_are_exact_or_declared_uncertain():
    layer, edges, grid = _boxes_layer()
    shapes = np.array(
        [
            shapely.LineString([(5, 5), (15, 5)]),  # exact tie A/B: must not be decided in numpy
            shapely.LineString([(5, 5), (16, 5)]),
            shapely.LineString([(10, 2), (10, 8)]),  # along the A/B edge
            shapely.LineString([(2, 2), (10, 10), (18, 18)]),  # through the corner of three boxes
            shapely.LineString([(1, 1), (9, 1), (9, 15), (25, 15)]),
            shapely.LineString([(29, 29), (32, 32)]),  # across the small box D and outside
            shapely.LineString([(25, 25), (26, 26)]),  # outside everything: orphan
            shapely.box(5, 2, 15, 8),  # tie in area
            shapely.box(4, 2, 15, 8),
            shapely.box(2, 2, 10, 8),  # shares an edge with B
            shapely.Polygon([(2, 2), (18, 3), (17, 17), (3, 16)]),
            shapely.Polygon([(29, 29), (33, 29), (33, 33), (29, 33)]),  # holds D entirely
            shapely.Polygon([(12, 12), (14, 12), (13, 14)]).reverse(),  # clockwise
            shapely.LineString([(10, 10), (10, 10.5)]),  # from a triple vertex
        ],
        dtype=object,
    )
    res = _measure(shapes, layer, edges, grid)
    exact = largest_overlap(shapes, layer)
    certain = np.flatnonzero(res.certain)
    assert len(certain) >= 6  # the plain cases are decided in numpy
    assert res.primary[certain].tolist() == exact.primary[certain].tolist()
    got = {(int(g), int(p)): s for g, p, s in zip(res.pair_geom, res.pair_poly, res.pair_share)}
    want = {(int(g), int(p)): s for g, p, s in zip(exact.pair_geom, exact.pair_poly, exact.pair_share) if res.certain[g]}
    assert got.keys() == want.keys()
    for k in got:
        assert got[k] == pytest.approx(want[k], abs=1e-9)
    # the degenerate ones must not be decided in numpy
    for i in (0, 2, 6, 7):
        assert not res.certain[i], i
    # the polygon holding D entirely (no boundary crossing) is measured from D's edges
    assert res.certain[11] and res.primary[11] == 3 and got[(11, 3)] == 1.0


def test_interior_grid_never_claims_a_boundary_point():
    layer, edges, grid = _boxes_layer()
    xs = np.array([10.0, 0.0, 10.0, 20.0, 5.0, 30.5, 10.0 + 1e-12])
    ys = np.array([5.0, 0.0, 10.0, 20.0, 10.0, 31.0, 5.0])
    assert (grid.lookup(xs, ys, 0.0) == -1).all()
    assert grid.lookup(np.array([5.0, 15.0, 10.0]), np.array([5.0, 5.0, 15.0]), 0.5).tolist() == [0, 1, 2]
    assert grid.lookup(np.array([5.0]), np.array([5.0]), 5.0).tolist() == [-1]  # the disc reaches the edge
