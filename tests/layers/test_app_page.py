"""The placeholder page builds the offline base map (AppTest does not run the component itself)."""
import json

from streamlit.testing.v1 import AppTest

from settings import ROOT


def test_page_shows_the_offline_base_map(local_assets, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.sqlite3'}")
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["고양시 주민참여 지도"]
    (component,) = at.get("component_instance")
    assert component.proto.component_name == "streamlit_folium.st_folium"
    args = json.loads(component.proto.json_args)
    assert args["returned_objects"] == []
    assert args["height"] == 600
    links = args["js_links"] + args["css_links"]
    assert links and all(link.startswith("/app/static/vendor/") for link in links)
