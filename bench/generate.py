"""Generated proposals for the benchmarks: the demo generator's shapes, vectorised.

``planning.demo`` draws proposals one by one (a Python loop per geometry and a
validation call each), which is fine for 300 demo proposals and far too slow
for a million. This module draws the same kinds of shapes with numpy arrays
and shapely's array constructors:

* the budget district of each proposal is drawn in proportion to the dong's
  2022 voters (as in ``planning.demo.seed_demo``);
* a centre point uniformly inside that district's cell (rejection sampling
  within the cell's bounding box, a whole batch at a time);
* 50 % points, 25 % lines (2-4 vertices, a random walk with steps of 80-300 m)
  and 25 % polygons (4-7 vertices on a star around the centre, radius
  40-250 m), in EPSG:5179 metres, then projected to EPSG:4326;
* lines and polygons that leave Goyang by more than the validation tolerance
  (50 m) are drawn again, as ``geo.validation`` would refuse them, and so are
  self-intersecting polygons (the demo skips shapes validation would repair).

Everything is seeded: the same ``n`` and ``seed`` give the same proposals.
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.boundaries import approximate_districts, city_outline_metric
from geo.crs import STORAGE_CRS, to_metric, to_storage
from planning.categories import category_codes
from planning.demo import DEMO_PREFIX, TITLES

CITY_TOLERANCE_M = 50.0  # geo.validation accepts geometries this far outside the city
SHAPE_MIX = (0.5, 0.25, 0.25)  # points, lines, polygons
POINT, LINE, POLYGON = 0, 1, 2
STATUS_MIX = {"submitted": 0.7, "under_review": 0.12, "field_verified": 0.06, "shortlisted": 0.05, "adopted": 0.03, "rejected": 0.04}


@dataclass(frozen=True)
class GeneratedProposals:
    """Generated geometries (EPSG:4326) with their shape kind and the district they were drawn in."""

    geoms: np.ndarray  # shapely geometries, lon/lat
    kinds: np.ndarray  # POINT, LINE or POLYGON per geometry
    district_codes: np.ndarray  # the cell each centre point was drawn in


def _centres_in_cells(rng: np.random.Generator, cells_m: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points inside ``cells_m[which[i]]`` for every i (EPSG:5179 x, y arrays)."""
    x = np.empty(len(which))
    y = np.empty(len(which))
    for d in np.unique(which):
        idx = np.flatnonzero(which == d)
        cell = cells_m[d]
        minx, miny, maxx, maxy = cell.bounds
        fill = 0.0 if cell.area == 0 else cell.area / ((maxx - minx) * (maxy - miny))
        got_x: list[np.ndarray] = []
        got_y: list[np.ndarray] = []
        need = len(idx)
        while need > 0:
            k = int(need / max(fill, 0.05) * 1.2) + 16
            cx, cy = rng.uniform(minx, maxx, k), rng.uniform(miny, maxy, k)
            inside = shapely.contains_xy(cell, cx, cy)
            cx, cy = cx[inside][:need], cy[inside][:need]
            got_x.append(cx)
            got_y.append(cy)
            need -= len(cx)
        x[idx] = np.concatenate(got_x)
        y[idx] = np.concatenate(got_y)
    return x, y


def _lines(rng: np.random.Generator, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Random-walk lines of 2-4 vertices starting at (x, y), steps drawn with a per-line scale of 80-300 m."""
    n = len(x)
    k = rng.integers(2, 5, n)  # vertices per line
    sigma = rng.uniform(80, 300, n)
    starts = np.concatenate([[0], np.cumsum(k)[:-1]])
    owner = np.repeat(np.arange(n), k)
    first = np.zeros(k.sum(), dtype=bool)
    first[starts] = True
    steps = rng.normal(0.0, 1.0, (k.sum(), 2)) * sigma[owner, None]
    steps[first] = 0.0
    # cumulative sum within each line: global cumsum minus the sum before the line's start
    cum = np.cumsum(steps, axis=0)
    offset = np.repeat(cum[starts] - steps[starts], k, axis=0)
    coords = np.column_stack([x[owner], y[owner]]) + (cum - offset)
    return shapely.linestrings(coords, indices=owner)


def _polygons(rng: np.random.Generator, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Star-shaped polygons of 4-7 vertices around (x, y), radius 40-250 m (angles sorted: always simple)."""
    n = len(x)
    k = rng.integers(4, 8, n)
    r = rng.uniform(40, 250, n)
    owner = np.repeat(np.arange(n), k)
    ang = rng.uniform(0, 2 * np.pi, k.sum())
    ang = ang[np.lexsort((ang, owner))]  # sorted within each polygon
    rad = r[owner] * rng.uniform(0.6, 1.0, k.sum())
    coords = np.column_stack([x[owner] + rad * np.cos(ang), y[owner] + rad * np.sin(ang)])
    rings = shapely.linearrings(coords, indices=owner)  # closed by shapely
    return shapely.polygons(rings)


def generate_geometries(n: int, seed: int = 2026) -> GeneratedProposals:
    """``n`` proposal geometries spread over Goyang like the demo data (see the module docstring).

    Parameters
    ----------
    n : int
        How many geometries.
    seed : int
        Seed of the random generator.

    Returns
    -------
    GeneratedProposals
        Geometries in EPSG:4326 (lon/lat), in random order of kind.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    rng = np.random.default_rng(seed)
    districts = approximate_districts().sort_values("adm_code").reset_index(drop=True)
    cells_m = np.asarray(to_metric(districts.geometry.values), dtype=object)
    weights = districts["voters"].to_numpy(float)
    weights /= weights.sum()
    city_ok = city_outline_metric().buffer(CITY_TOLERANCE_M)
    shapely.prepare(city_ok)

    which = rng.choice(len(districts), size=n, p=weights)
    kinds = rng.choice(3, size=n, p=SHAPE_MIX)
    geoms_m = np.empty(n, dtype=object)
    todo = np.arange(n)
    for _ in range(50):  # redraw shapes that leave the city; a handful of rounds suffice
        if not len(todo):
            break
        x, y = _centres_in_cells(rng, cells_m, which[todo])
        kind = kinds[todo]
        out = np.empty(len(todo), dtype=object)
        sel = kind == POINT
        out[sel] = shapely.points(x[sel], y[sel])
        sel = kind == LINE
        if sel.any():
            out[sel] = _lines(rng, x[sel], y[sel])
        sel = kind == POLYGON
        if sel.any():
            out[sel] = _polygons(rng, x[sel], y[sel])
        # the prepared city first (GEOS uses its index); self-intersecting stars are redrawn,
        # as the demo skips shapes that validation would repair
        ok = shapely.contains(city_ok, out) & shapely.is_valid(out)
        geoms_m[todo[ok]] = out[ok]
        todo = todo[~ok]
    if len(todo):
        raise RuntimeError(f"could not place {len(todo)} generated shapes inside Goyang")
    geoms = np.asarray(to_storage(geoms_m), dtype=object) if n else np.empty(0, dtype=object)
    return GeneratedProposals(geoms=geoms, kinds=kinds, district_codes=districts["adm_code"].to_numpy()[which])


def proposals_frame(n: int, seed: int = 2026) -> gpd.GeoDataFrame:
    """A map frame (the columns of ``planning.proposals.map_frame``) of ``n`` generated proposals.

    Titles, categories, statuses and counts are drawn like demo data; ``id``
    runs from 1; ``hub_code`` is left empty (the map does not draw it).
    """
    gen = generate_geometries(n, seed)
    rng = np.random.default_rng(seed + 1)
    cats = np.asarray(category_codes(), dtype=object)
    cat = cats[rng.integers(0, len(cats), n)] if n else np.empty(0, dtype=object)
    title_pick = rng.integers(0, 1000, n)
    titles = np.array([DEMO_PREFIX + TITLES[c][i % len(TITLES[c])] for c, i in zip(cat, title_pick)], dtype=object)
    statuses = np.asarray(list(STATUS_MIX), dtype=object)
    p = np.asarray(list(STATUS_MIX.values()))
    status = rng.choice(statuses, size=n, p=p / p.sum())
    frame = pd.DataFrame(
        {
            "id": pd.array(np.arange(1, n + 1), dtype="int64"),
            "title": pd.array(titles, dtype=object),
            "category": pd.array(cat, dtype=object),
            "status": pd.array(status, dtype=object),
            "kind": pd.array(np.where(rng.random(n) < 0.3, "area", "individual"), dtype=object),
            "cost_krw": pd.array(rng.integers(5, 300, n) * 1_000_000, dtype="Int64"),
            "is_demo": pd.array(np.ones(n, dtype=bool), dtype=bool),
            "district_code": pd.array(gen.district_codes, dtype=object),
            "hub_code": pd.array([None] * n, dtype=object),
            "supports": pd.array(rng.integers(0, 15, n), dtype="int64"),
            "comments": pd.array(rng.integers(0, 4, n), dtype="int64"),
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(gen.geoms, crs=STORAGE_CRS), crs=STORAGE_CRS)
