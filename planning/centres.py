"""Community centres (one per administrative dong) and the hubs among them."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo.boundaries import admin_dongs
from geo.crs import STORAGE_CRS
from settings import DATA_DIR

HUBS_CSV = DATA_DIR / "hubs.csv"


def centre_name(dong: str) -> str:
    """The usual name of a dong's community centre, e.g. ``행신1동 행정복지센터``."""
    return f"{dong} 행정복지센터"


def initial_hub_codes() -> set[str]:
    """The hub designation shipped in ``data/hubs.csv`` (the state of a fresh install)."""
    return set(pd.read_csv(HUBS_CSV, dtype=str)["adm_code"])


def initial_centres() -> gpd.GeoDataFrame:
    """The 44 centres as first stored: ``code``, ``name``, ``district_code``, ``is_hub``, ``approximate_location``, Point geometry (EPSG:4326).

    Locations are the dongs' representative points, not the centres' addresses
    (see ``data/README.md``), hence ``approximate_location=True``.
    """
    ad = admin_dongs()
    hubs = initial_hub_codes()
    unknown = hubs - set(ad["adm_code"])
    if unknown:
        raise ValueError(f"data/hubs.csv names unknown administrative codes: {sorted(unknown)}")
    return gpd.GeoDataFrame(
        {
            "code": ad["adm_code"],
            "name": ad["name"].map(centre_name),
            "district_code": ad["adm_code"],
            "is_hub": ad["adm_code"].isin(hubs),
            "approximate_location": True,
        },
        geometry=ad.geometry.values,
        crs=STORAGE_CRS,
    )
