import pytest

from layers.assets import AssetsMissing, use_local_assets


@pytest.fixture(scope="session")
def local_assets() -> None:
    """folium pointed at the vendored assets; fails (not skips) when they are not installed."""
    try:
        use_local_assets()
    except AssetsMissing as exc:
        pytest.fail(str(exc))
