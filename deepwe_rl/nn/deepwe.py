"""DeepWe: one network for every arm, with each joint's weights generated from its descriptor."""

from __future__ import annotations

from typing import cast

import torch
from torch import Tensor, nn

from deepwe_rl.morphology import JOINT_STATE_DIM
from deepwe_rl.nn.config import NetworkConfig
from deepwe_rl.nn.frozen import FrozenNet, freeze
from deepwe_rl.nn.grouping import (
    MorphologyGroups,
    RobotLayout,
    from_grid,
    group_rows,
    morphology_rows,
    robot_layout,
    split_rows,
    to_grid,
)
from deepwe_rl.nn.hypernetwork import MorphologyEncoder, WeightGenerator
from deepwe_rl.nn.layers import POLICY_HEAD_GAIN, scaled_head
from deepwe_rl.nn.observation import Obs, joint_count, joint_inputs, joint_present
from deepwe_rl.nn.slot_net import SlotNet, SlotOutput
from deepwe_rl.nn.stems import StreamInputs, StreamStems
from deepwe_rl.nn.trunks import AttentionTrunk, AttentionWeights, FilmTrunk, FilmWeights
from deepwe_rl.nn.weight_cache import GeneratedWeightCache


class DeepWeNet(SlotNet):
    """The DeepWe network.

    Per distinct robot in a batch, the descriptor encoder and the hypernetwork generate each
    joint's input weights (its state row, plus its action for Q critics, into the trunk) and,
    for policies, its output weights (trunk features to the joint's mean and log-std); the
    trunk is conditioned on the robot embedding. Stream stems, the trunk, the gripper head and
    the value head are shared plain layers. Nothing depends on the number of joint slots.

    With ``cache_weights`` the generated weights are kept across no-grad calls (see
    ``GeneratedWeightCache``), and a no-grad call on a single-robot batch runs that robot's
    cached ``FrozenNet`` (FiLM trunk, no action input); calls with gradients always generate
    afresh.
    """

    def __init__(
        self,
        cfg: NetworkConfig,
        slot_outputs: int,
        has_value: bool,
        action_input: bool,
        cache_weights: bool,
    ) -> None:
        super().__init__(slot_outputs, has_value, action_input)
        self.cfg = cfg
        self.stems = StreamStems(cfg.stem_width, action_input, cfg.use_depth)
        self.trunk: FilmTrunk | AttentionTrunk
        if cfg.trunk == "film":
            self.trunk = FilmTrunk(cfg, self.stems.count * cfg.stem_width)
        else:
            self.trunk = AttentionTrunk(cfg, cfg.stem_width)
        features = self.trunk.feature_width
        self.morphology = MorphologyEncoder(cfg.desc_embed)
        self.generator = WeightGenerator(
            cfg.desc_embed,
            cfg.hyper_hidden,
            JOINT_STATE_DIM + int(action_input),
            self.trunk.in_width,
            features,
            slot_outputs,
            POLICY_HEAD_GAIN,
        )
        self.gripper_head = (
            scaled_head(features, slot_outputs, POLICY_HEAD_GAIN) if slot_outputs else None
        )
        self.value = nn.Linear(features, 1) if has_value else None
        self.cache = (
            GeneratedWeightCache(self.generate, list(self.parameters())) if cache_weights else None
        )
        self.foldable = cfg.trunk == "film" and not action_input

    def generate(self, rows: Tensor) -> FilmWeights | AttentionWeights:
        """The trunk's weights for the robots whose morphology rows are ``rows`` (U, R)."""
        desc, mask, gripper = split_rows(rows)
        e, m = self.morphology(desc, mask, gripper)
        return self.trunk.prepare(self.generator(e, m, mask))

    def generated(
        self, groups: MorphologyGroups
    ) -> tuple[FilmWeights | AttentionWeights, RobotLayout | None]:
        """Weights for the distinct robots of a batch and the batch's robot layout (None for a
        single-robot batch)."""
        if self.cache is not None and not torch.is_grad_enabled():
            weights = self.cache.lookup(groups.rows)
        else:
            weights = self.generate(groups.rows)
        if groups.inverse is None:
            return weights, None
        return weights, robot_layout(groups.inverse, groups.rows.shape[0])

    def freeze(self, obs: Obs) -> FrozenNet:
        """This network with the generated weights of ``obs``'s first robot folded in (FiLM
        trunk, no action input)."""
        rows = morphology_rows({k: v[:1] for k, v in obs.items()})
        with torch.no_grad():
            return freeze(self, rows, cast(FilmWeights, self.generate(rows)))

    def _frozen_forward(
        self, obs: Obs, groups: MorphologyGroups, cache: GeneratedWeightCache
    ) -> SlotOutput:
        """The no-grad single-robot fast path: the robot's cached ``FrozenNet``."""
        frozen = cache.derive(
            groups.rows, lambda: freeze(self, groups.rows, cache.lookup(groups.rows))
        )
        out = frozen(obs)
        slots = frozen.slots(out, joint_count(obs)) if self.slot_outputs else None
        return SlotOutput(slots, out[:, -1] if self.value is not None else None)

    def forward(self, obs: Obs, action: Tensor | None = None) -> SlotOutput:
        groups = group_rows(morphology_rows(obs))
        if (
            self.foldable
            and self.cache is not None
            and groups.inverse is None
            and (not torch.is_grad_enabled())
        ):
            return self._frozen_forward(obs, groups, self.cache)
        weights, layout = self.generated(groups)
        stream_inputs = self.stems.inputs(obs, action)
        stream_grid = StreamInputs(
            *(None if t is None else to_grid(t, layout).flatten(0, 1) for t in stream_inputs)
        )
        joints = to_grid(joint_inputs(obs, action), layout)
        u, w = joints.shape[:2]
        joint_out, features = self.trunk(
            joints,
            to_grid(joint_present(obs), layout),
            self.stems(stream_grid),
            stream_grid.present.view(u, w, -1),
            weights,
        )
        value = None if self.value is None else from_grid(self.value(features)[..., 0], layout)
        if joint_out is None or self.gripper_head is None:
            return SlotOutput(None, value)
        gripper = self.gripper_head(features).unsqueeze(2)
        return SlotOutput(from_grid(torch.cat([joint_out, gripper], dim=2), layout), value)
