"""Proposal categories, from ``data/categories.csv``."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from settings import DATA_DIR


@dataclass(frozen=True)
class Category:
    code: str
    ko: str
    en: str
    colour: str

    def label(self, lang: str = "ko") -> str:
        return self.en if lang == "en" else self.ko


@lru_cache(maxsize=1)
def categories() -> tuple[Category, ...]:
    """All categories in display order."""
    df = pd.read_csv(DATA_DIR / "categories.csv", dtype=str)
    return tuple(Category(**row) for row in df.to_dict("records"))


def category_codes() -> tuple[str, ...]:
    return tuple(c.code for c in categories())
