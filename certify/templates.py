"""Cancellable face templates: an embedding turned by a secret random rotation.

The identity search (one face behind several pensions) compares every new face with
every other pensioner's. It does so on protected templates, never on raw embeddings:
each 128-d embedding is multiplied by a random orthogonal matrix derived from a secret
key. A rotation keeps every Euclidean distance (|Qa - Qb| = |a - b|), so the match bands
of `certify.thresholds` apply unchanged, while the stored vectors match nothing in any
other dlib system, and a leaked set is cancelled by rolling a new key (the old templates
become useless against the new ones).

The matrix comes from the key alone and forever the same way: SHAKE-256 of the key
gives a stream of uniform numbers, Box-Muller turns them into Gaussians, and the QR
decomposition of that Gaussian matrix (with the signs of R's diagonal made positive) is
a rotation drawn uniformly (Haar). No library random generator is involved, so a NumPy
upgrade cannot change the matrix.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["TEMPLATE_DIM", "template_matrix", "protect", "unprotect"]

TEMPLATE_DIM = 128
"""dlib face embeddings have 128 numbers."""

_DOMAIN = b"certify identity template v1\x00"


def template_matrix(key: bytes, *, dim: int = TEMPLATE_DIM) -> np.ndarray:
    """The secret orthogonal matrix (dim x dim, float64) of a template key."""
    if len(key) < 16:
        raise ValueError("a template key needs at least 16 bytes")
    count = dim * dim
    stream = hashlib.shake_256(_DOMAIN + key).digest(8 * count)
    words = np.frombuffer(stream, dtype="<u8")
    # 53-bit uniforms in (0, 1): never 0, so the logarithm is finite
    uniform = ((words >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)
    half = count // 2
    radius = np.sqrt(-2.0 * np.log(uniform[:half]))
    angle = 2.0 * np.pi * uniform[half : 2 * half]
    gaussian = np.concatenate([radius * np.cos(angle), radius * np.sin(angle)])
    q, r = np.linalg.qr(gaussian.reshape(dim, dim))
    return q * np.sign(np.diag(r))


def protect(embedding: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The protected template of one embedding (or of each row of a matrix)."""
    return np.asarray(embedding, dtype=np.float64) @ matrix.T


def unprotect(template: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The embedding behind a template (Q is orthogonal: its inverse is its transpose)."""
    return np.asarray(template, dtype=np.float64) @ matrix
