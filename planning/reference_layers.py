"""Raster layers the platform derives from its own reference data."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from geo.boundaries import city_outline
from geo.rasterize import rasterize_density
from layers.rasters import RasterLayer, RasterRegistry, write_geotiff
from planning.geography import districts_frame

if TYPE_CHECKING:
    from store import Store

VOTER_DENSITY_KEY = "voter-density"


def register_voter_density(store: "Store", registry: RasterRegistry, cell_m: float = 200.0) -> RasterLayer:
    """Register (or refresh) the adult-population density raster: 2022 voters per km² of each budget district.

    Each cell takes the density of the district it falls in, so the raster is
    only as fine as the district polygons (approximate cells until official
    boundaries are imported, which the title says).
    """
    d = districts_frame(store)
    arr, grid = rasterize_density(d.geometry.values, d["voters"].to_numpy(), cell_m=cell_m, clip=city_outline())
    approximate = bool(d["approximate"].any())
    suffix_ko, suffix_en = (" (근사 경계)", " (approximate boundaries)") if approximate else ("", "")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "voter_density.tif"
        write_geotiff(
            path,
            arr,
            grid.transform,
            crs_epsg=grid.epsg,
            nodata=np.nan,
            title="Eligible voters per km2 by administrative dong, 2022",
            units="voters/km2",
            source="National Election Commission 2022; district polygons from the store",
        )
        return registry.register(
            path,
            VOTER_DENSITY_KEY,
            "성인 인구 밀도 (2022 선거인수/km²)" + suffix_ko,
            "Adult population density (2022 voters/km²)" + suffix_en,
            units="명/km² · voters/km²",
            colormap="YlOrRd",
            classification="quantile",
            n_classes=5,
            opacity=0.55,
            replace=True,
        )
