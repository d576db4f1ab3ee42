"""Classed choropleths: areas (dongs, hexagons) coloured by classes of a value, with a legend.

Classes come from :mod:`mapclassify` (Rey, Anselin et al., BSD-3): quantiles,
natural breaks (Fisher-Jenks, the optimal and deterministic form of Jenks'
breaks; above 300 values computed on 300 evenly spaced order statistics, which
keeps it deterministic and under a second) or equal intervals. Class ``0`` is ``[min, b0]`` and class ``i`` is
``(b[i-1], b[i]]``, mapclassify's convention; the legend says so and gives the
number of areas in each class. Areas without a value (NaN, e.g. no voters)
are grey and listed as "no value".

Names and values reach the map only through :func:`layers.escape.escape_map_text`.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import Refusal
from layers.escape import escape_map_text
from layers.legend import LegendEntry, OverlayLegend, legend_html
from layers.rasters import COLORMAPS

SCHEMES = ("quantiles", "natural_breaks", "equal_interval")
NO_VALUE_COLOUR = "#cccccc"
MAX_CLASSES = 9
_JENKS_MAX = 300  # Fisher-Jenks is O(k n^2) (pure Python without numba): more values are classed on 300 evenly spaced order statistics


class ChoroplethRefused(Refusal):
    """A choropleth setting that cannot be used (scheme, number of classes, column)."""


@dataclass(frozen=True)
class ChoroplethClass:
    """One class: ``[lower, upper]`` for the first, ``(lower, upper]`` after it; ``count`` areas; a colour."""

    lower: float
    upper: float
    count: int
    colour: str
    first: bool = False

    def contains(self, value: float) -> bool:
        """Whether ``value`` belongs to this class."""
        return (self.lower <= value if self.first else self.lower < value) and value <= self.upper

    def label(self, lang: str = "ko") -> str:
        """``"0 – 3 (12곳)"`` / ``"> 3 to 7 (5 areas)"``: the range and the number of areas."""
        lo, hi = format_number(self.lower), format_number(self.upper)
        if lang == "en":
            rng = hi if self.lower == self.upper else (f"{lo} – {hi}" if self.first else f"> {lo} to {hi}")
            return f"{rng} ({count_areas(self.count, 'en')})"
        rng = hi if self.lower == self.upper else (f"{lo} – {hi}" if self.first else f"{lo} 초과 {hi} 이하")
        return f"{rng} ({count_areas(self.count, 'ko')})"


def count_areas(n: int, lang: str = "ko") -> str:
    """``"12곳"`` / ``"12 areas"`` (``"1 area"``)."""
    if lang == "en":
        return f"{n:,} area" if n == 1 else f"{n:,} areas"
    return f"{n:,}곳"


@dataclass(frozen=True)
class Classification:
    """Classes of a set of values.

    Attributes
    ----------
    scheme : str
    classes : tuple of ChoroplethClass
        Low to high; empty when no value is finite.
    index : ndarray of int
        Class of each value, ``-1`` for a missing (NaN) value.
    missing : int
        Number of missing values.
    """

    scheme: str
    classes: tuple[ChoroplethClass, ...]
    index: np.ndarray
    missing: int

    def colour_of(self, i: int) -> str:
        """Colour of class ``i`` (grey for ``-1``)."""
        return NO_VALUE_COLOUR if i < 0 else self.classes[i].colour


def format_number(v: float) -> str:
    """A class edge or value as text: integers with separators, else up to three significant decimals."""
    v = float(v)
    if not math.isfinite(v):
        return "–"
    if v.is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 100:
        return f"{v:,.1f}".rstrip("0").rstrip(".")
    return f"{v:.3g}"


def _bins(values: np.ndarray, scheme: str, k: int) -> np.ndarray:
    import mapclassify

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "not enough unique values": handled by capping k below
        if scheme == "quantiles":
            bins = mapclassify.Quantiles(values, k=k).bins
        elif scheme == "equal_interval":
            bins = mapclassify.EqualInterval(values, k=k).bins
        else:
            sample = values
            if values.size > _JENKS_MAX:
                ordered = np.sort(values)
                sample = ordered[np.linspace(0, ordered.size - 1, _JENKS_MAX).round().astype(int)]
            bins = mapclassify.FisherJenks(sample, k=k).bins
    top = float(values.max())
    bins = np.unique(np.minimum(np.asarray(bins, dtype=np.float64), top))
    bins[-1] = top  # the last class always reaches the largest value
    return bins


def classify(values: Sequence[float] | np.ndarray, scheme: str = "quantiles", k: int = 5, colormap: str = "YlOrRd") -> Classification:
    """Classes of ``values`` by ``scheme``; robust to few distinct values, all-equal and missing values.

    Parameters
    ----------
    values : array-like of float
        NaN marks a missing value (not classed).
    scheme : {"quantiles", "natural_breaks", "equal_interval"}
    k : int
        Wanted number of classes, 1 .. 9; fewer when there are fewer
        distinct values (a single distinct value gives one class ``[v, v]``).
    colormap : str
        A sequential map of :data:`layers.rasters.COLORMAPS`.

    Raises
    ------
    ChoroplethRefused
        ``bad_scheme``, ``bad_k``.
    """
    if scheme not in SCHEMES:
        raise ChoroplethRefused(
            "bad_scheme",
            f"분류 방식 {scheme!r}는 없습니다. quantiles(분위수), natural_breaks(자연 구분), equal_interval(등간격) 중에서 고르세요.",
            f"Classification scheme {scheme!r} does not exist. Choose quantiles, natural_breaks or equal_interval.",
        )
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 1 <= int(k) <= MAX_CLASSES:
        raise ChoroplethRefused(
            "bad_k",
            f"등급 수 {k!r}는 쓸 수 없습니다. 1에서 {MAX_CLASSES} 사이의 정수를 고르세요.",
            f"The number of classes {k!r} cannot be used. Choose a whole number from 1 to {MAX_CLASSES}.",
        )
    v = np.asarray(values, dtype=np.float64).ravel()
    finite = np.isfinite(v)
    index = np.full(v.shape, -1, dtype=np.int64)
    missing = int((~finite).sum())
    if not finite.any():
        return Classification(scheme, (), index, missing)
    x = v[finite]
    distinct = np.unique(x)
    k_eff = min(int(k), distinct.size)
    if k_eff <= 1:
        bins = np.array([float(x.max())])
    else:
        bins = _bins(x, scheme, k_eff)
    cls = np.searchsorted(bins, x, side="left")  # (b[i-1], b[i]] -> i; the first class also takes the minimum
    cls = np.minimum(cls, bins.size - 1)
    index[finite] = cls
    counts = np.bincount(cls, minlength=bins.size)
    colours = COLORMAPS[colormap].colours(bins.size)
    lowers = [float(x.min()), *bins[:-1].tolist()]
    classes = tuple(
        ChoroplethClass(lower=lowers[i], upper=float(bins[i]), count=int(counts[i]), colour=colours[i], first=i == 0)
        for i in range(bins.size)
    )
    return Classification(scheme, classes, index, missing)


class ChoroplethGroup(folium.FeatureGroup):
    """A feature group that brings its legend along: adding it to a map adds ``self.legend`` after it.

    The legend (an :class:`~layers.legend.OverlayLegend`, a Leaflet control)
    belongs to the map, not to the layer, and must come after the layer in
    the map's script; :meth:`add_to` does both. Adding the legend again by
    hand replaces it (same element name), it is never shown twice.
    """

    legend: OverlayLegend | None = None
    classification: Classification | None = None

    def add_to(self, parent, name=None, index=None):  # type: ignore[override]
        super().add_to(parent, name=name, index=index)
        if self.legend is not None and isinstance(parent, folium.Map):
            self.legend.add_to(parent)
        return self


def classed_choropleth(
    frame: gpd.GeoDataFrame,
    column: str,
    scheme: str = "quantiles",
    k: int = 5,
    lang: str = "ko",
    *,
    name_column: str | None = "name",
    title: str | None = None,
    layer_name: str | None = None,
    colormap: str = "YlOrRd",
    value_format: Callable[[float], str] = format_number,
    show: bool = True,
) -> ChoroplethGroup:
    """A feature group of the frame's areas coloured by classes of ``column``, with its legend.

    Parameters
    ----------
    frame : GeoDataFrame
        Polygons in any CRS (drawn in EPSG:4326), e.g. :func:`planning.aggregates.by_dong`.
    column : str
        Numeric column to class (NaN: no value).
    scheme, k, colormap
        As in :func:`classify`.
    lang : {"ko", "en"}
        Language of the legend and tooltips.
    name_column : str, optional
        Column naming each area in its tooltip (e.g. ``name`` or ``h3``).
    title : str, optional
        Legend title (default: the column name).
    layer_name : str, optional
        Name in the layer control (default: ``title``).
    value_format : callable
        Formats a value for the tooltip.
    show : bool

    Returns
    -------
    ChoroplethGroup
        A ``folium.FeatureGroup`` with one GeoJson layer; ``group.legend`` is
        an :class:`layers.legend.OverlayLegend` listing each class's range
        and number of areas (plus "no value" when some are missing), shown
        while the group is on, and added to the map with the group
        (``group.add_to(m)``). ``group.classification`` is the
        :class:`Classification`.

    Raises
    ------
    ChoroplethRefused
        ``bad_column``, ``bad_scheme``, ``bad_k``.
    """
    lang = "en" if lang == "en" else "ko"
    if column not in frame.columns:
        raise ChoroplethRefused(
            "bad_column",
            f"'{column}' 열이 없습니다. 표의 숫자 열을 고르세요.",
            f"There is no column '{column}'. Choose a numeric column of the table.",
        )
    if name_column is not None and name_column not in frame.columns:
        raise ChoroplethRefused(
            "bad_column",
            f"이름 열 '{name_column}'이 없습니다.",
            f"There is no name column '{name_column}'.",
        )
    data = frame.to_crs(4326) if frame.crs is not None and frame.crs.to_epsg() != 4326 else frame
    values = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    classes = classify(values, scheme, k, colormap)
    heading = title if title is not None else column
    no_value = "no value" if lang == "en" else "값 없음"
    features = []
    for i, geom in enumerate(data.geometry):
        if geom is None or geom.is_empty:
            continue
        name = "" if name_column is None else data[name_column].iloc[i]
        value = values[i]
        shown = value_format(value) if math.isfinite(value) else no_value
        tip = f"{name}: {heading} {shown}" if name_column is not None else f"{heading} {shown}"
        features.append(
            {
                "type": "Feature",
                "properties": {"fill": classes.colour_of(int(classes.index[i])), "tip": escape_map_text(tip)},
                "geometry": geom.__geo_interface__,
            }
        )
    group = ChoroplethGroup(name=escape_map_text(layer_name or heading), show=show)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        style_function=lambda f: {"color": "#555555", "weight": 1, "fillColor": f["properties"]["fill"], "fillOpacity": 0.65},
        highlight_function=lambda _f: {"weight": 3},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
    ).add_to(group)
    entries = [LegendEntry(c.label(lang), "#555555", shape="area", fill=c.colour) for c in classes.classes]
    if classes.missing:
        entries.append(LegendEntry(f"{no_value} ({count_areas(classes.missing, lang)})", "#555555", shape="area", fill=NO_VALUE_COLOUR))
    group.legend = OverlayLegend(legend_html(heading, entries), group, position="bottomleft")
    group.classification = classes
    return group
