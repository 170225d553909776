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
after filling (the face models are loaded in a child process, so they are not counted).
A second line on standard error gives the query count, the median, the p95 of the CPU
time of one query (the machine's other work does not count in it), the load average
and how often a person's second photo found their enrolled first photo.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import psutil  # noqa: E402

from certify.identity_index import IdentityIndex, SearchScope  # noqa: E402
from certify.templates import protect, template_matrix  # noqa: E402

__all__ = ["main", "people_embeddings", "build", "timed", "widest_nearest", "run", "Dataset", "GENUINE_NOISE", "PROVINCES"]

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


@dataclass
class Dataset:
    """The filled index and the queries of one bench run."""

    index: IdentityIndex
    probes: np.ndarray
    """Protected query templates: the people's further photos first, then moved filler rows."""
    owners: list[int]
    """For each of the further photos (the first len(owners) probes), its person's row."""
    rss_mib: float


def build(*, vectors: int, queries: int, data_dir: str, filler: str, seed: int = 0) -> Dataset:
    """Fill an index with `vectors` protected templates and make the queries."""
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
    counties = rng.integers(1, PROVINCES + 1, size=vectors) * 10000 + 101 + rng.integers(0, 5, size=vectors)
    synthetic = max(queries - len(second), 0)
    picked = np.sort(rng.choice(np.arange(len(enrolled), vectors), size=synthetic, replace=False))
    bases = []
    for start in range(0, vectors, chunk):
        end = min(start + chunk, vectors)
        if start == 0:
            block = np.concatenate([enrolled, _filler(rng, end - len(enrolled), enrolled, filler)])
        else:
            block = _filler(rng, end - start, enrolled, filler)
        templates = protect(block, matrix).astype(np.float32)
        chosen = picked[(picked >= start) & (picked < end)]
        bases.extend(templates[chosen - start].astype(np.float64))
        index.add(
            keys=range(start, end), templates=templates, owners=range(start, end),
            region_codes=[f"{c:06d}" for c in counties[start:end]], labels=["full"] * (end - start),
        )
    index.fit_projection()
    rss_mib = psutil.Process().memory_info().rss / 2**20
    noise = rng.standard_normal((len(bases), enrolled.shape[1]))
    noise *= GENUINE_NOISE / np.linalg.norm(noise, axis=1, keepdims=True)
    probes = np.array([protect(p, matrix) for _, p in second] + [b + protect(n, matrix) for b, n in zip(bases, noise, strict=True)])
    return Dataset(index=index, probes=probes, owners=[owner for owner, _ in second], rss_mib=rss_mib)


def timed(search, probes: np.ndarray) -> tuple[list[int], list[float], list[float]]:
    """Run `search(probe) -> key` on every probe: keys found, wall and CPU milliseconds."""
    times_ms, cpu_ms, found = [], [], []
    for probe in probes:
        started, started_cpu = time.perf_counter(), time.thread_time()
        key = search(probe)
        times_ms.append((time.perf_counter() - started) * 1000.0)
        cpu_ms.append((time.thread_time() - started_cpu) * 1000.0)
        found.append(key)
    return found, times_ms, cpu_ms


def widest_nearest(index: IdentityIndex) -> Callable[[np.ndarray], int]:
    """The key of the index's nearest row to a probe, searched everywhere (-1: none)."""

    def nearest(probe: np.ndarray) -> int:
        hits = index.search(probe, region_code="110101", scope=SearchScope.ALL, k=1)
        return int(hits[0].key) if hits else -1

    return nearest


def run(*, vectors: int, queries: int, data_dir: str, filler: str, seed: int = 0) -> dict[str, float]:
    data = build(vectors=vectors, queries=queries, data_dir=data_dir, filler=filler, seed=seed)
    found, times_ms, cpu_ms = timed(widest_nearest(data.index), data.probes)
    exact = data.index.exact_nearest(data.probes)
    return {
        "vectors": vectors,
        "p95_ms": float(np.percentile(times_ms, 95)),
        "p50_ms": float(np.percentile(times_ms, 50)),
        "cpu_p95_ms": float(np.percentile(cpu_ms, 95)),
        "load_1m": os.getloadavg()[0],
        "recall_at_1": float(np.mean([a == b for a, b in zip(found, exact, strict=True)])),
        "rss_mib": data.rss_mib,
        "queries": len(data.probes),
        "genuine_found": float(np.mean([found[i] == owner for i, owner in enumerate(data.owners)]))
        if data.owners else 0.0,
    }


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
    print(
        f"queries={result['queries']} p50_ms={result['p50_ms']:.1f} cpu_p95_ms={result['cpu_p95_ms']:.1f} "
        f"load_1m={result['load_1m']:.1f} "
        f"real_second_photos_found={result['genuine_found']:.3f}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
