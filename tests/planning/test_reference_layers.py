import numpy as np
import pytest
from rasterio.transform import from_origin
from shapely.geometry import LineString, Point, Polygon, mapping

from geo.boundaries import admin_dongs
from geo.crs import lonlat_to_metric, metric_to_lonlat
from layers.rasters import RasterRegistry, sample_values, write_density_geotiff, write_geotiff
from planning.errors import InvalidInput
from planning.geography import districts_frame, install_reference_data
from planning.reference_layers import (
    NO_VALUE,
    VOTER_DENSITY_KEY,
    format_raster_value,
    raster_values_at,
    register_voter_density,
    representative_lonlat,
)


def test_voter_density_raster_matches_district_densities(store, tmp_path):
    install_reference_data(store)
    reg = RasterRegistry(tmp_path / "rasters")
    layer = register_voter_density(store, reg, cell_m=250)
    assert [x.key for x in reg.list()] == [VOTER_DENSITY_KEY]
    assert "근사" in layer.title_ko and "approximate" in layer.title_en
    # at each dong's representative point the raster holds that dong's voters per km²
    from geo.crs import to_metric

    d = districts_frame(store).set_index("adm_code")
    pts = admin_dongs()
    values = sample_values(layer, pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy())
    expected = [d.at[c, "voters"] / (to_metric(d.at[c, "geometry"]).area / 1e6) for c in pts["adm_code"]]
    close = np.isclose(values, expected, rtol=1e-3)
    assert close.mean() > 0.95  # a point within one cell of a district edge may take the neighbour's value
    # outside Goyang (Seoul City Hall) is nodata
    assert np.isnan(sample_values(layer, np.array([126.978]), np.array([37.5665]))[0])
    # refreshing replaces, not duplicates
    register_voter_density(store, reg, cell_m=250)
    assert len(reg.list()) == 1


# ---------------------------------------------------------------------------
# Raster values on a proposal card
# ---------------------------------------------------------------------------

# rasterio 1.4's own from_origin still multiplies Affines with `*`: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Use `@` matmul:PendingDeprecationWarning:rasterio")

# a 100 m grid in EPSG:5179 over 화정동, 40 x 40 cells
GX, GY, GC = 944_000.0, 1_964_000.0, 100.0


def lonlat_of_cell(row, col):
    lon, lat = metric_to_lonlat([GX + (col + 0.5) * GC], [GY - (row + 0.5) * GC])
    return float(lon[0]), float(lat[0])


@pytest.fixture
def card_registry(tmp_path):
    reg = RasterRegistry(tmp_path / "card")
    values = (np.add.outer(np.arange(40) * 1000.0, np.arange(40)) + 0.25).astype(np.float32)
    values[10, 10] = -9999.0
    flood = write_geotiff(tmp_path / "flood.tif", values, from_origin(GX, GY, GC, GC), nodata=-9999.0)
    reg.register(flood, "flood", "침수 위험도", "Flood risk", units="cm")
    codes = np.ones((40, 40), dtype=np.uint8)
    codes[:, 20:] = 2
    lu = write_geotiff(tmp_path / "lu.tif", codes, from_origin(GX, GY, GC, GC), nodata=0)
    reg.register(lu, "landuse", "토지이용", "Land use", categorical=True, category_labels={1: ("주거지역", "Residential")})
    counts = np.zeros((40, 40), dtype=np.int32)
    counts[5, 5] = 3
    dens = write_density_geotiff(tmp_path / "d.tif", counts, from_origin(GX, GY, GC, GC), method="count", cell_m=100, feature_count=3)
    reg.register(dens, "density", "제안 밀도", "Proposal density", units="proposals per cell", kind="density", zero_is_transparent=True)
    return reg


def test_values_at_a_point_in_every_raster(card_registry):
    rows = raster_values_at(Point(*lonlat_of_cell(5, 5)), "ko", card_registry)
    assert rows == [("침수 위험도", "5,005", "cm"), ("토지이용", "주거지역", ""), ("제안 밀도", "3", "proposals per cell")]
    rows = raster_values_at(Point(*lonlat_of_cell(7, 30)), "en", card_registry)
    assert rows == [("Flood risk", "7,030", "cm"), ("Land use", "code 2", ""), ("Proposal density", "0", "proposals per cell")]
    assert raster_values_at(Point(*lonlat_of_cell(7, 30)), "ko", card_registry)[1] == ("토지이용", "코드 2", "")
    assert [r[2] for r in raster_values_at(Point(*lonlat_of_cell(7, 30)), "en", card_registry, kinds=["density"])] == ["proposals per cell"]


def test_nodata_and_outside_say_no_value(card_registry):
    rows = raster_values_at(Point(*lonlat_of_cell(10, 10)), "ko", card_registry)
    assert rows[0] == ("침수 위험도", "값 없음", "")
    outside = raster_values_at(Point(126.978, 37.5665), "en", card_registry)  # Seoul City Hall
    assert outside == [(t, NO_VALUE["en"], "") for t in ("Flood risk", "Land use", "Proposal density")]


def test_lines_and_polygons_are_sampled_at_their_representative_point(card_registry):
    # a line from cell (3, 2) to cell (3, 12): its middle is cell (3, 7)
    a = lonlat_of_cell(3, 2)
    b = lonlat_of_cell(3, 12)
    rows = raster_values_at(LineString([a, b]), "en", card_registry)
    assert rows[0][1] == "3,007"
    # a U-shaped polygon whose centroid is outside it: the value comes from inside the shape
    x0, y0 = GX + 1_000, GY - 2_000
    u = Polygon([(x0, y0), (x0 + 900, y0), (x0 + 900, y0 + 900), (x0 + 600, y0 + 900), (x0 + 600, y0 + 300),
                 (x0 + 300, y0 + 300), (x0 + 300, y0 + 900), (x0, y0 + 900)])
    lon, lat = metric_to_lonlat(*np.array(u.exterior.coords).T)
    u_lonlat = Polygon(zip(lon, lat))
    plon, plat = representative_lonlat(mapping(u_lonlat))  # GeoJSON mappings are accepted too
    px, py = lonlat_to_metric([plon], [plat])
    assert u.contains(Point(px[0], py[0])) and not u.contains(u.centroid)
    row, col = int((GY - py[0]) // GC), int((px[0] - GX) // GC)
    assert raster_values_at(mapping(u_lonlat), "en", card_registry)[0][1] == format_raster_value(row * 1000 + col + 0.25)


def test_unreadable_layers_do_not_hide_the_others(card_registry):
    card_registry.get("landuse").path.unlink()
    rows = raster_values_at(Point(*lonlat_of_cell(5, 5)), "en", card_registry)
    assert rows[1] == ("Land use", "cannot be read", "") and rows[0][1] == "5,005" and rows[2][1] == "3"
    with pytest.raises(InvalidInput) as err:
        raster_values_at(Polygon(), "ko", card_registry)
    assert err.value.code == "bad_geometry" and "도형" in err.value.ko and "geometry" in err.value.en
    with pytest.raises(InvalidInput):
        raster_values_at({"type": "Point"}, "ko", card_registry)


def test_default_registry_and_voter_density_on_a_card(store):
    from settings import raster_dir

    install_reference_data(store)
    layer = register_voter_density(store, RasterRegistry(raster_dir()), cell_m=250)
    assert layer.kind == "reference"
    d = districts_frame(store).set_index("adm_code")
    pt = admin_dongs().set_index("adm_code").geometry["4128164000"]  # 행신1동's representative point
    from geo.crs import to_metric

    expected = d.at["4128164000", "voters"] / (to_metric(d.at["4128164000", "geometry"]).area / 1e6)
    ((title, value, unit),) = raster_values_at(pt, "en")  # the registry at settings.raster_dir()
    assert title.startswith("Adult population density") and unit == layer.units
    assert float(value.replace(",", "")) == pytest.approx(expected, rel=1e-3)


def test_value_formatting():
    assert [format_raster_value(v) for v in (3.0, 12345.0, 12345.6, 12.3456, 0.012345, -2.5)] == ["3", "12,345", "12,346", "12.35", "0.0123", "-2.5"]
    assert format_raster_value(np.float32(0.25)) == "0.25"


# ---------------------------------------------------------------------------
# Admins upload and remove raster layers
# ---------------------------------------------------------------------------


@pytest.fixture
def admin_and_resident(store):
    from planning.auth import actor_for

    install_reference_data(store)
    with store.transaction() as tx:
        admin = tx.residents.add("admin", "관리", role="admin", password_hash="x").id
        resident = tx.residents.add("minji", "민지", password_hash="x").id
    return store, actor_for(store, admin), actor_for(store, resident)


def test_admin_uploads_a_geotiff_that_then_shows_on_cards(admin_and_resident, tmp_path):
    from planning.reference_layers import remove_raster, upload_raster

    store, admin, _ = admin_and_resident
    values = np.full((40, 40), 7.0, dtype=np.float32)
    path = write_geotiff(tmp_path / "flood_risk.tif", values, from_origin(GX, GY, GC, GC), nodata=-9999.0)
    reg = RasterRegistry(tmp_path / "registry")
    layer = upload_raster(store, admin, path.read_bytes(), "flood_risk.tif", "침수 위험도", "Flood risk", units="cm", registry=reg)
    assert layer.kind == "uploaded" and [x.key for x in reg.list()] == [layer.key]
    lon, lat = lonlat_of_cell(3, 3)
    values_here = {t: (v, u) for t, v, u in raster_values_at(Point(lon, lat), "ko", registry=reg)}
    assert values_here["침수 위험도"][0].startswith("7") and values_here["침수 위험도"][1] == "cm"
    with store.transaction() as tx:
        assert [e.action for e in tx.audit.list(subject_prefix="raster:")] == ["raster.upload"]
    remove_raster(store, admin, layer.key, registry=reg)
    assert reg.list() == []


def test_uploads_are_for_admins_and_must_be_geotiffs(admin_and_resident, tmp_path):
    from planning.errors import NotAllowed
    from planning.reference_layers import remove_raster, upload_raster

    store, admin, resident = admin_and_resident
    reg = RasterRegistry(tmp_path / "registry")
    with pytest.raises(NotAllowed):
        upload_raster(store, resident, b"II*\x00", "x.tif", "x", registry=reg)
    with pytest.raises(InvalidInput) as err:
        upload_raster(store, admin, b"this is not a tiff at all", "landuse.tif", "토지이용", registry=reg)
    assert err.value.message("ko") != err.value.message("en") and "landuse.tif" in err.value.message("en")
    assert reg.list() == []
    with pytest.raises(InvalidInput) as err:
        remove_raster(store, admin, "nothing-here", registry=reg)
    assert err.value.code == "no_such_layer"
    register_voter_density(store, reg, cell_m=500)
    with pytest.raises(InvalidInput) as err:
        remove_raster(store, admin, VOTER_DENSITY_KEY, registry=reg)
    assert err.value.code == "reference_layer" and len(reg.list()) == 1
