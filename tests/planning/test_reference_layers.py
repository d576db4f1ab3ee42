import numpy as np

from geo.boundaries import admin_dongs
from layers.rasters import RasterRegistry, sample_values
from planning.geography import districts_frame, install_reference_data
from planning.reference_layers import VOTER_DENSITY_KEY, register_voter_density


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
