"""Keeping generated weights across no-grad calls, for rollouts and acting.

Generated weights depend only on a robot's morphology row and on the network's parameters, so
during rollouts they are the same call after call. The cache keys entries by the bytes of the
morphology row and drops everything as soon as any parameter changes, which it detects from the
parameters' version counters (bumped by every in-place update: optimizer steps,
``load_state_dict``, ``copy_`` under ``no_grad``) and storage addresses (changed by ``.to()``).
Writes through ``param.data`` bypass version counters; call ``clear`` after those.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import torch
from torch import Tensor, nn

W = TypeVar("W", bound=tuple[Any, ...])


def take(weights: W, index: int) -> W:
    """Robot ``index`` of per-robot weights (a NamedTuple of (U, ...) tensors or None)."""
    return type(weights)(*(None if t is None else t[index : index + 1] for t in weights))


def concat(parts: Sequence[W]) -> W:
    """Stack single-robot weights along the robot axis."""
    fields = zip(*parts, strict=True)
    return type(parts[0])(*(None if f[0] is None else torch.cat(f) for f in fields))


class GeneratedWeightCache:
    """An LRU cache of one robot's generated weights per morphology row, plus things derived
    from them (``derive``), each holding at most ``capacity`` robots.

    ``generate(rows)`` maps morphology rows (U, R) to weights for those U robots (a NamedTuple
    of (U, ...) tensors); ``params`` are the parameters those weights depend on.
    """

    def __init__(
        self,
        generate: Callable[[Tensor], Any],
        params: Sequence[nn.Parameter],
        capacity: int = 64,
    ) -> None:
        self.generate = generate
        self.params = list(params)
        self.capacity = capacity
        self.entries: OrderedDict[bytes, Any] = OrderedDict()
        self.derived: OrderedDict[bytes, Any] = OrderedDict()
        self.version: tuple[int, ...] = ()
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        """Forget every entry (needed only after writes that bypass version counters)."""
        self.entries.clear()
        self.derived.clear()

    def _check_version(self) -> None:
        version = tuple(p._version for p in self.params) + tuple(p.data_ptr() for p in self.params)
        if version != self.version:
            self.clear()
            self.version = version

    def derive(self, row: Tensor, build: Callable[[], Any]) -> Any:
        """Something built from one robot's generated weights (such as a frozen network),
        cached under that robot's morphology ``row`` (1, R) like the weights themselves."""
        self._check_version()
        key = row.detach().cpu().numpy().tobytes()
        if key in self.derived:
            self.hits += 1
            self.derived.move_to_end(key)
            return self.derived[key]
        self.misses += 1
        self.derived[key] = value = build()
        while len(self.derived) > self.capacity:
            self.derived.popitem(last=False)
        return value

    def lookup(self, rows: Tensor) -> Any:
        """Weights for the robots whose distinct morphology rows are ``rows`` (U, R),
        generating and storing what is missing. Call under ``torch.no_grad``."""
        self._check_version()
        flat = rows.detach().cpu().numpy()
        keys = [flat[i].tobytes() for i in range(flat.shape[0])]
        missing = [i for i, key in enumerate(keys) if key not in self.entries]
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        if missing:
            fresh = self.generate(rows[missing])
            for n, i in enumerate(missing):
                self.entries[keys[i]] = take(fresh, n)
        parts = [self.entries[key] for key in keys]
        for key in keys:
            self.entries.move_to_end(key)
        while len(self.entries) > self.capacity:
            self.entries.popitem(last=False)
        return parts[0] if len(parts) == 1 else concat(parts)
