"""Fuzzing raster uploads: layers.rasters.RasterRegistry.register_upload (what planning.reference_layers.upload_raster calls).

A real GeoTIFF over Goyang is truncated, has bytes flipped or overwritten,
gets garbage in front, or is replaced by another format; titles and file
names are hostile. Each upload ends in a bilingual RasterRefused with nothing
left behind, or a registered layer that lists, reads and draws.
"""
from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from fuzzkit import assert_bilingual, count, fuzz_settings, outcome
from hypothesis import example, given
from hypothesis import strategies as st
from rasterio.transform import from_origin

from layers.rasters import RasterRefused, RasterRegistry, overlay_image, write_geotiff

pytestmark = pytest.mark.filterwarnings("ignore:Use `@` matmul:PendingDeprecationWarning:rasterio")

X0, Y0, CELL = 940_000.0, 1_965_000.0, 100.0  # EPSG:5179, around 일산동구/덕양구


@lru_cache(maxsize=1)
def good_tiff() -> bytes:
    """A valid 64 x 64 GeoTIFF (tiled, deflate, with a nodata hole) over Goyang."""
    a = np.add.outer(np.arange(64) * 10.0, np.arange(64)).astype(np.float32)
    a[10:20, 10:20] = -9999.0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "flood.tif"
        write_geotiff(path, a, from_origin(X0, Y0 + 64 * CELL, CELL, CELL), nodata=-9999.0, block_size=32)
        return path.read_bytes()


@st.composite
def damaged(draw, good: bytes):
    kind = draw(st.integers(0, 6))
    data = bytearray(good)
    if kind == 0:  # truncated
        return bytes(data[: draw(st.integers(0, len(data) - 1))])
    if kind == 1:  # a few bytes flipped
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
        return bytes(data)
    if kind == 2:  # a run overwritten, often in the header
        start = draw(st.one_of(st.integers(0, 256), st.integers(0, len(data) - 1)))
        junk = draw(st.binary(min_size=1, max_size=64))
        data[start : start + len(junk)] = junk
        return bytes(data[: len(good)])
    if kind == 3:  # garbage in front
        return draw(st.binary(max_size=16)) + bytes(data)
    if kind == 4:  # other formats and empty files
        return draw(
            st.sampled_from(
                [b"", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, b"\xff\xd8\xff\xe0" + b"\x00" * 64, b"PK\x03\x04", b"II*\x00", b"MM\x00*"]
            )
        )
    if kind == 5:  # a TIFF header followed by noise
        return draw(st.sampled_from([b"II*\x00", b"MM\x00*", b"II+\x00"])) + draw(st.binary(max_size=400))
    return bytes(data)  # intact


hostile_name = st.one_of(
    st.sampled_from(["flood.tif", "홍수 위험.tif", "../../etc/passwd.tif", "a\x00b.tif", "\u202efit.exe", ".tif", "", "x" * 300 + ".tif"]),
    st.text(max_size=20),
)
hostile_title = st.one_of(st.sampled_from(["침수 위험도", "<script>alert(1)</script>", "", "  ", "가" * 500, "\x00\u200f"]), st.text(max_size=20))


def leftovers(directory) -> set[str]:
    return set(os.listdir(directory)) if directory.exists() else set()


@fuzz_settings(scale=1.5)
@given(data=st.data(), filename=hostile_name, title=hostile_title)
@example(data=None, filename="flood.tif", title="침수 위험도").via("the intact file")
@example(data=None, filename="a\x00b.tif", title="침수").via("NUL in the name: ValueError before the fix")
@example(data=None, filename="..", title="침수").via("'..': IsADirectoryError before the fix")
@example(data=None, filename="가" * 300 + ".tif", title="침수").via("name too long for the disk before the fix")
@example(data=None, filename="\ud800.tif", title="\ud800침수\x00").via("lone surrogate in the name")
def test_register_upload(tmp_path_factory, data, filename, title):
    upload = good_tiff() if data is None else data.draw(damaged(good_tiff()))
    directory = tmp_path_factory.mktemp("rasters")
    registry = RasterRegistry(directory)
    count("raster upload (layers.rasters.register_upload)")
    try:
        layer = registry.register_upload(upload, title, filename=filename)
    except RasterRefused as err:
        assert_bilingual(err)
        assert registry.list() == []
        assert leftovers(directory) <= {"index.json", ".lock"}, leftovers(directory)  # no raster file left behind
        outcome("raster upload (layers.rasters.register_upload)", False)
        return
    outcome("raster upload (layers.rasters.register_upload)", True)
    assert [x.key for x in registry.list()] == [layer.key]
    assert layer.title("ko").strip() and layer.title("en").strip()
    assert "/" not in layer.key and ".." not in layer.key and "\x00" not in layer.key
    image = overlay_image(layer)  # what the map draws: readable to the last block
    assert image is not None
