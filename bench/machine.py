"""The machine a benchmark ran on: CPU, cores, memory, Python and the packages that matter."""
from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("numpy", "pandas", "shapely", "geopandas", "pyproj", "folium", "streamlit", "streamlit-folium", "SQLAlchemy", "psycopg")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def machine_info() -> dict[str, Any]:
    """CPU model, cores (online and usable), RAM, load, Python, package versions, GEOS and PROJ."""
    import pyproj
    import shapely

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        load = tuple(round(v, 2) for v in os.getloadavg())
    except OSError:
        load = None
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "ram_gib": _ram_gib(),
        "load_avg_at_start": load,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PACKAGES},
        "geos": shapely.geos_version_string,
        "proj": pyproj.proj_version_str,
    }


def machine_line(info: dict[str, Any]) -> str:
    """One line for the table's header."""
    pk = info["packages"]
    parts = [
        f"{info['cpu']}, {info['cores']} cores",
        f"{info['ram_gib']} GiB RAM" if info.get("ram_gib") else None,
        f"load {info['load_avg_at_start'][0]}" if info.get("load_avg_at_start") else None,
        f"Python {info['python']}",
        f"shapely {pk['shapely']} (GEOS {info['geos']})",
        f"geopandas {pk['geopandas']}",
        f"numpy {pk['numpy']}",
        f"pandas {pk['pandas']}",
        f"pyproj {pk['pyproj']}",
        f"folium {pk['folium']}",
        f"streamlit {pk['streamlit']}",
        f"streamlit-folium {pk['streamlit-folium']}",
        info.get("database"),
    ]
    return " · ".join(p for p in parts if p)
