"""k-means (k-means++ start, seeded) and pages filled cluster by cluster.

Clusters are found on image or text features before a model exists, and on a model's logits
once one does (logits separate the classes the labelers care about). `cluster_pages` turns
them into pages: each cluster's members, nearest its centre first, fill whole pages of their
own; what is left of each cluster (its outliers, fewer than a page) is pooled, cluster after
similar cluster, into the last pages. So most pages hold one cluster, and the mixed ones come
last.
"""

from dataclasses import dataclass

import numpy as np

from models.types import Float64Array, FloatArray, IntArray


@dataclass(frozen=True)
class KMeans:
    centres: Float64Array
    """(k, D)"""
    labels: IntArray
    """The cluster of each row."""
    distances: Float64Array
    """Each row's squared distance to its centre."""
    inertia: float
    iterations: int


def kmeans(
    x: FloatArray | Float64Array,
    k: int,
    *,
    seed: int = 0,
    max_iter: int = 100,
    tol: float = 1e-6,
) -> KMeans:
    """Lloyd's algorithm from a k-means++ start; an emptied cluster takes the farthest row."""
    data = np.asarray(x, dtype=np.float64)
    if data.ndim != 2 or len(data) == 0:
        raise ValueError(f"k-means needs a non-empty (N, D) matrix, got shape {data.shape}")
    if not 1 <= k <= len(data):
        raise ValueError(f"k must be between 1 and the number of rows ({len(data)}), got {k}")
    rng = np.random.default_rng(seed)
    norms = np.einsum("ij,ij->i", data, data)
    centres = _plus_plus(data, norms, k, rng)
    labels = np.zeros(len(data), dtype=np.int64)
    dist = np.zeros(len(data))
    iteration = 0
    for iteration in range(1, max_iter + 1):  # noqa: B007 - the count is returned
        labels, dist = _assign(data, norms, centres)
        new = np.zeros_like(centres)
        np.add.at(new, labels, data)
        counts = np.bincount(labels, minlength=k)
        for empty in np.flatnonzero(counts == 0):
            far = int(np.argmax(dist))
            new[empty], counts[empty], dist[far] = data[far], 1, 0.0
        new /= counts[:, None]
        shift = float(np.sum((new - centres) ** 2))
        centres = new
        if shift <= tol * float(np.mean(norms) + 1e-12):
            break
    labels, dist = _assign(data, norms, centres)
    return KMeans(centres, labels, dist, float(dist.sum()), iteration)


def suggest_k(n_items: int, page_size: int, pages_per_cluster: int = 4) -> int:
    """Enough clusters that each fills a few pages: purer pages than one cluster per class."""
    return max(1, min(n_items, round(n_items / (page_size * pages_per_cluster))))


def fill_pages(result: KMeans, page_size: int) -> list[list[int]]:
    """Row indices in pages of `page_size`, cluster by cluster (see the module docstring)."""
    if page_size < 1:
        raise ValueError(f"page size must be at least 1, got {page_size}")
    pages: list[list[int]] = []
    leftovers: list[int] = []
    for cluster in _cluster_order(result):
        members = np.flatnonzero(result.labels == cluster)
        members = members[np.argsort(result.distances[members], kind="stable")]
        whole = len(members) - len(members) % page_size
        pages.extend(members[i : i + page_size].tolist() for i in range(0, whole, page_size))
        leftovers.extend(members[whole:].tolist())
    pages.extend(leftovers[i : i + page_size] for i in range(0, len(leftovers), page_size))
    return pages


def cluster_pages(
    x: FloatArray | Float64Array, page_size: int, *, k: int | None = None, seed: int = 0
) -> list[list[int]]:
    """k-means on the rows of `x`, then `fill_pages`."""
    k = suggest_k(len(x), page_size) if k is None else k
    return fill_pages(kmeans(x, k, seed=seed), page_size)


def page_purity(pages: list[list[int]], classes: IntArray) -> float:
    """Mean over pages of the share of the page's most common class."""
    if not pages:
        return 1.0
    shares = [np.bincount(classes[page]).max() / len(page) for page in pages if page]
    return float(np.mean(shares))


def _plus_plus(
    data: Float64Array, norms: Float64Array, k: int, rng: np.random.Generator
) -> Float64Array:
    centres = np.empty((k, data.shape[1]))
    centres[0] = data[rng.integers(len(data))]
    closest = np.maximum(norms - 2 * data @ centres[0] + centres[0] @ centres[0], 0)
    for i in range(1, k):
        total = float(closest.sum())
        if total <= 0:  # fewer distinct rows than k: repeat one, k-means empties and refills it
            centres[i] = data[rng.integers(len(data))]
            continue
        pick = int(np.searchsorted(np.cumsum(closest), rng.random() * total))
        centres[i] = data[min(pick, len(data) - 1)]
        d = np.maximum(norms - 2 * data @ centres[i] + centres[i] @ centres[i], 0)
        closest = np.minimum(closest, d)
    return centres


def _assign(
    data: Float64Array, norms: Float64Array, centres: Float64Array
) -> tuple[IntArray, Float64Array]:
    d = norms[:, None] - 2 * data @ centres.T + np.einsum("ij,ij->i", centres, centres)[None, :]
    labels = d.argmin(axis=1).astype(np.int64)
    return labels, np.maximum(d[np.arange(len(data)), labels], 0.0)


def _cluster_order(result: KMeans) -> list[int]:
    """Largest cluster first, then each time the unvisited cluster nearest the last one."""
    counts = np.bincount(result.labels, minlength=len(result.centres))
    remaining = [int(c) for c in np.flatnonzero(counts)]
    if not remaining:
        return []
    current = max(remaining, key=lambda c: (counts[c], -c))
    order = [current]
    remaining.remove(current)
    while remaining:
        gaps = np.sum((result.centres[remaining] - result.centres[current]) ** 2, axis=1)
        current = remaining[int(np.argmin(gaps))]
        order.append(current)
        remaining.remove(current)
    return order
