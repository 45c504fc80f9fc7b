"""The interface both DeepWe trunks implement: the FiLM trunk (``film_trunk.py``, the default)
and the attention trunk (``attention_trunk.py``)."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Generic, TypeVar

from torch import Tensor, nn

from deepwe_rl.nn.grouping import MorphologyGroups
from deepwe_rl.nn.hypernetwork import GeneratedWeights
from deepwe_rl.nn.stems import StreamInputs, StreamStems

W = TypeVar("W")
"""A trunk's generated weights for the distinct robots of a batch, ready to apply."""


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
    def forward(
        self,
        joints: Tensor,
        present: Tensor,
        streams: StreamInputs,
        stems: StreamStems,
        groups: MorphologyGroups,
        weights: W,
        heads: nn.Linear,
    ) -> Tensor:
        """``joints`` (B, J, S) with padded rows zero, the joint mask ``present`` (B, J), the
        stream inputs that ``stems`` encode, the batch's robot ``groups`` (whose distinct rows
        ``weights`` were prepared for) and ``heads``, output layers shared by all robots.
        Returns (B, J * k + heads' outputs): each sample's per-joint outputs (its own robot's,
        none without per-joint outputs), then the outputs of ``heads``."""
