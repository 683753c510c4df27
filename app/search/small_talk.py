"""Small talk in a complaint, told by meaning.

A customer pads a call with talk of the weather, a child's exams or a sick cat ("天热死了…说回正事，你们装宽带
把我家墙打坏了"). `match` judges the whole query, and when the small talk outweighs the complaint it
finds no telecom matter and offers general scripts instead of the complaint's own (docs/evaluation.md,
"Nothing fits"). Judged again without the clauses that are small talk, the complaint is what is left; when
it fits well, its fit is the query's. A rest that fits only partly changes nothing: a complaint about a gym
reads as a partial fit once its small talk is gone.

A clause is small talk when its NEIGHBOURS nearest lines of small talk (corpus/small-talk.txt) are nearer, by
more than MARGIN on the mean cosine, than its nearest lines of the other side: what customers say about a matter
(the scenarios' sayings), about themselves as part of it (corpus/small-talk-look-alikes.txt: a parent who
cannot use a smartphone, leave taken to wait for a technician), and the authored queries of other trades and
of uncovered telecom matters, so that a complaint about a gym or a bank is never left out as small talk.
Nearest neighbours, as the threat reader does (threat_neighbours.py): a handful of authored lines per register
reads unseen ones, and no single line decides.
"""

import numpy as np

from app.search.collection import Collection

NEIGHBOURS = 5
# The lowest margin, in steps of 0.02, at which no query of other trades in eval/out-of-scope.jsonl or
# corpus/elsewhere-queries.txt loses its `none` (docs/evaluation.md, "Small talk left out").
MARGIN = 0.02


def small_talk(collections: dict[str, Collection], vectors: np.ndarray) -> np.ndarray:
    """For each query vector (a clause's): whether it is small talk."""
    matter = [collections["not-small-talk"], collections["exemplars"]]
    return _nearest_mean([collections["small-talk"]], vectors) - _nearest_mean(matter, vectors) > MARGIN


def _nearest_mean(collections: list[Collection], vectors: np.ndarray) -> np.ndarray:
    """The mean cosine of each vector with its NEIGHBOURS nearest lines of the collections together."""
    scores = np.hstack([c.dense.nearest(vectors, NEIGHBOURS) for c in collections if len(c)])
    return np.sort(scores, axis=1)[:, -NEIGHBOURS:].mean(axis=1)
