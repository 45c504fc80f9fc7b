"""The interface every architecture implements, whatever its inner structure."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Generic, NamedTuple, TypeVar

from torch import Tensor, nn

from deepwe_rl.nn.observation import Obs


class SlotOutput(NamedTuple):
    """``slots`` (B, J + 1, k): k numbers per action slot (joints, then the gripper), or None
    for a network without per-slot outputs. ``value`` (B,): one number per sample (a state
    value or a Q value), or (B, n) for a network with ``value_outputs`` n > 1 (TQC's quantiles),
    or None for a network without a value head. ``ee_step`` (B, 3) or (B, 5): the end
    effector's step, and with ``jacobian_tilt`` its tilt, of a network with the Jacobian
    readout (``kinematics``), else None."""

    slots: Tensor | None
    value: Tensor | None
    ee_step: Tensor | None = None


ReadT = TypeVar("ReadT")
"""What a kind of network reads from an observation batch before its own layers (``read``);
``None`` for kinds that share nothing."""


class SlotNet(nn.Module, Generic[ReadT], metaclass=ABCMeta):
    """A network from an observation batch (and, for Q critics, an action batch) to per-slot
    outputs and/or a per-sample value. Masking and clamping are the wrappers' business
    (``Actor``, ``ActorCritic``, ``QCritic``)."""

    def __init__(
        self, slot_outputs: int, has_value: bool, action_input: bool, value_outputs: int = 1
    ) -> None:
        super().__init__()
        self.slot_outputs = slot_outputs
        self.has_value = has_value
        self.action_input = action_input
        self.value_outputs = value_outputs if has_value else 0

    def value_of(self, out: Tensor) -> Tensor | None:
        """The value part of ``out``, whose last ``value_outputs`` columns are the value head's:
        (B,) for one value, (B, n) for n."""
        if not self.value_outputs:
            return None
        return out[..., -1] if self.value_outputs == 1 else out[..., -self.value_outputs :]

    def read(self, obs: Obs) -> ReadT | None:
        """What this network reads from ``obs`` before its own layers, for another network of
        the same kind and inputs to reuse on the same batch (``ActorCritic`` passes it to
        both its networks); None when nothing is worth sharing."""
        return None

    @abstractmethod
    def forward(
        self, obs: Obs, action: Tensor | None = None, read: ReadT | None = None
    ) -> SlotOutput:
        """``action`` (B, J + 1) must be given exactly when the net was built with
        ``action_input``; ``read`` is this kind of network's ``read(obs)`` or None."""
