"""Offline copies of the JavaScript/CSS that folium and its plugins load.

Folium's ``default_js``/``default_css`` lists (on ``folium.Map`` and on each
plugin class) name public CDNs; on a closed network the map stays blank. This
module

* keeps the manifest (:data:`MANIFEST`): which package, which exact version,
  which files, and which folium class/list entry each file stands in for;
* installs those files at install time from the package registries (npm
  tarballs, and folium's own source distribution on PyPI for the two files
  folium ships itself), verifying each archive against the registry's hash,
  into ``static/vendor/<package>@<version>/`` (command:
  ``python -m layers.assets install``);
* points folium at them (:func:`use_local_assets`) with absolute URLs under
  ``/app/static/``, where Streamlit serves ``static/`` when
  ``server.enableStaticServing`` is on. Relative URLs would resolve against the
  streamlit-folium component's own URL and 404.

Downloaded files are never committed (``/static/vendor/`` is git-ignored).
"""
from __future__ import annotations

import base64
import hashlib
import importlib
import io
import json
import shutil
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from settings import STATIC_DIR

NPM_REGISTRY = "https://registry.npmjs.org"
PYPI_SIMPLE = "https://pypi.org/simple"
STATIC_URL_PREFIX = "/app/static"
VENDOR_SUBDIR = "vendor"
STAMP_NAME = ".verified.json"
INSTALL_COMMAND = "python -m layers.assets install"

Kind = Literal["js", "css"]
Registry = Literal["npm", "pypi"]
Fetch = Callable[[str, "str | None"], bytes]


# ---------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Replaces:
    """One entry of a folium class's ``default_js``/``default_css`` list.

    ``cls`` is the dotted path of the class (``"folium.plugins.Draw"``),
    ``kind`` the list (``"js"`` or ``"css"``), ``key`` the entry's name in it.
    """

    cls: str
    kind: Kind
    key: str


@dataclass(frozen=True)
class VendoredFile:
    """A file taken from a package archive (path relative to the package root)."""

    path: str
    replaces: tuple[Replaces, ...] = ()


@dataclass(frozen=True)
class VendoredPackage:
    """An exact package version from a registry and the files we serve from it."""

    registry: Registry
    package: str
    version: str
    files: tuple[VendoredFile, ...]
    note: str = ""

    @property
    def dir_name(self) -> str:
        """Folder under ``static/vendor/`` (scoped npm names keep their scope folder)."""
        return f"{self.package}@{self.version}"

    def local_dir(self, static_dir: Path = STATIC_DIR) -> Path:
        return Path(static_dir) / VENDOR_SUBDIR / self.dir_name

    def url(self, path: str, url_prefix: str = STATIC_URL_PREFIX) -> str:
        """Absolute URL of one of this package's files as Streamlit serves it."""
        rel = f"{VENDOR_SUBDIR}/{self.dir_name}/{path}"
        return f"{url_prefix.rstrip('/')}/{urllib.parse.quote(rel, safe='/@')}"


def _f(path: str, *replaces: Replaces) -> VendoredFile:
    return VendoredFile(path, tuple(replaces))


def _js(cls: str, key: str) -> Replaces:
    return Replaces(cls, "js", key)


def _css(cls: str, key: str) -> Replaces:
    return Replaces(cls, "css", key)


MAP = "folium.Map"
DRAW = "folium.plugins.Draw"
CLUSTER = "folium.plugins.MarkerCluster"
FAST_CLUSTER = "folium.plugins.FastMarkerCluster"  # a MarkerCluster subclass: same files
HEAT = "folium.plugins.HeatMap"
FULLSCREEN = "folium.plugins.Fullscreen"

FOLIUM_VERSION = "0.20.0"  # must equal the installed folium (requirements.txt pins it)

MANIFEST: tuple[VendoredPackage, ...] = (
    VendoredPackage(
        "npm",
        "leaflet",
        "1.9.4",
        (
            _f("dist/leaflet.js", _js(MAP, "leaflet")),
            _f("dist/leaflet.css", _css(MAP, "leaflet_css")),
            _f("dist/images/layers.png"),
            _f("dist/images/layers-2x.png"),
            _f("dist/images/marker-icon.png"),
            _f("dist/images/marker-icon-2x.png"),
            _f("dist/images/marker-shadow.png"),
            _f("LICENSE"),
        ),
        note="folium 0.20 names 1.9.3; 1.9.4 is its bug-fix release",
    ),
    VendoredPackage(
        "npm",
        "jquery",
        "3.7.1",
        (_f("dist/jquery.min.js", _js(MAP, "jquery")), _f("LICENSE.txt")),
    ),
    VendoredPackage(
        "npm",
        "bootstrap",
        "5.2.2",
        (
            _f("dist/js/bootstrap.bundle.min.js", _js(MAP, "bootstrap")),
            _f("dist/css/bootstrap.min.css", _css(MAP, "bootstrap_css")),
            _f("LICENSE"),
        ),
    ),
    VendoredPackage(
        "npm",
        "leaflet.awesome-markers",
        "2.0.5",
        (
            _f("dist/leaflet.awesome-markers.js", _js(MAP, "awesome_markers")),
            _f("dist/leaflet.awesome-markers.css", _css(MAP, "awesome_markers_css")),
            _f("dist/images/markers-matte.png"),
            _f("dist/images/markers-matte@2x.png"),
            _f("dist/images/markers-plain.png"),
            _f("dist/images/markers-shadow.png"),
            _f("dist/images/markers-shadow@2x.png"),
            _f("dist/images/markers-soft.png"),
            _f("dist/images/markers-soft@2x.png"),
            _f("LICENSE"),
        ),
        note="folium names 2.0.2, which npm does not have; 2.0.4/2.0.5 carry the same plugin code",
    ),
    VendoredPackage(
        "npm",
        "@fortawesome/fontawesome-free",
        "6.2.0",
        (
            _f("css/all.min.css", _css(MAP, "awesome_markers_font_css")),
            *(
                _f(f"webfonts/{name}.{ext}")
                for name in ("fa-brands-400", "fa-regular-400", "fa-solid-900", "fa-v4compatibility")
                for ext in ("woff2", "ttf")
            ),
            _f("LICENSE.txt"),
        ),
    ),
    VendoredPackage(
        "npm",
        "glyphicons-only-bootstrap",
        "1.0.1",
        (
            _f("css/bootstrap.min.css", _css(MAP, "glyphicons_css")),
            *(_f(f"fonts/glyphicons-halflings-regular.{ext}") for ext in ("eot", "svg", "ttf", "woff", "woff2")),
        ),
        note="the Glyphicons rules of Bootstrap 3.3.7 alone (MIT); folium.Icon's default prefix is 'glyphicon'",
    ),
    VendoredPackage(
        "pypi",
        "folium",
        FOLIUM_VERSION,
        (
            _f("folium/templates/leaflet.awesome.rotate.css", _css(MAP, "awesome_rotate_css")),
            _f("folium/templates/leaflet_heat.min.js", _js(HEAT, "leaflet-heat.js")),
            _f("LICENSE.txt"),
        ),
        note="files folium keeps in its own repository: taken from folium's source distribution; "
        "leaflet_heat.min.js is Leaflet.heat 0.2.0 with the weights patch folium expects",
    ),
    VendoredPackage(
        "npm",
        "leaflet-draw",
        "1.0.4",
        (
            _f("dist/leaflet.draw.js", _js(DRAW, "leaflet_draw_js")),
            _f("dist/leaflet.draw.css", _css(DRAW, "leaflet_draw_css")),
            _f("dist/images/spritesheet.png"),
            _f("dist/images/spritesheet-2x.png"),
            _f("dist/images/spritesheet.svg"),
        ),
        note="folium names 1.0.2; 1.0.4 is the last release",
    ),
    VendoredPackage(
        "npm",
        "leaflet.markercluster",
        "1.5.3",
        (
            _f("dist/leaflet.markercluster.js", _js(CLUSTER, "markerclusterjs"), _js(FAST_CLUSTER, "markerclusterjs")),
            _f("dist/MarkerCluster.css", _css(CLUSTER, "markerclustercss"), _css(FAST_CLUSTER, "markerclustercss")),
            _f(
                "dist/MarkerCluster.Default.css",
                _css(CLUSTER, "markerclusterdefaultcss"),
                _css(FAST_CLUSTER, "markerclusterdefaultcss"),
            ),
            _f("MIT-LICENCE.txt"),
        ),
        note="folium names 1.1.0; 1.5.3 is the release for Leaflet 1.x",
    ),
    VendoredPackage(
        "npm",
        "leaflet.fullscreen",
        "3.0.0",
        (
            _f("Control.FullScreen.js", _js(FULLSCREEN, "Control.Fullscreen.js")),
            _f("Control.FullScreen.css", _css(FULLSCREEN, "Control.FullScreen.css")),
            _f("icon-fullscreen.svg"),
            _f("LICENSE"),
        ),
        note="the version folium names; the package has no minified build, so the plain file is served",
    ),
)


def covered_classes(manifest: Sequence[VendoredPackage] = MANIFEST) -> list[str]:
    """Dotted names of the folium classes whose asset lists the manifest replaces."""
    seen: dict[str, None] = {}
    for pkg in manifest:
        for f in pkg.files:
            for r in f.replaces:
                seen.setdefault(r.cls, None)
    return list(seen)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class AssetsMissing(RuntimeError):
    """Vendored assets are not installed (or do not verify)."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        listing = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            "지도 오프라인 자산이 없습니다 / offline map assets are missing:\n"
            f"{listing}\n"
            f"Run `{INSTALL_COMMAND}` (downloads them once from the package registries)."
        )


class AssetVerificationError(RuntimeError):
    """A downloaded archive does not match the registry's published hash, or lacks a file."""


class ManifestMismatch(RuntimeError):
    """folium's asset lists and our manifest disagree (e.g. after a folium upgrade)."""


# ---------------------------------------------------------------------------
# Status
# ---------------------------------------------------------------------------


@dataclass
class AssetStatus:
    """Whether one vendored package is present (and, if checked, verified) on disk."""

    package: VendoredPackage
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_stamp(pkg: VendoredPackage, static_dir: Path) -> dict | None:
    try:
        return json.loads((pkg.local_dir(static_dir) / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def package_status(pkg: VendoredPackage, static_dir: Path = STATIC_DIR, verify: bool = True) -> AssetStatus:
    """Check one package's files under ``static_dir``.

    Without ``verify`` only presence is checked (cheap enough for every page
    run); with it each file's SHA-256 is compared with the one recorded at install.
    """
    st = AssetStatus(pkg)
    root = pkg.local_dir(static_dir)
    label = f"{pkg.package}@{pkg.version}"
    stamp = _read_stamp(pkg, static_dir)
    if stamp is None:
        st.problems.append(f"{label}: not installed ({root})")
        return st
    if (stamp.get("package"), stamp.get("version")) != (pkg.package, pkg.version):
        st.problems.append(f"{label}: install record names another package/version")
        return st
    recorded: dict[str, str] = stamp.get("files", {})
    for f in pkg.files:
        path = root / f.path
        if not path.is_file():
            st.problems.append(f"{label}: missing {f.path}")
        elif f.path not in recorded:
            st.problems.append(f"{label}: {f.path} not recorded at install")
        elif verify and _sha256(path) != recorded[f.path]:
            st.problems.append(f"{label}: {f.path} changed since install")
    return st


def status(static_dir: Path = STATIC_DIR, verify: bool = True, manifest: Sequence[VendoredPackage] = MANIFEST) -> list[AssetStatus]:
    """Status of every package in the manifest; see :func:`missing` for just the problems."""
    return [package_status(pkg, static_dir, verify) for pkg in manifest]


def missing(static_dir: Path = STATIC_DIR, verify: bool = True, manifest: Sequence[VendoredPackage] = MANIFEST) -> list[str]:
    """One line per missing or unverified file/package; empty when all is installed."""
    return [p for s in status(static_dir, verify, manifest) for p in s.problems]


# ---------------------------------------------------------------------------
# Install
# ---------------------------------------------------------------------------


def http_get(url: str, accept: str | None = None, timeout_s: float = 60.0, attempts: int = 3) -> bytes:
    """GET ``url`` (retrying transient failures) and return the body."""
    headers = {"User-Agent": "goyang-community-map-assets/1"}
    if accept:
        headers["Accept"] = accept
    last: Exception | None = None
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout_s) as resp:
                return resp.read()
        except urllib.error.HTTPError as exc:
            if exc.code < 500:  # a 'no' from the registry is final
                raise
            last = exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            last = exc
        time.sleep(1.5 * (attempt + 1))
    assert last is not None
    raise last


@dataclass(frozen=True)
class ArchiveSource:
    """Where a package's archive is and the hashes the registry publishes for it."""

    url: str
    hashes: dict[str, str]  # algorithm -> hex digest


def _npm_source(pkg: VendoredPackage, fetch: Fetch, registry: str) -> ArchiveSource:
    meta_url = f"{registry}/{urllib.parse.quote(pkg.package, safe='@')}/{urllib.parse.quote(pkg.version)}"
    meta = json.loads(fetch(meta_url, "application/json"))
    dist = meta.get("dist") or {}
    hashes: dict[str, str] = {}
    for sri in (dist.get("integrity") or "").split():
        algo, _, b64 = sri.partition("-")
        if algo in ("sha256", "sha384", "sha512") and b64:
            hashes[algo] = base64.b64decode(b64).hex()
    if dist.get("shasum"):
        hashes["sha1"] = dist["shasum"].lower()
    if not hashes:
        raise AssetVerificationError(f"{pkg.package}@{pkg.version}: the registry publishes no hash")
    name = pkg.package.rsplit("/", 1)[-1]
    return ArchiveSource(f"{registry}/{pkg.package}/-/{name}-{pkg.version}.tgz", hashes)


def _pypi_source(pkg: VendoredPackage, fetch: Fetch, index: str) -> ArchiveSource:
    page = json.loads(fetch(f"{index}/{pkg.package}/", "application/vnd.pypi.simple.v1+json"))
    wanted = f"{pkg.package}-{pkg.version}.tar.gz"
    for entry in page.get("files", []):
        if entry.get("filename") == wanted:
            hashes = {k: v.lower() for k, v in (entry.get("hashes") or {}).items() if k in ("sha256", "sha384", "sha512")}
            if not hashes:
                raise AssetVerificationError(f"{wanted}: the index publishes no hash")
            return ArchiveSource(entry["url"], hashes)
    raise AssetVerificationError(f"{wanted}: not on the package index")


def verify_archive(data: bytes, hashes: dict[str, str], label: str) -> None:
    """Raise :class:`AssetVerificationError` unless ``data`` matches every published hash."""
    if not hashes:
        raise AssetVerificationError(f"{label}: no hash to verify against")
    for algo, expected in hashes.items():
        actual = hashlib.new(algo, data).hexdigest()
        if actual != expected.lower():
            raise AssetVerificationError(f"{label}: {algo} mismatch (expected {expected}, got {actual})")


def _extract(pkg: VendoredPackage, data: bytes, dest: Path) -> dict[str, str]:
    """Write the manifest's files of the archive into ``dest``; return their SHA-256."""
    wanted = {f.path for f in pkg.files}
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        for member in tar.getmembers():
            # archives hold one top folder ("package/" for npm, "<name>-<version>/" for sdists)
            parts = member.name.lstrip("./").split("/", 1)
            if len(parts) != 2 or parts[1] not in wanted or not member.isfile():
                continue
            fh = tar.extractfile(member)
            assert fh is not None
            found[parts[1]] = fh.read()
    lacking = sorted(wanted - found.keys())
    if lacking:
        raise AssetVerificationError(f"{pkg.package}@{pkg.version}: archive lacks {', '.join(lacking)}")
    digests = {}
    for rel, content in found.items():
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(content)
        digests[rel] = hashlib.sha256(content).hexdigest()
    return digests


def install_package(
    pkg: VendoredPackage,
    static_dir: Path = STATIC_DIR,
    fetch: Fetch = http_get,
    npm_registry: str = NPM_REGISTRY,
    pypi_index: str = PYPI_SIMPLE,
    force: bool = False,
) -> bool:
    """Install one package's files unless already present and verified.

    Returns ``True`` if something was downloaded. The archive is checked
    against the registry's published hash before anything is written; files
    go to a temporary folder that replaces the package folder at the end, so
    an interrupted install leaves no half-written package behind.
    """
    if not force and package_status(pkg, static_dir, verify=True).ok:
        return False
    label = f"{pkg.package}@{pkg.version}"
    if pkg.registry == "npm":
        source = _npm_source(pkg, fetch, npm_registry.rstrip("/"))
    elif pkg.registry == "pypi":
        source = _pypi_source(pkg, fetch, pypi_index.rstrip("/"))
    else:  # pragma: no cover - Literal guards this
        raise ValueError(f"unknown registry {pkg.registry!r}")
    data = fetch(source.url, None)
    verify_archive(data, source.hashes, label)

    final = pkg.local_dir(static_dir)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".tmp-{final.name}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        digests = _extract(pkg, data, tmp)
        stamp = {
            "package": pkg.package,
            "version": pkg.version,
            "registry": pkg.registry,
            "source": source.url,
            "archive_hashes": source.hashes,
            "files": dict(sorted(digests.items())),
        }
        (tmp / STAMP_NAME).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return True


def install(
    static_dir: Path = STATIC_DIR,
    fetch: Fetch = http_get,
    manifest: Sequence[VendoredPackage] = MANIFEST,
    log: Callable[[str], None] | None = print,
    **kwargs,
) -> list[VendoredPackage]:
    """Install every package of the manifest (idempotent); return those downloaded."""
    done = []
    for pkg in manifest:
        fetched = install_package(pkg, static_dir, fetch, **kwargs)
        if fetched:
            done.append(pkg)
        if log:
            log(f"{'installed' if fetched else 'present  '}  {pkg.package}@{pkg.version}  -> {pkg.local_dir(static_dir)}")
    return done


# ---------------------------------------------------------------------------
# Pointing folium at the local copies
# ---------------------------------------------------------------------------


def _resolve(dotted: str) -> type:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def local_links(
    url_prefix: str = STATIC_URL_PREFIX, manifest: Sequence[VendoredPackage] = MANIFEST
) -> dict[str, dict[Kind, dict[str, str]]]:
    """``{class: {"js"|"css": {key: absolute local URL}}}`` from the manifest."""
    out: dict[str, dict[Kind, dict[str, str]]] = {}
    for pkg in manifest:
        for f in pkg.files:
            for r in f.replaces:
                out.setdefault(r.cls, {"js": {}, "css": {}})[r.kind][r.key] = pkg.url(f.path, url_prefix)
    return out


def is_remote(url: str) -> bool:
    """Whether a src/href leaves the serving host (absolute http(s) or protocol-relative)."""
    u = url.strip().lower()
    return u.startswith(("http://", "https://", "//"))


def _relinked(cls_name: str, kind: Kind, current: Iterable[tuple[str, str]], local: dict[str, str]) -> list[tuple[str, str]]:
    current = list(current)
    keys = {name for name, _ in current}
    unknown = sorted(set(local) - keys)
    if unknown:
        raise ManifestMismatch(f"{cls_name}.default_{kind} has no entry {unknown}: update layers/assets.py MANIFEST")
    out = []
    for name, url in current:
        new = local.get(name, url)
        if is_remote(new):
            raise ManifestMismatch(
                f"{cls_name}.default_{kind} entry {name!r} has no local copy in layers/assets.py MANIFEST"
            )
        out.append((name, new))
    return out


def use_local_assets(
    static_dir: Path = STATIC_DIR,
    url_prefix: str = STATIC_URL_PREFIX,
    manifest: Sequence[VendoredPackage] = MANIFEST,
) -> None:
    """Point folium's class-level asset lists at the vendored copies (idempotent).

    Rewrites ``default_js``/``default_css`` of ``folium.Map`` (and folium's
    module-level lists it shares) and of each plugin class in the manifest to
    absolute ``/app/static/vendor/...`` URLs. Call it before building maps.

    Raises
    ------
    AssetsMissing
        if a vendored file is not on disk (run ``python -m layers.assets install``).
    ManifestMismatch
        if folium lists an asset the manifest does not cover, or the reverse.
    """
    problems = missing(static_dir, verify=False, manifest=manifest)
    if problems:
        raise AssetsMissing(problems)
    import folium.folium

    links = local_links(url_prefix, manifest)
    new_lists: dict[type, dict[Kind, list[tuple[str, str]]]] = {}
    for cls_name, by_kind in links.items():  # check everything before changing anything
        cls = _resolve(cls_name)
        new_lists[cls] = {
            "js": _relinked(cls_name, "js", cls.default_js, by_kind["js"]),
            "css": _relinked(cls_name, "css", cls.default_css, by_kind["css"]),
        }
    for cls, lists in new_lists.items():
        cls.default_js = lists["js"]
        cls.default_css = lists["css"]
        if cls is folium.Map:
            # folium keeps Map's lists as module variables "for backwards compatibility"
            folium.folium._default_js[:] = lists["js"]
            folium.folium._default_css[:] = lists["css"]


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

_USAGE = f"""usage: python -m layers.assets install|status|list

  install   download the vendored map assets into {STATIC_DIR / VENDOR_SUBDIR} (skips what is present and verified)
  status    report what is missing (exit 1 if anything is)
  list      print the manifest
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m layers.assets``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["install"]:
        try:
            install()
        except (AssetVerificationError, urllib.error.URLError, OSError) as exc:
            print(f"install failed: {exc}", file=sys.stderr)
            return 1
        problems = missing()
        for p in problems:
            print(f"still missing: {p}", file=sys.stderr)
        return 1 if problems else 0
    if args == ["status"]:
        problems = missing()
        for s in status():
            print(f"{'ok     ' if s.ok else 'MISSING'}  {s.package.package}@{s.package.version}")
            for p in s.problems:
                print(f"         {p}")
        if problems:
            print(f"run `{INSTALL_COMMAND}`")
        return 1 if problems else 0
    if args == ["list"]:
        for pkg in MANIFEST:
            print(f"{pkg.registry}:{pkg.package}@{pkg.version}" + (f"  ({pkg.note})" if pkg.note else ""))
            for f in pkg.files:
                repl = ", ".join(f"{r.cls}.default_{r.kind}[{r.key}]" for r in f.replaces)
                print(f"    {f.path}" + (f"  <- {repl}" if repl else ""))
        return 0
    print(_USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
