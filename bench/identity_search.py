"""Identity search at scale: nearest protected templates among a million, on one core.

    PYTHONPATH=. python bench/identity_search.py --vectors 1000000 [--data ../shared/data]
    PYTHONPATH=. python bench/identity_search.py --quick

Fills a `certify.identity_index.IdentityIndex` with protected templates (each embedding
turned by the secret rotation of `certify.templates`): the real embeddings of the first
photo of every person in `<data>/people`, and filler up to `--vectors`. The filler is
either face-like (`--filler face`, the default: drawn from a Gaussian with the mean and
the covariance of the real embeddings, shrunk toward the average variance, so that the
filler crowds the region of space where faces are) or random unit vectors
(`--filler unit`, far from every face, which makes the search easy). Counties are drawn
at random over 31 provinces.

Queries, in the widest scope (`all`): every other photo of those people (a genuine
second photo), and as many filler rows moved by noise of a genuine pair's size as make
up `--queries`. Prints one line:

    identity_search vectors=N p95_ms=... recall_at_1=... rss_mib=...

p95_ms is the 95th percentile of one query's time, with every thread pool set to one
thread; recall_at_1 is how often the index's nearest row is the exact nearest row
(float64 brute force); rss_mib is this process's resident memory with the index filled
(the face models are loaded in a child process, so they are not counted).
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import psutil  # noqa: E402

from certify.identity_index import IdentityIndex, SearchScope  # noqa: E402
from certify.templates import protect, template_matrix  # noqa: E402

__all__ = ["main", "people_embeddings", "run"]

GENUINE_NOISE = 0.35
"""The length of the noise added to a filler row to make a query: about a genuine pair's
distance (dlib: same person mostly 0.3-0.45)."""

PROVINCES = 31


def people_embeddings(data_dir: str) -> dict[str, list[list[float]]]:
    """Each person's photo embeddings (photos with exactly one face), in name order."""
    from certify import check_reference_photo, load_dlib_backend, load_image

    backend = load_dlib_backend()
    found: dict[str, list[list[float]]] = {}
    for person in sorted(Path(data_dir, "people").iterdir()):
        if not person.is_dir() or person.name.startswith("_"):
            continue
        for photo in sorted(person.glob("*.jpg")):
            check = check_reference_photo(load_image(photo.read_bytes()), backend=backend)
            if check.embedding is not None:
                found.setdefault(person.name, []).append([float(x) for x in check.embedding])
    return found


def _filler(rng, count: int, real: np.ndarray, kind: str) -> np.ndarray:
    if kind == "unit":
        rows = rng.standard_normal((count, real.shape[1]))
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)
    mean = real.mean(axis=0)
    cov = np.cov(real, rowvar=False)
    shrunk = 0.5 * cov + 0.5 * np.eye(len(mean)) * np.trace(cov) / len(mean)
    return rng.multivariate_normal(mean, shrunk, size=count, method="cholesky")


def run(*, vectors: int, queries: int, data_dir: str, filler: str, seed: int = 0) -> dict[str, float]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        people = pool.apply(people_embeddings, (data_dir,))
    if not people:
        raise SystemExit(f"no people photos under {data_dir}/people")
    rng = np.random.default_rng(seed)
    matrix = template_matrix(b"bench identity search key " + bytes([seed % 256]))
    enrolled = np.array([photos[0] for photos in people.values()])
    second = [(i, np.array(p)) for i, photos in enumerate(people.values()) for p in photos[1:]]
    index = IdentityIndex()
    chunk = 100_000
    keys_done = 0
    counties = rng.integers(1, PROVINCES + 1, size=vectors) * 10000 + 101 + rng.integers(0, 5, size=vectors)
    stored = np.empty((vectors, enrolled.shape[1]), dtype=np.float32)
    for start in range(0, vectors, chunk):
        end = min(start + chunk, vectors)
        if start == 0:
            block = np.concatenate([enrolled, _filler(rng, end - len(enrolled), enrolled, filler)])
        else:
            block = _filler(rng, end - start, enrolled, filler)
        templates = protect(block, matrix).astype(np.float32)
        stored[start:end] = templates
        index.add(
            keys=range(start, end), templates=templates, owners=range(start, end),
            region_codes=[f"{c:06d}" for c in counties[start:end]], labels=["full"] * (end - start),
        )
        keys_done = end
    index.fit_projection()
    real_queries = [protect(p, matrix) for _, p in second]
    synthetic = max(queries - len(real_queries), 0)
    rows = rng.integers(len(enrolled), keys_done, size=synthetic) if keys_done > len(enrolled) else []
    noise = rng.standard_normal((synthetic, enrolled.shape[1]))
    noise *= GENUINE_NOISE / np.linalg.norm(noise, axis=1, keepdims=True)
    probes = np.array(real_queries + [stored[r].astype(np.float64) + protect(n, matrix) for r, n in zip(rows, noise, strict=True)])
    times_ms, found = [], []
    for probe in probes:
        started = time.perf_counter()
        hits = index.search(probe, region_code="110101", scope=SearchScope.ALL, k=1)
        times_ms.append((time.perf_counter() - started) * 1000.0)
        found.append(hits[0].key if hits else -1)
    exact = _exact_nearest(stored, probes)
    rss_mib = psutil.Process().memory_info().rss / 2**20
    return {
        "vectors": vectors,
        "p95_ms": float(np.percentile(times_ms, 95)),
        "recall_at_1": float(np.mean(np.array(found) == exact)),
        "rss_mib": rss_mib,
        "queries": len(probes),
    }


def _exact_nearest(stored: np.ndarray, probes: np.ndarray) -> np.ndarray:
    best = np.full(len(probes), np.inf)
    where = np.zeros(len(probes), dtype=np.int64)
    for start in range(0, len(stored), 50_000):
        block = stored[start : start + 50_000].astype(np.float64)
        d2 = (block**2).sum(axis=1)[None, :] - 2.0 * probes @ block.T + (probes**2).sum(axis=1)[:, None]
        arg = d2.argmin(axis=1)
        value = d2[np.arange(len(probes)), arg]
        better = value < best
        best[better], where[better] = value[better], arg[better] + start
    return where


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vectors", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--data", default=os.environ.get("CERTIFY_DATA_DIR", "../shared/data"))
    parser.add_argument("--filler", choices=("face", "unit"), default="face")
    parser.add_argument("--quick", action="store_true", help="100,000 vectors, 100 queries")
    args = parser.parse_args(argv)
    if args.quick:
        args.vectors, args.queries = 100_000, 100
    result = run(vectors=args.vectors, queries=args.queries, data_dir=args.data, filler=args.filler)
    print(
        f"identity_search vectors={result['vectors']} p95_ms={result['p95_ms']:.1f} "
        f"recall_at_1={result['recall_at_1']:.3f} rss_mib={result['rss_mib']:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
