"""Train/test splits of usage events, per user.

Events are parallel 1-D arrays (``user_index``, ``item_index``,
``timestamp``, ...); every splitter takes the arrays it needs and returns a
boolean **train mask** of the same length (``~mask`` is the test set,
``np.flatnonzero(mask)`` the train indices). All of them are vectorised: one
sort by ``(user, key)``, then each event's rank within its user.

For a user with ``n`` events sorted by the key, event ``j`` (1-based) goes to
train when ``j / n <= ratio``, which is the rule of the ``recommenders``
package's ``python_stratified_split`` / ``python_chrono_split`` (so a user
gets ``floor(ratio * n)`` train events, up to float rounding of ``j / n``).
One deliberate difference: a user with a single event keeps it in train
(``keep_singletons=True``, the default), because a user with no history
cannot be evaluated anyway; ``recommenders`` sends it to test
(``keep_singletons=False`` reproduces that).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from recostack.errors import Invalid

__all__ = ["chronological_split", "leave_last_out", "stratified_split"]

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
IndexArray = npt.NDArray[np.signedinteger[Any]]


def stratified_split(
    user_index: npt.ArrayLike,
    ratio: float = 0.75,
    seed: int | np.random.Generator = 42,
    *,
    keep_singletons: bool = True,
) -> BoolArray:
    """Per user, a random ``ratio`` share of the user's events goes to train.

    With an ``int`` seed the random keys are drawn exactly as
    ``recommenders``' ``python_stratified_split`` draws them (legacy MT19937
    seeded with ``seed``, one uniform per event in input order), so the same
    events in the same order and the same seed give the same split (up to
    ``keep_singletons``). A ``np.random.Generator`` draws its own keys.

    >>> import numpy as np
    >>> mask = stratified_split(np.array([0, 0, 0, 0, 1, 2, 2]), 0.75, seed=7)
    >>> int(mask[:4].sum()), bool(mask[4]), int(mask[5:].sum())  # 3 of 4, singleton, 2 of 2
    (3, True, 2)
    """
    users = _check_users(user_index)
    ratio = _check_ratio(ratio)
    keys = _random_keys(users.size, seed)
    order = _order_by_user_then(users, np.argsort(keys))
    return _leading_share(users, order, ratio, keep_singletons)


def chronological_split(
    user_index: npt.ArrayLike,
    timestamp: npt.ArrayLike,
    ratio: float = 0.75,
    *,
    keep_singletons: bool = True,
) -> BoolArray:
    """Per user, the oldest ``ratio`` share of the user's events goes to train.

    Events of one user with equal timestamps keep their input order.

    >>> import numpy as np
    >>> chronological_split(np.array([0, 0, 0, 0]), np.array([4, 1, 3, 2])).tolist()
    [False, True, True, True]
    """
    users = _check_users(user_index)
    times = _check_parallel(timestamp, users, "timestamp")
    ratio = _check_ratio(ratio)
    order = _order_by_user_then(users, np.argsort(times, kind="stable"))
    return _leading_share(users, order, ratio, keep_singletons)


def leave_last_out(user_index: npt.ArrayLike, timestamp: npt.ArrayLike) -> BoolArray:
    """Per user, the latest event goes to test; a user's only event stays in train.

    When several events of a user share the latest timestamp, the last of
    them in input order is the test event.

    >>> import numpy as np
    >>> leave_last_out(np.array([0, 0, 1, 0]), np.array([5, 9, 1, 7])).tolist()
    [True, False, True, True]
    """
    users = _check_users(user_index)
    times = _check_parallel(timestamp, users, "timestamp")
    order = _order_by_user_then(users, np.argsort(times, kind="stable"))
    sorted_users = users[order]
    last = np.ones(users.size, dtype=bool)
    last[:-1] = sorted_users[1:] != sorted_users[:-1]
    _, count = _ranks_within_groups(sorted_users)
    mask = np.empty(users.size, dtype=bool)
    mask[order] = ~(last & (count > 1))
    return mask


def _order_by_user_then(users: IntArray, key_order: IndexArray) -> IndexArray:
    """The permutation sorting events by user, then by position in ``key_order``.

    ``key_order`` sorts the events by the secondary key; a stable LSD radix
    sort on the user index (16 bits a pass, numpy's radix sort for uint16)
    then groups them by user without disturbing that order. On ten million
    events this is about three times faster than ``np.lexsort``.
    """
    if users.size == 0:
        return key_order
    shifted = users - users.min()
    top = int(shifted.max())
    if top < 2**32:
        shifted = shifted.astype(np.uint32)  # halves the memory the gathers touch
    order = key_order.astype(np.int32) if users.size < 2**31 else key_order
    values = shifted[order]
    shift = 0
    while True:
        step = np.argsort((values >> shift).astype(np.uint16), kind="stable")  # low 16 bits
        order = order[step]
        shift += 16
        if top >> shift == 0:
            return order
        values = values[step]


def _leading_share(
    users: IntArray, order: IndexArray, ratio: float, keep_singletons: bool
) -> BoolArray:
    """Train mask: the first ``round(ratio * n)`` of each user's ``n`` events in ``order``.

    Rounding is numpy's (and pandas'): halves to even, the rule of the
    ``recommenders`` splitters.
    """
    rank, count = _ranks_within_groups(users[order])
    train_sorted = rank <= np.round(ratio * count)
    if keep_singletons:
        train_sorted |= count == 1
    mask = np.empty(users.size, dtype=bool)
    mask[order] = train_sorted
    return mask


def _ranks_within_groups(sorted_users: IntArray) -> tuple[IntArray, IntArray]:
    """1-based rank of each row within its run of equal users, and the run's length."""
    n = sorted_users.size
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    starts = np.flatnonzero(np.concatenate(([True], sorted_users[1:] != sorted_users[:-1])))
    lengths = np.diff(np.append(starts, n))
    rank = np.arange(1, n + 1, dtype=np.int64) - np.repeat(starts, lengths)
    return rank, np.repeat(lengths, lengths).astype(np.int64)


def _random_keys(n: int, seed: int | np.random.Generator) -> npt.NDArray[np.float64]:
    if isinstance(seed, np.random.Generator):
        return seed.random(n)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise Invalid(f"seed must be an int or a numpy Generator, got {seed!r}", field="seed")
    # Legacy MT19937 on purpose: the same draws as np.random.seed(seed); np.random.rand(n).
    return np.random.RandomState(int(seed)).random_sample(n)


def _check_users(user_index: npt.ArrayLike) -> IntArray:
    users = np.asarray(user_index)
    if users.ndim != 1:
        raise Invalid("user_index must be 1-D", field="user_index")
    if users.size and not np.issubdtype(users.dtype, np.integer):
        raise Invalid(f"user_index must hold integers, got {users.dtype}", field="user_index")
    return users.astype(np.int64, copy=False)


def _check_parallel(values: npt.ArrayLike, users: IntArray, field: str) -> npt.NDArray[np.generic]:
    arr = np.asarray(values)
    if arr.shape != users.shape:
        raise Invalid(
            f"{field} must have one value per event ({users.size}), got shape {arr.shape}",
            field=field,
        )
    return arr


def _check_ratio(ratio: float) -> float:
    is_number = isinstance(ratio, int | float | np.integer | np.floating)
    if isinstance(ratio, bool) or not is_number or not 0 < ratio < 1:
        raise Invalid(
            f"ratio must be a number strictly between 0 and 1, got {ratio!r}", field="ratio"
        )
    return float(ratio)
