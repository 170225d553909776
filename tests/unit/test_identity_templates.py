"""Protected templates (certify.templates) and the region-partitioned index
(certify.identity_index) on plain numbers."""

from __future__ import annotations

import numpy as np
import pytest

from certify.identity_index import IdentityIndex, SearchScope
from certify.templates import protect, template_matrix, unprotect


def test_template_matrix_is_a_rotation_fixed_by_its_key():
    q = template_matrix(b"k" * 32)
    assert q.shape == (128, 128)
    assert np.allclose(q @ q.T, np.eye(128), atol=1e-12)
    assert np.array_equal(q, template_matrix(b"k" * 32))
    other = template_matrix(b"j" * 32)
    assert not np.allclose(q, other)
    with pytest.raises(ValueError):
        template_matrix(b"short")


def test_protection_keeps_distances_and_hides_the_embedding():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=128) * 0.1, rng.normal(size=128) * 0.1
    q = template_matrix(b"secret key for the test 12345678")
    ta, tb = protect(a, q), protect(b, q)
    assert np.linalg.norm(ta - tb) == pytest.approx(np.linalg.norm(a - b), abs=1e-12)
    assert np.allclose(unprotect(ta, q), a)
    # under another key the same face is far from its first template: cancelled
    assert np.linalg.norm(protect(a, template_matrix(b"a new key for the test 87654321")) - ta) > 0.5


def _filled(n: int, **options) -> tuple[IdentityIndex, np.ndarray, list[str]]:
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(n, 128)).astype(np.float32)
    regions = [f"{p:02d}{c:02d}01" for p, c in zip(rng.integers(11, 15, n), rng.integers(1, 3, n), strict=True)]
    index = IdentityIndex(**options)
    index.add(keys=list(range(n)), templates=vectors, owners=[i // 2 for i in range(n)], region_codes=regions,
              labels=["full"] * n, t_s=list(range(n)))
    return index, vectors, regions


def test_scopes_widen_from_county_to_everywhere():
    index, vectors, regions = _filled(400)
    probe = vectors[10] + 0.01
    assert index.search(probe, region_code=regions[10], scope=SearchScope.COUNTY, k=1)[0].key == 10
    elsewhere = next(r for r in set(regions) if r[:2] != regions[10][:2])
    assert all(h.key != 10 for h in index.search(probe, region_code=elsewhere, scope=SearchScope.PROVINCE, k=3))
    found = index.search(probe, region_code=elsewhere, scope=SearchScope.ALL, k=1)[0]
    assert found.key == 10 and found.region_code == regions[10] and found.distance < 0.2
    county = index.search(probe, region_code=regions[10], scope=SearchScope.COUNTY, k=50)
    assert {h.region_code for h in county} == {regions[10]}


def test_owner_and_age_filters():
    index, vectors, regions = _filled(400)
    probe = vectors[10] + 0.01
    hits = index.search(probe, region_code=regions[10], scope=SearchScope.ALL, k=3, exclude_owner=5)
    assert all(h.owner != 5 for h in hits)
    assert all(h.t_s >= 200 for h in index.search(probe, region_code=regions[10], scope=SearchScope.ALL, k=5,
                                                   since_s=200))
    assert index.add(keys=[10], templates=vectors[:1], owners=[0], region_codes=[regions[0]], labels=["full"]) == 0


def test_two_stage_search_finds_the_exact_nearest():
    index, vectors, regions = _filled(3000, exact_below=1000, reduced_dim=32, candidates=64)
    rng = np.random.default_rng(3)
    for row in rng.integers(0, 3000, 30):
        probe = vectors[row] + rng.normal(size=128).astype(np.float32) * 0.05
        exact = int(np.argmin(((vectors - probe) ** 2).sum(axis=1)))
        hit = index.search(probe, region_code="110101", scope=SearchScope.ALL, k=1)[0]
        assert hit.key == exact
        assert hit.distance == pytest.approx(float(np.linalg.norm(vectors[exact] - probe)), rel=1e-5)


def test_an_empty_or_fully_excluded_search_finds_nothing():
    index = IdentityIndex()
    assert index.search(np.zeros(128), region_code="110105", scope=SearchScope.ALL) == []
    index.add(keys=["a"], templates=np.ones((1, 128)), owners=["p"], region_codes=["110105"], labels=["full"])
    assert index.search(np.ones(128), region_code="110105", scope=SearchScope.ALL, exclude_owner="p") == []
    assert index.search(np.ones(128), region_code="110105", scope=SearchScope.COUNTY)[0].key == "a"
