import base64
import hashlib
import io
import json
import re
import tarfile
from pathlib import Path

import folium
import folium.folium
import folium.plugins
import pytest

from layers import assets
from layers.assets import (
    MANIFEST,
    AssetsMissing,
    AssetVerificationError,
    Replaces,
    VendoredFile,
    VendoredPackage,
    install,
    local_links,
    status,
    use_local_assets,
)
from settings import ROOT, STATIC_DIR

CDN = re.compile(r"cdn\.jsdelivr|cdnjs\.cloudflare|code\.jquery\.com|netdna\.bootstrapcdn|unpkg\.com")
COVERED = [
    folium.Map,
    folium.plugins.Draw,
    folium.plugins.MarkerCluster,
    folium.plugins.FastMarkerCluster,
    folium.plugins.HeatMap,
    folium.plugins.Fullscreen,
]


# --- the real manifest and the installed files --------------------------------------------


def test_manifest_names_the_installed_folium():
    assert folium.__version__ == assets.FOLIUM_VERSION


def test_manifest_covers_the_plugins_we_use():
    names = {f"{c.__module__.split('.')[0]}.{'plugins.' if 'plugins' in c.__module__ else ''}{c.__name__}" for c in COVERED}
    assert names == set(assets.covered_classes())


def test_exact_versions():
    versions = {p.package: p.version for p in MANIFEST}
    assert versions["leaflet"] == "1.9.4"
    assert versions["jquery"] == "3.7.1"
    assert versions["bootstrap"] == "5.2.2"
    assert versions["@fortawesome/fontawesome-free"] == "6.2.0"
    assert versions["leaflet-draw"] == "1.0.4"
    assert versions["leaflet.markercluster"] == "1.5.3"
    assert versions["leaflet.awesome-markers"].startswith("2.0.")


def test_use_local_assets_leaves_no_remote_entry(local_assets):
    for cls in COVERED:
        for name, url in [*cls.default_js, *cls.default_css]:
            assert url.startswith("/app/static/vendor/"), (cls.__name__, name, url)
    assert folium.folium._default_js == folium.Map.default_js
    assert folium.folium._default_css == folium.Map.default_css


def test_use_local_assets_is_idempotent(local_assets):
    before = {c: (list(c.default_js), list(c.default_css)) for c in COVERED}
    use_local_assets()
    use_local_assets()
    assert before == {c: (list(c.default_js), list(c.default_css)) for c in COVERED}


def test_keeps_folium_order(local_assets):
    assert [k for k, _ in folium.Map.default_js] == ["leaflet", "jquery", "bootstrap", "awesome_markers"]


def test_every_local_url_is_an_installed_file(local_assets):
    for by_kind in local_links().values():
        for urls in by_kind.values():
            for url in urls.values():
                path = STATIC_DIR / url.removeprefix("/app/static/")
                assert path.is_file(), url


def test_files_referenced_by_vendored_css_are_installed(local_assets):
    checked = 0
    for pkg in MANIFEST:
        for f in pkg.files:
            if not f.path.endswith(".css"):
                continue
            css_path = pkg.local_dir() / f.path
            for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", css_path.read_text(encoding="utf-8")):
                if ref.startswith(("data:", "#")):
                    continue
                assert not CDN.search(ref) and not ref.startswith(("http:", "https:", "//")), (f.path, ref)
                target = (css_path.parent / ref.split("?")[0].split("#")[0]).resolve()
                assert target.is_file(), f"{pkg.package}/{f.path} references {ref}, not installed"
                checked += 1
    assert checked >= 20  # leaflet images, draw sprites, fonts, ...


def test_installed_assets_verify():
    problems = [p for s in status(verify=True) for p in s.problems]
    assert not problems, problems


def test_no_cdn_address_in_our_files():
    ours = [*sorted((ROOT / "layers").rglob("*.py")), ROOT / "streamlit_app.py", *sorted((ROOT / ".streamlit").glob("*.toml"))]
    for path in ours:
        assert not CDN.search(path.read_text(encoding="utf-8")), path


# --- missing assets ------------------------------------------------------------------------------


def test_status_reports_what_is_missing(tmp_path):
    states = status(static_dir=tmp_path, verify=False)
    assert len(states) == len(MANIFEST)
    assert all(not s.ok for s in states)
    assert any("leaflet@1.9.4: not installed" in p for s in states for p in s.problems)


def test_use_local_assets_refuses_without_files_and_changes_nothing(tmp_path):
    before = list(folium.plugins.Draw.default_js)
    with pytest.raises(AssetsMissing, match=r"python -m layers\.assets install"):
        use_local_assets(static_dir=tmp_path)
    assert folium.plugins.Draw.default_js == before


def test_cli_status_exit_code(capsys):
    assert assets.main(["status"]) == 0
    assert assets.main(["bogus"]) == 2


# --- install, against a fake registry ------------------------------------------------------------


def _tgz(root: str, files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for rel, content in files.items():
            info = tarfile.TarInfo(f"{root}/{rel}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


class FakeRegistry:
    """Serves npm metadata + tarballs and a PyPI simple page from memory, counting requests."""

    def __init__(self):
        self.responses: dict[str, bytes] = {}
        self.calls: list[str] = []

    def add_npm(self, package: str, version: str, files: dict[str, bytes], integrity_of: bytes | None = None):
        data = _tgz("package", files)
        digest_src = data if integrity_of is None else integrity_of
        name = package.rsplit("/", 1)[-1]
        tarball = f"https://registry.example/{package}/-/{name}-{version}.tgz"
        meta = {
            "dist": {
                "tarball": tarball,
                "integrity": "sha512-" + base64.b64encode(hashlib.sha512(digest_src).digest()).decode(),
                "shasum": hashlib.sha1(digest_src).hexdigest(),
            }
        }
        quoted = package.replace("/", "%2F")
        self.responses[f"https://registry.example/{quoted}/{version}"] = json.dumps(meta).encode()
        self.responses[tarball] = data

    def add_pypi(self, package: str, version: str, files: dict[str, bytes]):
        data = _tgz(f"{package}-{version}", files)
        url = f"https://files.example/{package}-{version}.tar.gz"
        page = {"files": [{"filename": f"{package}-{version}.tar.gz", "url": url, "hashes": {"sha256": hashlib.sha256(data).hexdigest()}}]}
        self.responses[f"https://pypi.example/simple/{package}/"] = json.dumps(page).encode()
        self.responses[url] = data

    def __call__(self, url: str, accept: str | None = None) -> bytes:
        self.calls.append(url)
        if url not in self.responses:
            raise AssertionError(f"unexpected request {url}")
        return self.responses[url]


NPM_PKG = VendoredPackage(
    "npm",
    "@scope/thing",
    "1.2.3",
    (VendoredFile("dist/thing.js", (Replaces("folium.plugins.Draw", "js", "leaflet_draw_js"),)), VendoredFile("dist/img/a.png")),
)
PYPI_PKG = VendoredPackage("pypi", "folium", "9.9.9", (VendoredFile("folium/templates/x.css"),))
NPM_FILES = {"dist/thing.js": b"console.log(1)", "dist/img/a.png": b"\x89PNG", "README.md": b"not wanted"}


def _install(tmp_path, registry, manifest):
    return install(
        static_dir=tmp_path,
        fetch=registry,
        manifest=manifest,
        log=None,
        npm_registry="https://registry.example",
        pypi_index="https://pypi.example/simple",
    )


def test_install_extracts_only_listed_files_and_is_idempotent(tmp_path):
    reg = FakeRegistry()
    reg.add_npm("@scope/thing", "1.2.3", NPM_FILES)
    reg.add_pypi("folium", "9.9.9", {"folium/templates/x.css": b".a{}", "setup.py": b""})
    done = _install(tmp_path, reg, [NPM_PKG, PYPI_PKG])
    assert done == [NPM_PKG, PYPI_PKG]
    base = tmp_path / "vendor" / "@scope" / "thing@1.2.3"
    assert (base / "dist/thing.js").read_bytes() == b"console.log(1)"
    assert (base / "dist/img/a.png").is_file()
    assert not (base / "README.md").exists()
    assert (tmp_path / "vendor" / "folium@9.9.9" / "folium/templates/x.css").read_bytes() == b".a{}"
    assert all(s.ok for s in status(tmp_path, manifest=[NPM_PKG, PYPI_PKG]))

    n_calls = len(reg.calls)
    assert _install(tmp_path, reg, [NPM_PKG, PYPI_PKG]) == []
    assert len(reg.calls) == n_calls  # nothing fetched the second time


def test_tampered_file_is_reported_and_reinstalled(tmp_path):
    reg = FakeRegistry()
    reg.add_npm("@scope/thing", "1.2.3", NPM_FILES)
    _install(tmp_path, reg, [NPM_PKG])
    js = tmp_path / "vendor" / "@scope" / "thing@1.2.3" / "dist/thing.js"
    js.write_text("evil()")
    (problem,) = status(tmp_path, manifest=[NPM_PKG])[0].problems
    assert "changed since install" in problem
    assert status(tmp_path, verify=False, manifest=[NPM_PKG])[0].ok  # the cheap check only looks for presence
    assert _install(tmp_path, reg, [NPM_PKG]) == [NPM_PKG]
    assert js.read_bytes() == b"console.log(1)"


def test_integrity_mismatch_writes_nothing(tmp_path):
    reg = FakeRegistry()
    reg.add_npm("@scope/thing", "1.2.3", NPM_FILES, integrity_of=b"something else")
    with pytest.raises(AssetVerificationError, match="mismatch"):
        _install(tmp_path, reg, [NPM_PKG])
    assert not (tmp_path / "vendor" / "@scope").exists() or not any((tmp_path / "vendor" / "@scope").iterdir())


def test_archive_lacking_a_listed_file_is_refused(tmp_path):
    reg = FakeRegistry()
    reg.add_npm("@scope/thing", "1.2.3", {"dist/thing.js": b"x"})
    with pytest.raises(AssetVerificationError, match="lacks dist/img/a.png"):
        _install(tmp_path, reg, [NPM_PKG])
    assert not status(tmp_path, manifest=[NPM_PKG])[0].ok


def test_local_urls_are_absolute_static_paths():
    assert NPM_PKG.url("dist/thing.js") == "/app/static/vendor/@scope/thing@1.2.3/dist/thing.js"
    assert Path(NPM_PKG.local_dir(Path("/x"))) == Path("/x/vendor/@scope/thing@1.2.3")
