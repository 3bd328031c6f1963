"""Bundled public data sets, read from the wheels that ship them.

MovieLens 100K ships inside the ``recbole`` wheel
(``recbole/dataset_example/ml-100k/``). :func:`movielens_100k` downloads that
wheel once with ``pip download --no-deps`` into a cache folder outside the
repository (``RECOSTACK_CACHE_DIR``, default ``~/.cache/recostack``) and reads
the files straight from the zip.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recostack.errors import NotFound

__all__ = ["MovieLens", "cache_dir", "movielens_100k", "movielens_100k_files"]

RECBOLE_VERSION = "1.2.1"
_ML_PREFIX = "recbole/dataset_example/ml-100k/"


def cache_dir() -> Path:
    root = os.environ.get("RECOSTACK_CACHE_DIR") or str(Path.home() / ".cache" / "recostack")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _wheel(package: str, version: str) -> Path:
    folder = cache_dir() / "wheels"
    folder.mkdir(parents=True, exist_ok=True)
    found = sorted(folder.glob(f"{package}-{version}-*.whl"))
    if found:
        return found[0]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(folder)]
    result = subprocess.run([*cmd, f"{package}=={version}"], capture_output=True, text=True)
    found = sorted(folder.glob(f"{package}-{version}-*.whl"))
    if result.returncode != 0 or not found:
        raise NotFound(
            f"could not download the {package} {version} wheel that carries the data set: "
            + (result.stderr.strip().splitlines() or ["no output"])[-1]
        )
    return found[0]


@dataclass(frozen=True)
class MovieLens:
    """MovieLens 100K: ratings and movies as data frames."""

    ratings: pd.DataFrame  # user_id, item_id (str), rating (float), timestamp (int seconds)
    movies: pd.DataFrame  # item_id, title, year, genres (list of str)


def movielens_100k() -> MovieLens:
    with zipfile.ZipFile(_wheel("recbole", RECBOLE_VERSION)) as z:
        inter = z.read(_ML_PREFIX + "ml-100k.inter").decode("utf-8")
        item = z.read(_ML_PREFIX + "ml-100k.item").decode("latin-1")
    ratings = pd.read_csv(io.StringIO(inter), sep="\t", dtype=str)
    ratings.columns = ["user_id", "item_id", "rating", "timestamp"]
    ratings["rating"] = ratings["rating"].astype(np.float32)
    ratings["timestamp"] = ratings["timestamp"].astype(float).astype(np.int64)
    movies = pd.read_csv(io.StringIO(item), sep="\t", dtype=str, keep_default_na=False)
    movies.columns = ["item_id", "title", "year", "genres"]
    movies["genres"] = movies["genres"].str.split(" ")
    return MovieLens(ratings, movies)


def movielens_100k_files(dest_dir: Path) -> dict[str, Path]:
    """Write MovieLens 100K in Recostack's input formats; returns their paths.

    ``usage.csv``: ``user,item,time,,rating`` (ratings as custom weights);
    ``catalog.csv``: ``item,title,first genre,,year=...,genre_X=yes...``.
    Also a chronological 90/10 split per user as ``train.csv`` / ``test.csv``.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    ml = movielens_100k()
    r = ml.ratings.sort_values(["timestamp", "user_id"], kind="stable")
    times = pd.to_datetime(r["timestamp"], unit="s").dt.strftime("%Y-%m-%dT%H:%M:%S")
    lines = (
        "u"
        + r["user_id"]
        + ",m"
        + r["item_id"]
        + ","
        + times
        + ",,"
        + r["rating"].map("{:g}".format)
    )
    usage = dest_dir / "usage.csv"
    usage.write_text("\n".join(lines) + "\n")
    rank = r.groupby("user_id").cumcount(ascending=False)
    size = r.groupby("user_id")["item_id"].transform("size")
    is_test = rank < np.maximum(1, (size * 0.1).round()).astype(int)
    (dest_dir / "train.csv").write_text("\n".join(lines[~is_test.to_numpy()]) + "\n")
    (dest_dir / "test.csv").write_text("\n".join(lines[is_test.to_numpy()]) + "\n")
    rows: list[str] = []
    movies = ml.movies
    for item_id, raw_title, year, genre_list in zip(
        movies["item_id"].tolist(),
        movies["title"].tolist(),
        movies["year"].tolist(),
        movies["genres"].tolist(),
        strict=True,
    ):
        title = str(raw_title).replace(",", " ").replace('"', "")
        genres = [str(g) for g in genre_list if g]
        year_text = str(year)
        feats = [f"decade={year_text[:3]}0s"] if year_text.isdigit() else []
        feats += [f"genre_{g.replace(chr(39), '').replace('-', '')}=yes" for g in genres][:19]
        category = genres[0] if genres else ""
        rows.append(",".join([f"m{item_id}", title, category, "", *feats]))
    catalog = dest_dir / "catalog.csv"
    catalog.write_text("\n".join(rows) + "\n")
    return {
        "usage": usage,
        "catalog": catalog,
        "train": dest_dir / "train.csv",
        "test": dest_dir / "test.csv",
    }
