"""The drawing tools of the residents' map (Leaflet.draw through ``folium.plugins.Draw``).

:func:`draw_control` gives a toolbar with marker, line, polygon, rectangle and
circle (no circle marker), editing and deleting, and no export button. What
comes back through ``st_folium`` is GeoJSON in lon/lat:

* a marker is a ``Point``; a line a ``LineString``; a polygon and a
  rectangle are ``Polygon`` features;
* a circle is a ``Point`` with ``properties.radius`` in metres: convert it
  with :func:`drawn_circle_to_polygon` (``geo.validation`` refuses circles).
  The control keeps ``radius`` up to date when a circle is resized with the
  edit tool (streamlit-folium itself only sets it when the circle is drawn).

:func:`latest_drawing` picks the feature to use from ``st_folium``'s answer.

Language
--------
``lang="en"`` leaves Leaflet.draw's own English texts untouched (browser
tests look for "Draw a polygon", "Finish", ... there). ``lang="ko"`` replaces,
through ``L.drawLocal`` before the toolbar is built, every text of
:data:`DRAW_TEXTS_KO`:

* the toolbar buttons' titles (``draw.toolbar.buttons.*``: 선 그리기,
  다각형 그리기, 사각형 그리기, 원 그리기, 점 찍기) and the edit buttons
  (``edit.toolbar.buttons.*``);
* the action links next to the toolbar: 취소 (Cancel), 완료 (Finish),
  마지막 점 삭제 (Delete last point), 저장 (Save), 모두 지우기 (Clear All);
* the tooltips that follow the mouse while drawing or editing
  (``draw.handlers.*``, ``edit.handlers.*``), and the "edges cannot cross" error.

So a browser test on a Korean map finds the finish link by
``draw_text("finish", "ko")`` ("완료"), on an English map by "Finish".
"""
from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from folium.plugins import Draw
from folium.template import Template
import shapely
from shapely.geometry import Point, Polygon

from geo.crs import to_metric, to_storage
from geo.errors import GeometryRefused

DRAW_COLOUR = "#e31a1c"
MAX_CIRCLE_RADIUS_M = 20_000.0  # wider than the city: anything larger is a mistake

# Leaflet.draw's L.drawLocal, Korean. Keys as in leaflet-draw 1.0.4.
DRAW_TEXTS_KO: dict[str, Any] = {
    "draw": {
        "toolbar": {
            "actions": {"title": "그리기 취소", "text": "취소"},
            "finish": {"title": "그리기 완료", "text": "완료"},
            "undo": {"title": "마지막으로 찍은 점 삭제", "text": "마지막 점 삭제"},
            "buttons": {
                "polyline": "선 그리기",
                "polygon": "다각형 그리기",
                "rectangle": "사각형 그리기",
                "circle": "원 그리기",
                "marker": "점 찍기",
                "circlemarker": "원형 점 찍기",
            },
        },
        "handlers": {
            "circle": {"tooltip": {"start": "클릭한 채로 끌어서 원을 그리세요."}, "radius": "반지름"},
            "circlemarker": {"tooltip": {"start": "지도를 클릭해 원형 점을 찍으세요."}},
            "marker": {"tooltip": {"start": "지도를 클릭해 점을 찍으세요."}},
            "polygon": {
                "tooltip": {
                    "start": "클릭해 도형 그리기를 시작하세요.",
                    "cont": "클릭해 계속 그리세요.",
                    "end": "첫 점을 클릭하거나 '완료'를 눌러 도형을 닫으세요.",
                }
            },
            "polyline": {
                "error": "<strong>오류:</strong> 선이 서로 교차할 수 없습니다!",
                "tooltip": {
                    "start": "클릭해 선 그리기를 시작하세요.",
                    "cont": "클릭해 계속 그리세요.",
                    "end": "마지막 점을 다시 클릭하거나 '완료'를 눌러 마치세요.",
                },
            },
            "rectangle": {"tooltip": {"start": "클릭한 채로 끌어서 사각형을 그리세요."}},
            "simpleshape": {"tooltip": {"end": "마우스 버튼을 놓으면 완성됩니다."}},
        },
    },
    "edit": {
        "toolbar": {
            "actions": {
                "save": {"title": "변경 내용 저장", "text": "저장"},
                "cancel": {"title": "편집 취소 (변경 내용 버림)", "text": "취소"},
                "clearAll": {"title": "그린 도형 모두 지우기", "text": "모두 지우기"},
            },
            "buttons": {
                "edit": "도형 편집",
                "editDisabled": "편집할 도형이 없습니다",
                "remove": "도형 삭제",
                "removeDisabled": "삭제할 도형이 없습니다",
            },
        },
        "handlers": {
            "edit": {"tooltip": {"text": "점이나 표시를 끌어 도형을 고치세요.", "subtext": "'취소'를 누르면 되돌립니다."}},
            "remove": {"tooltip": {"text": "지울 도형을 클릭하세요."}},
        },
    },
}

# Leaflet.draw's own English texts, for the keys of draw_text().
_TEXTS_EN = {
    "cancel": "Cancel",
    "finish": "Finish",
    "undo": "Delete last point",
    "polyline": "Draw a polyline",
    "polygon": "Draw a polygon",
    "rectangle": "Draw a rectangle",
    "circle": "Draw a circle",
    "marker": "Draw a marker",
    "save": "Save",
    "clear_all": "Clear All",
    "edit": "Edit layers",
    "remove": "Delete layers",
}
_TEXTS_KO = {
    "cancel": DRAW_TEXTS_KO["draw"]["toolbar"]["actions"]["text"],
    "finish": DRAW_TEXTS_KO["draw"]["toolbar"]["finish"]["text"],
    "undo": DRAW_TEXTS_KO["draw"]["toolbar"]["undo"]["text"],
    **{k: DRAW_TEXTS_KO["draw"]["toolbar"]["buttons"][k] for k in ("polyline", "polygon", "rectangle", "circle", "marker")},
    "save": DRAW_TEXTS_KO["edit"]["toolbar"]["actions"]["save"]["text"],
    "clear_all": DRAW_TEXTS_KO["edit"]["toolbar"]["actions"]["clearAll"]["text"],
    "edit": DRAW_TEXTS_KO["edit"]["toolbar"]["buttons"]["edit"],
    "remove": DRAW_TEXTS_KO["edit"]["toolbar"]["buttons"]["remove"],
}


def draw_text(key: str, lang: str = "ko") -> str:
    """A toolbar text as the browser shows it (for tests and help texts).

    ``key`` is one of ``cancel, finish, undo, polyline, polygon, rectangle,
    circle, marker, save, clear_all, edit, remove``: action links show the
    text, buttons carry it as their title.
    """
    return (_TEXTS_EN if lang == "en" else _TEXTS_KO)[key]


_JS_UNSAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027"})


class GoyangDraw(Draw):
    """``folium.plugins.Draw`` with Korean texts and circle radii kept up to date.

    The localisation runs in the same script as the toolbar, just before it
    (Leaflet.draw reads button titles when the toolbar is built). Keeps
    folium's element name (``DrawControl``): streamlit-folium finds the drawn
    items by it.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {%- if this.locale_json %}
        (function (src, dst) {
            function merge(s, d) {
                Object.keys(s).forEach(function (k) {
                    if (s[k] && typeof s[k] === "object") { d[k] = d[k] || {}; merge(s[k], d[k]); } else { d[k] = s[k]; }
                });
            }
            merge(src, dst);
        })({{ this.locale_json }}, L.drawLocal);
        {%- endif %}
        {{ this.folium_script() }}
        {{ this._parent.get_name() }}.on("draw:created draw:edited", function (e) {
            // a circle's radius travels as properties.radius (metres); resizing must update it
            var layers = e.layer ? [e.layer] : [];
            if (e.layers) { e.layers.eachLayer(function (l) { layers.push(l); }); }
            layers.forEach(function (l) {
                if (l instanceof L.Circle) {
                    var f = l.feature = l.feature || {type: "Feature", properties: {}};
                    f.properties = f.properties || {};
                    f.properties.radius = l.getRadius();
                }
            });
        });
        {% endmacro %}
        """
    )

    def __init__(self, lang: str = "ko", **kwargs: Any):
        super().__init__(**kwargs)
        self.lang = lang
        self.locale = None if lang == "en" else DRAW_TEXTS_KO

    @property
    def locale_json(self) -> str:
        if not self.locale:
            return ""
        return json.dumps(self.locale, ensure_ascii=False, separators=(",", ":")).translate(_JS_UNSAFE)

    def folium_script(self) -> str:
        """folium's own Draw script for this element."""
        return Draw._template.module.script(self, {})


_SHAPE = {"color": DRAW_COLOUR, "weight": 3, "opacity": 0.9, "fillColor": DRAW_COLOUR, "fillOpacity": 0.2}


def draw_control(lang: str = "ko", *, position: str = "topleft") -> GoyangDraw:
    """The drawing toolbar for proposals.

    Parameters
    ----------
    lang : {"ko", "en"}
        ``"ko"``: Korean toolbar texts (see the module docstring); ``"en"``:
        Leaflet.draw's English texts.
    position : str
        Leaflet control corner.

    Returns
    -------
    GoyangDraw
        A ``folium.plugins.Draw``: marker, polyline, polygon (no self-crossing),
        rectangle and circle on; circle marker off; edit and delete on; no
        export, no alert on click. Add it to the base map (it is part of the
        map's identity: keep its arguments the same between reruns).
    """
    shape = _SHAPE
    return GoyangDraw(
        lang=lang,
        export=False,
        position=position,
        show_geometry_on_click=False,
        draw_options={
            "polyline": {"shapeOptions": dict(shape, fill=False), "metric": True},
            "polygon": {"allowIntersection": False, "showArea": False, "shapeOptions": dict(shape)},
            # showArea stays off: leaflet-draw 1.0.4's area readout throws ("type is not defined")
            "rectangle": {"showArea": False, "shapeOptions": dict(shape)},
            "circle": {"showRadius": True, "metric": True, "shapeOptions": dict(shape)},
            "marker": True,
            "circlemarker": False,
        },
        edit_options={"edit": {}, "remove": {}, "poly": {"allowIntersection": False}},
    )


def village_draw_control(lang: str = "ko", *, position: str = "topleft") -> GoyangDraw:
    """The drawing toolbar for a village boundary: polygon and rectangle only (no self-crossing), edit and delete on.

    Same texts and behaviour as :func:`draw_control`; marker, line, circle and
    circle marker are off, since a village is an area.
    """
    return GoyangDraw(
        lang=lang,
        export=False,
        position=position,
        show_geometry_on_click=False,
        draw_options={
            "polygon": {"allowIntersection": False, "showArea": False, "shapeOptions": dict(_SHAPE)},
            "rectangle": {"showArea": False, "shapeOptions": dict(_SHAPE)},
            "polyline": False,
            "circle": False,
            "marker": False,
            "circlemarker": False,
        },
        edit_options={"edit": {}, "remove": {}, "poly": {"allowIntersection": False}},
    )


# ---------------------------------------------------------------------------
# What comes back
# ---------------------------------------------------------------------------


def _is_feature(obj: Any) -> bool:
    return isinstance(obj, Mapping) and obj.get("type") == "Feature" and isinstance(obj.get("geometry"), Mapping)


def latest_drawing(st_folium_result: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The feature the resident drew last, from ``st_folium``'s answer, or ``None``.

    ``all_drawings`` (what is on the map now, oldest first) wins: its last
    feature is the newest drawing, edits included, and an empty list means
    everything was deleted. ``last_active_drawing`` is only a fallback for
    answers without ``all_drawings`` (``returned_objects`` without it): the
    component leaves it unchanged on edit and delete.

    Returns a deep copy (the page may change it).
    """
    if not isinstance(st_folium_result, Mapping):
        return None
    drawings = st_folium_result.get("all_drawings")
    if isinstance(drawings, list):
        features = [d for d in drawings if _is_feature(d)]
        return copy.deepcopy(features[-1]) if features else None
    last = st_folium_result.get("last_active_drawing")
    return copy.deepcopy(dict(last)) if _is_feature(last) else None


def is_drawn_circle(feature: Any) -> bool:
    """Whether ``feature`` is a circle as Leaflet.draw sends it (a Point with ``properties.radius``)."""
    if not _is_feature(feature):
        return False
    props = feature.get("properties")
    return feature["geometry"].get("type") == "Point" and isinstance(props, Mapping) and props.get("radius") is not None


def _not_a_circle() -> GeometryRefused:
    return GeometryRefused(
        "not_a_circle",
        "원 도형이 아닙니다: 반지름이 있는 점이어야 합니다. 지도에서 다시 그려 주세요.",
        "This is not a circle: expected a point with a radius. Please draw it again on the map.",
    )


def drawn_circle_to_polygon(feature: Mapping[str, Any], segments: int = 32) -> dict[str, Any]:
    """A drawn circle as a GeoJSON polygon Feature (lon/lat).

    Parameters
    ----------
    feature : dict
        GeoJSON Feature, ``Point`` geometry in lon/lat (EPSG:4326) with
        ``properties.radius`` in metres (as Leaflet.draw and streamlit-folium send it).
    segments : int
        Number of polygon vertices (at least 8).

    Returns
    -------
    dict
        A Feature with a ``Polygon`` geometry whose vertices lie ``radius``
        metres from the centre, measured in EPSG:5179 (metres); the
        properties are kept, except ``radius`` (moved to ``circle_radius_m``,
        so ``geo.validation`` does not take the polygon for a circle).

    Raises
    ------
    GeometryRefused
        ``not_a_circle`` when the feature is not a point with a radius,
        ``bad_radius`` when the radius is not a positive number of metres up to
        ``MAX_CIRCLE_RADIUS_M`` or the centre is not a finite lon/lat.
    """
    if segments < 8:
        raise ValueError("segments must be at least 8")
    if not is_drawn_circle(feature):
        raise _not_a_circle()
    props = dict(feature.get("properties") or {})
    coords = feature["geometry"].get("coordinates")
    try:
        radius_m = float(props.pop("radius"))
        lon, lat = (float(v) for v in coords[:2])
    except (TypeError, ValueError, IndexError):
        raise _not_a_circle() from None
    if not (math.isfinite(radius_m) and 0 < radius_m <= MAX_CIRCLE_RADIUS_M):
        raise GeometryRefused(
            "bad_radius",
            f"원의 반지름은 0보다 크고 {MAX_CIRCLE_RADIUS_M / 1000:,.0f} km 이하여야 합니다.",
            f"The circle's radius must be more than 0 and at most {MAX_CIRCLE_RADIUS_M / 1000:,.0f} km.",
        )
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise GeometryRefused(
            "bad_radius",
            "원의 중심 좌표가 올바르지 않습니다. 지도에서 다시 그려 주세요.",
            "The circle's centre is not a valid position. Please draw it again on the map.",
        )
    centre = to_metric(Point(lon, lat))
    angles = np.linspace(0.0, 2.0 * np.pi, segments, endpoint=False)
    ring = np.column_stack([centre.x + radius_m * np.cos(angles), centre.y + radius_m * np.sin(angles)])
    polygon = to_storage(Polygon(ring))
    props["circle_radius_m"] = radius_m
    return {"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(polygon))}
