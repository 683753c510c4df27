"""Fusion of the dense and sparse channels.

Convex combination of per-query min-max normalised scores. Reciprocal rank fusion throws the
score gaps away; here they matter: a BM25 hit on a rare domain word (霸王条款, 达量降速) is far
above the rest, while e5 cosines crowd into a narrow band. A document missing from one
channel's candidates gets 0 from it.
"""


def min_max(scores: dict[int, float]) -> dict[int, float]:
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high - low < 1e-9:
        return {i: 1.0 for i in scores}
    return {i: (s - low) / (high - low) for i, s in scores.items()}


def fuse(dense: dict[int, float], sparse: dict[int, float], dense_weight: float) -> dict[int, float]:
    dense_n, sparse_n = min_max(dense), min_max(sparse)
    return {
        i: dense_weight * dense_n.get(i, 0.0) + (1.0 - dense_weight) * sparse_n.get(i, 0.0)
        for i in dense_n.keys() | sparse_n.keys()
    }
