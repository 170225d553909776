"""The identity index against approximate-nearest-neighbour libraries, on the same data.

    PYTHONPATH=. python bench/identity_index_compare.py [--vectors 1000000] [--data ../shared/data]

Why certify's index is NumPy (README, "Identity search"): this fills the same protected
templates and asks the same queries as bench/identity_search.py, then builds each library
that is installed over the same rows and prints, per index, the build time (every core),
one query's p95 on one thread, recall@1 against exact search and the memory the index
added. The libraries are not project dependencies; install them to compare:
`pip install faiss-cpu usearch hnswlib` (a library that is missing is skipped and named).
The widest scope only (no region filter), which is the hardest case for the NumPy index
and the easiest for a graph.
"""

from __future__ import annotations

import os
import sys

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import psutil  # noqa: E402

from bench.identity_search import build, timed, widest_nearest  # noqa: E402

__all__ = ["main"]

HNSW_M = 32
"""Graph degree for the HNSW indexes (a common default for 128-d vectors)."""
EF_SEARCH = 128
EF_CONSTRUCTION = 128


def _rss() -> float:
    return psutil.Process().memory_info().rss / 2**20


def _faiss_hnsw(rows: np.ndarray) -> Callable[[np.ndarray], int]:
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    index = faiss.IndexHNSWFlat(rows.shape[1], HNSW_M)
    index.hnsw.efConstruction = EF_CONSTRUCTION
    index.add(rows)
    index.hnsw.efSearch = EF_SEARCH
    faiss.omp_set_num_threads(1)
    return lambda probe: int(index.search(probe[None, :].astype(np.float32), 1)[1][0, 0])


def _usearch(rows: np.ndarray) -> Callable[[np.ndarray], int]:
    from usearch.index import Index

    index = Index(ndim=rows.shape[1], metric="l2sq", dtype="f32", connectivity=HNSW_M,
                  expansion_add=EF_CONSTRUCTION, expansion_search=EF_SEARCH)
    index.add(np.arange(len(rows)), rows, threads=os.cpu_count() or 1)
    return lambda probe: int(index.search(probe.astype(np.float32), 1, threads=1).keys[0])


def _hnswlib(rows: np.ndarray) -> Callable[[np.ndarray], int]:
    import hnswlib

    index = hnswlib.Index(space="l2", dim=rows.shape[1])
    index.init_index(max_elements=len(rows), M=HNSW_M, ef_construction=EF_CONSTRUCTION)
    index.add_items(rows, np.arange(len(rows)), num_threads=os.cpu_count() or 1)
    index.set_ef(EF_SEARCH)
    index.set_num_threads(1)
    return lambda probe: int(index.knn_query(probe[None, :].astype(np.float32), k=1)[0][0, 0])


LIBRARIES: dict[str, Callable[[np.ndarray], Callable[[np.ndarray], int]]] = {
    "faiss_hnsw": _faiss_hnsw, "usearch_hnsw": _usearch, "hnswlib": _hnswlib,
}


def _line(name: str, build_s: float, found: list, times: list[float], exact: list, added_mib: float) -> str:
    recall = float(np.mean([a == b for a, b in zip(found, exact, strict=True)]))
    return (f"index={name} build_s={build_s:.1f} p50_ms={np.percentile(times, 50):.2f} "
            f"p95_ms={np.percentile(times, 95):.2f} recall_at_1={recall:.3f} added_mib={added_mib:.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vectors", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--data", default=os.environ.get("CERTIFY_DATA_DIR", "../shared/data"))
    args = parser.parse_args(argv)
    before = _rss()
    started = time.perf_counter()
    data = build(vectors=args.vectors, queries=args.queries, data_dir=args.data, filler="face")
    numpy_build_s = time.perf_counter() - started
    exact = data.index.exact_nearest(data.probes)
    found, times, _ = timed(widest_nearest(data.index), data.probes)
    # the NumPy build time includes making the data (filler, protection, the face models' child)
    print(_line("numpy_two_stage", numpy_build_s, found, times, exact, data.rss_mib - before))
    keys, rows = data.index.rows()
    row_keys = np.asarray(keys)
    for name, make in LIBRARIES.items():
        try:
            rss = _rss()
            started = time.perf_counter()
            nearest = make(rows)
            build_s = time.perf_counter() - started
        except ImportError:
            print(f"index={name} skipped: not installed", file=sys.stderr)
            continue
        found, times, _ = timed(lambda probe, nearest=nearest: row_keys[nearest(probe)], data.probes)
        print(_line(name, build_s, found, times, exact, _rss() - rss))
        del nearest
    print(f"vectors={args.vectors} queries={len(data.probes)} load_1m={os.getloadavg()[0]:.1f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
