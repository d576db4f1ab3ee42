import json

import pytest

from layers.viewport import snap_bbox, viewport_from_result, zoom_for_bounds


def result(s, w, n, e, zoom=14):
    return {"bounds": {"_southWest": {"lat": s, "lng": w}, "_northEast": {"lat": n, "lng": e}}, "zoom": zoom}


def test_snapped_bbox_contains_the_view_and_is_stable_for_small_pans():
    a = viewport_from_result(result(37.650, 126.800, 37.670, 126.830))
    b = viewport_from_result(result(37.6502, 126.8003, 37.6701, 126.8302))
    assert a == b
    minx, miny, maxx, maxy = a.bbox
    assert minx <= 126.800 and maxx >= 126.830 and miny <= 37.650 and maxy >= 37.670  # lon is x, lat is y
    assert a.zoom == 14


@pytest.mark.parametrize("bad", [None, {}, {"bounds": None}, result(37.7, 126.8, 37.6, 126.9), result(float("nan"), 1, 2, 3)])
def test_no_viewport_from_incomplete_results(bad):
    assert viewport_from_result(bad) is None


def test_snap_rounds_outwards():
    assert snap_bbox(126.801, 37.651, 126.809, 37.659, pad=0) == (126.8, 37.65, 126.81, 37.66)


def test_zoom_for_bounds():
    city = zoom_for_bounds(126.67, 37.57, 126.99, 37.75)  # all of Goyang
    dong = zoom_for_bounds(126.82, 37.65, 126.84, 37.67)  # one dong
    assert 10 <= city <= 12 and dong > city and dong <= 17


def test_focus_opens_the_map_on_a_box_in_folium_order():
    import folium

    from layers.viewport import focus

    m = folium.Map(location=[37.65, 126.83], zoom_start=11, tiles=None)
    center, zoom = focus(m, (126.830, 37.630, 126.840, 37.636), width_px=1200, height_px=560)
    assert center == pytest.approx([37.633, 126.835]) and 14 <= zoom <= 17  # [lat, lon]
    html = m.get_root().render()
    assert f'"zoom": {zoom}' in html and f"center: {json.dumps(center)}" in html
