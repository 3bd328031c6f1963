"""Small hand-made cases shared by the metric tests.

Four users, six items, k up to 4::

    user  relevant    recs            hits (rank)
    0     {0, 2, 4}   [2, 5, 0, 1]    2 (1), 0 (3)
    1     {}          [0, 1, 2, 3]    skipped: empty truth
    2     {5}         [1, -1, -1, -1] none (padding)
    3     {1, 3}      [3, 1, -1, -1]  3 (1), 1 (2)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

N_ITEMS = 6

RECS = np.array(
    [
        [2, 5, 0, 1],
        [0, 1, 2, 3],
        [1, -1, -1, -1],
        [3, 1, -1, -1],
    ]
)

RELEVANT: list[set[int]] = [{0, 2, 4}, set(), {5}, {1, 3}]


def truth_matrix(relevant: list[set[int]], n_items: int) -> sp.csr_matrix:
    rows = [u for u, items in enumerate(relevant) for _ in items]
    cols = [i for items in relevant for i in sorted(items)]
    return sp.csr_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(len(relevant), n_items), dtype=np.float64
    )


TRUTH = truth_matrix(RELEVANT, N_ITEMS)

# The brief's single-user example: relevant {1, 3}, recs [3, 2, 1].
ONE_RECS = np.array([[3, 2, 1]])
ONE_TRUTH = truth_matrix([{1, 3}], 4)
