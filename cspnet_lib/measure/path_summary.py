"""Three numbers for one ``PathGradients``: how alike the paths are, and what the bypass carries.

Chapters 2 and 3 compare DenseNet's and CSPDenseNet's stage 0 with these: the mean cosine
similarity over every path, the same over the block's own paths (the bypass left out: it is
orthogonal to them by construction, so it lowers the first number mechanically), and the share
of the squared gradient norm that arrives by the bypass.
"""

from __future__ import annotations

from typing import NamedTuple

from .gradients import PathGradients, cosine_matrix, mean_similarity


class PathSummary(NamedTuple):
    """``every``: mean cosine over all paths; ``own``: over the block's own paths (the bypass
    left out); ``bypass_share``: |g_bypass|^2 / |g|^2, 0.0 without a bypass."""

    every: float
    own: float
    bypass_share: float


def path_summary(paths: PathGradients) -> PathSummary:
    """Summarise ``paths`` (P paths, the bypass first if it has one): see ``PathSummary``.

    A ``PathSummary`` is a tuple: ``every, own, share = path_summary(paths)``, and
    ``path_summary(paths)[:2]`` is the (every, own) pair.
    """
    if not isinstance(paths, PathGradients):
        raise TypeError(f"paths must be a PathGradients (from path_gradients or "
                        f"network_path_gradients), got {type(paths).__name__}")
    matrix = cosine_matrix(paths.vectors)  # (P, P)
    own = 1 if paths.names[0].startswith("bypass") else 0
    share = float(paths.vectors[0].square().sum() / paths.total.square().sum()) if own else 0.0
    return PathSummary(mean_similarity(matrix), mean_similarity(matrix[own:, own:]), share)
