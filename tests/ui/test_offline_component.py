"""The real map component (not patched): its scripts and styles come from /app/static, never a CDN."""
import json

from streamlit.testing.v1 import AppTest

from tests.ui.conftest import APP


def test_map_component_loads_only_local_assets(app_store, local_assets):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    (component,) = at.get("component_instance")
    assert component.proto.component_name == "streamlit_folium.st_folium"
    args = json.loads(component.proto.json_args)
    links = args["js_links"] + args["css_links"]
    assert links and all(link.startswith("/app/static/vendor/") for link in links), links
    assert set(args["returned_objects"]) == {"all_drawings", "last_active_drawing", "bounds", "zoom", "last_object_clicked_tooltip"}
    assert "Leaflet.draw" in args["script"] or "L.Control.Draw" in args["script"]
