"""An in-memory nearest-face index over protected templates, partitioned by region.

Rows live in one partition per province (the first two digits of a six-digit division
code). A search names the region of the face being checked and a scope:

    county    exact distances over the rows of that county (a mask of the province)
    province  exact distances over the province's partition
    all       every partition; exact while the index is small (`exact_below` rows),
              otherwise two stages: a first pass on a reduced projection (the top
              `reduced_dim` principal axes of the stored templates) keeps the
              `candidates` nearest rows of each partition, then they are re-ranked by
              their exact 128-d distance

Measured with `bench/identity_search.py` (README, "Identity search"): plain NumPy brute
force over a million rows costs about 60 ms a query on one core; the two-stage pass
keeps recall@1 against exact search while reading a quarter of the numbers.

The index holds what the database holds (it is rebuilt from it and fed the new rows);
it knows nothing of statuses: callers check each hit against the database.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

__all__ = ["IdentityIndex", "SearchScope", "Hit", "SCOPES_WIDENING"]


class SearchScope(StrEnum):
    COUNTY = "county"
    PROVINCE = "province"
    ALL = "all"


SCOPES_WIDENING = (SearchScope.COUNTY, SearchScope.PROVINCE, SearchScope.ALL)
"""The order scopes are searched in, nearest first."""


@dataclass(frozen=True, slots=True)
class Hit:
    """One stored row near the query: its key, its owner, its label and its distance."""

    key: Hashable
    owner: Hashable
    label: str
    distance: float
    region_code: str
    t_s: float


class _Partition:
    """The rows of one province, in growable arrays."""

    def __init__(self, dim: int, reduced_dim: int) -> None:
        self.n = 0
        self.full = np.empty((16, dim), dtype=np.float32)
        self.full_sq = np.empty(16, dtype=np.float32)
        self.low = np.empty((16, reduced_dim), dtype=np.float32)
        self.low_sq = np.empty(16, dtype=np.float32)
        self.county = np.empty(16, dtype=np.int32)
        self.owner = np.empty(16, dtype=np.int64)
        self.label = np.empty(16, dtype=np.int16)
        self.t_s = np.empty(16, dtype=np.float64)
        self.keys: list[Hashable] = []

    def _grow(self, needed: int) -> None:
        capacity = len(self.full_sq)
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        for name in ("full", "full_sq", "low", "low_sq", "county", "owner", "label", "t_s"):
            old = getattr(self, name)
            new = np.empty((capacity, *old.shape[1:]), dtype=old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)

    def append(self, full, low, county, owner, label, t_s, keys) -> None:
        count = len(keys)
        self._grow(self.n + count)
        end = self.n + count
        self.full[self.n : end] = full
        self.full_sq[self.n : end] = np.einsum("ij,ij->i", full, full)
        self.low[self.n : end] = low
        self.low_sq[self.n : end] = np.einsum("ij,ij->i", low, low)
        self.county[self.n : end] = county
        self.owner[self.n : end] = owner
        self.label[self.n : end] = label
        self.t_s[self.n : end] = t_s
        self.keys.extend(keys)
        self.n = end


class IdentityIndex:
    """Nearest protected templates by region; see the module docstring."""

    def __init__(
        self, *, dim: int = 128, reduced_dim: int = 32, candidates: int = 64, exact_below: int = 50_000
    ) -> None:
        self.dim = dim
        self.reduced_dim = reduced_dim
        self.candidates = candidates
        """Rows kept per partition by the reduced first pass, re-ranked exactly."""
        self.exact_below = exact_below
        """Below this many rows, scope `all` is searched exactly."""
        self._partitions: dict[int, _Partition] = {}
        self._owners: dict[Hashable, int] = {}
        self._owner_keys: list[Hashable] = []
        self._labels: dict[str, int] = {}
        self._label_names: list[str] = []
        self._keys: set[Hashable] = set()
        self._projection = np.eye(dim, reduced_dim, dtype=np.float32)
        self._fitted_at = 0

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._keys

    def add(
        self,
        *,
        keys: Sequence[Hashable],
        templates: np.ndarray,
        owners: Sequence[Hashable],
        region_codes: Sequence[str],
        labels: Sequence[str],
        t_s: Sequence[float] | None = None,
    ) -> int:
        """Add rows (a key already present is skipped); returns how many were added."""
        vectors = np.asarray(templates, dtype=np.float32).reshape(-1, self.dim)
        fresh = [i for i, key in enumerate(keys) if key not in self._keys]
        if not fresh:
            return 0
        times = np.zeros(len(keys)) if t_s is None else np.asarray(t_s, dtype=np.float64)
        counties = np.array([int(region_codes[i]) for i in fresh], dtype=np.int32)
        owner_codes = np.array([self._code(self._owners, self._owner_keys, owners[i]) for i in fresh])
        label_codes = np.array([self._code(self._labels, self._label_names, labels[i]) for i in fresh])
        chosen = vectors[fresh]
        low = chosen @ self._projection
        provinces = counties // 10000
        for province in np.unique(provinces):
            rows = np.flatnonzero(provinces == province)
            partition = self._partitions.setdefault(int(province), _Partition(self.dim, self.reduced_dim))
            partition.append(
                chosen[rows], low[rows], counties[rows], owner_codes[rows], label_codes[rows],
                times[fresh][rows], [keys[fresh[i]] for i in rows],
            )
        self._keys.update(keys[i] for i in fresh)
        if len(self) >= self.exact_below and len(self) >= 2 * max(self._fitted_at, 1):
            self.fit_projection()
        return len(fresh)

    @staticmethod
    def _code(codes: dict, names: list, value: Hashable) -> int:
        code = codes.get(value)
        if code is None:
            code = codes[value] = len(names)
            names.append(value)
        return code

    def fit_projection(self, *, sample: int = 100_000, seed: int = 0) -> None:
        """Fit the reduced first pass to the rows held: their top principal axes."""
        stacked = [p.full[: p.n] for p in self._partitions.values() if p.n]
        if not stacked:
            return
        rows = np.concatenate(stacked)
        if len(rows) > sample:
            rows = rows[np.random.default_rng(seed).choice(len(rows), sample, replace=False)]
        centred = rows.astype(np.float64) - rows.mean(axis=0)
        _, vectors = np.linalg.eigh(centred.T @ centred)
        self._projection = np.ascontiguousarray(vectors[:, ::-1][:, : self.reduced_dim], dtype=np.float32)
        for partition in self._partitions.values():
            low = partition.full[: partition.n] @ self._projection
            partition.low[: partition.n] = low
            partition.low_sq[: partition.n] = np.einsum("ij,ij->i", low, low)
        self._fitted_at = len(self)

    def search(
        self,
        template: np.ndarray,
        *,
        region_code: str,
        scope: SearchScope,
        k: int = 5,
        exclude_owner: Hashable | None = None,
        since_s: float | None = None,
    ) -> list[Hit]:
        """The `k` nearest rows within the scope around `region_code`, nearest first,
        leaving out one owner's rows and rows older than `since_s`."""
        query = np.asarray(template, dtype=np.float32).reshape(self.dim)
        county = int(region_code)
        excluded = self._owners.get(exclude_owner, -1) if exclude_owner is not None else -1
        if scope == SearchScope.ALL:
            partitions = list(self._partitions.values())
        else:
            own = self._partitions.get(county // 10000)
            partitions = [own] if own is not None else []
        reduced = scope == SearchScope.ALL and len(self) >= self.exact_below
        query_low = query @ self._projection
        take_each = self.candidates if reduced else k
        parts: list[np.ndarray] = []
        rows_of: list[np.ndarray] = []
        scores_of: list[np.ndarray] = []
        for number, partition in enumerate(partitions):
            n = partition.n
            if n == 0:
                continue
            # |x|^2 - 2 x.q (|q|^2 is the same for every row), in place: no temporaries
            scores = partition.low[:n] @ query_low if reduced else partition.full[:n] @ query
            scores *= -2.0
            scores += partition.low_sq[:n] if reduced else partition.full_sq[:n]
            if excluded >= 0:
                scores[partition.owner[:n] == excluded] = np.inf
            if scope == SearchScope.COUNTY:
                scores[partition.county[:n] != county] = np.inf
            if since_s is not None:
                scores[partition.t_s[:n] < since_s] = np.inf
            take = min(take_each, n)
            rows = np.argpartition(scores, take - 1)[:take] if take < n else np.arange(n)
            rows = rows[np.isfinite(scores[rows])]
            parts.append(np.full(len(rows), number))
            rows_of.append(rows)
            scores_of.append(scores[rows])
        if not parts:
            return []
        part_ids, rows, first = np.concatenate(parts), np.concatenate(rows_of), np.concatenate(scores_of)
        if len(first) == 0:
            return []
        if len(first) > take_each:
            keep = np.argpartition(first, take_each - 1)[:take_each]
            part_ids, rows = part_ids[keep], rows[keep]
        vectors = np.stack([partitions[p].full[r] for p, r in zip(part_ids, rows, strict=True)])
        exact = np.sqrt(np.maximum(((vectors.astype(np.float64) - query) ** 2).sum(axis=1), 0.0))
        order = np.argsort(exact)[:k]
        return [self._hit(partitions[part_ids[i]], int(rows[i]), float(exact[i])) for i in order]

    def rows(self) -> tuple[list[Hashable], np.ndarray]:
        """Every row's key and template (float32), partition after partition: what an
        outside index is filled with when it is compared with this one (bench/)."""
        keys = [key for partition in self._partitions.values() for key in partition.keys]
        templates = [partition.full[: partition.n] for partition in self._partitions.values()]
        return keys, np.concatenate(templates) if templates else np.empty((0, self.dim), np.float32)

    def exact_nearest(self, templates: np.ndarray) -> list[Hashable]:
        """The key of the exact nearest row of each template (float64 brute force over
        every partition): the reference a search's recall is measured against."""
        queries = np.asarray(templates, dtype=np.float64).reshape(-1, self.dim)
        best = np.full(len(queries), np.inf)
        found: list[Hashable] = [None] * len(queries)
        for partition in self._partitions.values():
            for start in range(0, partition.n, 50_000):
                block = partition.full[start : min(start + 50_000, partition.n)].astype(np.float64)
                d2 = (block**2).sum(axis=1)[None, :] - 2.0 * queries @ block.T
                arg = d2.argmin(axis=1)
                value = d2[np.arange(len(queries)), arg]
                for i in np.flatnonzero(value < best):
                    best[i], found[i] = value[i], partition.keys[start + int(arg[i])]
        return found

    def _hit(self, partition: _Partition, row: int, distance: float) -> Hit:
        return Hit(
            key=partition.keys[row],
            owner=self._owner_keys[int(partition.owner[row])],
            label=self._label_names[int(partition.label[row])],
            distance=distance,
            region_code=f"{int(partition.county[row]):06d}",
            t_s=float(partition.t_s[row]),
        )
