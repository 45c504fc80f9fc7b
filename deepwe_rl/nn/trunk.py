"""The interface both DeepWe trunks implement: the FiLM trunk (``film_trunk.py``, the default)
and the attention trunk (``attention_trunk.py``)."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Generic, NamedTuple, TypeVar

from torch import Tensor, nn

from deepwe_rl.nn.grouping import MorphologyGroups
from deepwe_rl.nn.hypernetwork import GeneratedWeights
from deepwe_rl.nn.stems import StreamInputs, StreamStems

W = TypeVar("W")
"""A trunk's generated weights for the distinct robots of a batch, ready to apply."""


class TrunkInputs(NamedTuple):
    """What a DeepWe network hands its trunk: the batch, ``joints`` (B, J, S) with padded rows
    zero, the joint mask ``present`` (B, J), the stream inputs ``streams`` and the robot
    ``groups`` (whose distinct rows the weights were prepared for), and the shared layers
    around the trunk, ``stems`` (which encode the streams) and ``heads`` (output layers shared
    by all robots)."""

    joints: Tensor
    present: Tensor
    streams: StreamInputs
    groups: MorphologyGroups
    stems: StreamStems
    heads: nn.Linear


class Trunk(nn.Module, Generic[W], metaclass=ABCMeta):
    """A DeepWe trunk of width ``width``: ``prepare`` turns the hypernetwork's output into its
    per-robot weights ``W``, and ``forward`` applies them to a batch of any robots."""

    width: int

    @property
    def feature_width(self) -> int:
        """Width of the features the output heads read."""
        return self.width

    @abstractmethod
    def prepare(self, gen: GeneratedWeights) -> W:
        """Per-robot weights from the generator's output."""

    @abstractmethod
    def forward(self, inputs: TrunkInputs, weights: W) -> Tensor:
        """(B, J * k + heads' outputs): each sample's per-joint outputs (its own robot's, none
        without per-joint outputs), then the outputs of ``inputs.heads``."""
