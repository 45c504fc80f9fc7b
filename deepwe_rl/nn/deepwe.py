"""DeepWe: one network for every arm, with each joint's weights generated from its descriptor."""

from __future__ import annotations

from typing import NamedTuple, cast

import torch
from torch import Tensor, nn

from deepwe_rl.morphology import JOINT_STATE_DIM
from deepwe_rl.nn.attention_trunk import AttentionTrunk, AttentionWeights
from deepwe_rl.nn.config import NetworkConfig
from deepwe_rl.nn.film_trunk import FilmTrunk, FilmWeights
from deepwe_rl.nn.frozen import FrozenNet, freeze
from deepwe_rl.nn.grouping import (
    MorphologyGroups,
    from_grid,
    group_rows,
    morphology_rows,
    robot_layout,
    split_rows,
    to_grid,
)
from deepwe_rl.nn.hypernetwork import MorphologyEncoder, WeightGenerator
from deepwe_rl.nn.layers import POLICY_HEAD_GAIN
from deepwe_rl.nn.observation import Obs, joint_count, joint_inputs, joint_present
from deepwe_rl.nn.slot_net import SlotNet, SlotOutput
from deepwe_rl.nn.stems import StreamInputs, StreamStems
from deepwe_rl.nn.weight_cache import GeneratedWeightCache


class DeepWeInputs(NamedTuple):
    """What a DeepWe network reads from an observation batch before its layers: the joint mask
    ``present`` (B, J), the robot ``groups`` and, without an action, the joint rows
    ``joints`` and the stream inputs ``streams`` (None when not needed or not read yet)."""

    present: Tensor
    groups: MorphologyGroups
    joints: Tensor | None
    streams: StreamInputs | None


class DeepWeNet(SlotNet):
    """The DeepWe network.

    Per distinct robot in a batch, the descriptor encoder and the hypernetwork generate each
    joint's input weights (its state row, plus its action for Q critics, into the trunk) and,
    for policies, its output weights (trunk features to the joint's mean and log-std); the
    trunk is conditioned on the robot embedding. Stream stems, the trunk and ``heads`` (the
    gripper's slot outputs, then the value) are shared plain layers. Nothing depends on the
    number of joint slots.

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
        value_outputs: int = 1,
    ) -> None:
        super().__init__(slot_outputs, has_value, action_input, value_outputs)
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
            cfg.joint_code,
            features,
            slot_outputs,
            POLICY_HEAD_GAIN,
        )
        # Output layers shared by all robots: the gripper's slot outputs, then the value.
        self.heads = nn.Linear(features, slot_outputs + self.value_outputs)
        with torch.no_grad():
            self.heads.weight[:slot_outputs].mul_(POLICY_HEAD_GAIN)
            self.heads.bias[:slot_outputs].zero_()
        self.cache = (
            GeneratedWeightCache(self.generate, list(self.parameters())) if cache_weights else None
        )
        self.foldable = cfg.trunk == "film" and not action_input

    def generate(self, rows: Tensor) -> FilmWeights | AttentionWeights:
        """The trunk's weights for the robots whose morphology rows are ``rows`` (U, R)."""
        desc, mask, gripper = split_rows(rows)
        e, m = self.morphology(desc, mask, gripper)
        return self.trunk.prepare(self.generator(e, m, mask))

    def weights(self, groups: MorphologyGroups) -> FilmWeights | AttentionWeights:
        """Weights for the distinct robots of a batch: from the cache without gradients,
        generated afresh with them."""
        if self.cache is not None and not torch.is_grad_enabled():
            return self.cache.lookup(groups.rows)
        return self.generate(groups.rows)

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
        return SlotOutput(slots, out[:, -1] if self.has_value else None)

    def read(self, obs: Obs) -> DeepWeInputs:
        """The batch's joint mask, robot groups and, unless this network would take its
        single-robot no-grad fast path, its joint and stream inputs (no action)."""
        present = joint_present(obs)
        groups = group_rows(morphology_rows(obs, present))
        if self._folds(groups):
            return DeepWeInputs(present, groups, None, None)
        return DeepWeInputs(
            present, groups, joint_inputs(obs, None, present), self.stems.inputs(obs)
        )

    def _folds(self, groups: MorphologyGroups) -> bool:
        """Whether a call on a batch of ``groups`` runs the robot's cached ``FrozenNet``."""
        return (
            self.foldable
            and self.cache is not None
            and groups.inverse is None
            and not torch.is_grad_enabled()
        )

    def forward(
        self, obs: Obs, action: Tensor | None = None, read: object | None = None
    ) -> SlotOutput:
        inputs = read if isinstance(read, DeepWeInputs) and action is None else None
        if inputs is None:
            present = joint_present(obs)
            inputs = DeepWeInputs(present, group_rows(morphology_rows(obs, present)), None, None)
        present, groups = inputs.present, inputs.groups
        if self.cache is not None and self._folds(groups):
            return self._frozen_forward(obs, groups, self.cache)
        weights = self.weights(groups)
        joints = inputs.joints
        if joints is None:
            joints = joint_inputs(obs, action, present)
        stream_inputs = inputs.streams
        if stream_inputs is None:
            stream_inputs = self.stems.inputs(obs, action)
        if isinstance(self.trunk, FilmTrunk):
            out = self.trunk(
                joints,
                present.to(joints.dtype),
                self.stems(stream_inputs).flatten(1),
                groups.inverse,
                cast(FilmWeights, weights),
                self.heads,
            )
            return self._split(out, joints.shape[1])
        return self._attention_forward(
            joints, present, stream_inputs, groups, cast(AttentionWeights, weights)
        )

    def _split(self, out: Tensor, joints: int) -> SlotOutput:
        """``SlotOutput`` from each sample's per-joint outputs (J * k, none without per-joint
        outputs), gripper outputs (k) and value (0 or 1) side by side."""
        value = self.value_of(out)
        if not self.slot_outputs:
            return SlotOutput(None, value)
        k = self.slot_outputs
        return SlotOutput(out[..., : (joints + 1) * k].unflatten(-1, (joints + 1, k)), value)

    def _attention_forward(
        self,
        joints: Tensor,
        present: Tensor,
        stream_inputs: StreamInputs,
        groups: MorphologyGroups,
        weights: AttentionWeights,
    ) -> SlotOutput:
        trunk = cast(AttentionTrunk, self.trunk)
        layout = (
            None if groups.inverse is None else robot_layout(groups.inverse, groups.rows.shape[0])
        )
        stream_grid = StreamInputs(
            *(None if t is None else to_grid(t, layout).flatten(0, 1) for t in stream_inputs)
        )
        joints = to_grid(joints, layout)
        u, w = joints.shape[:2]
        joint_out, features = trunk(
            joints,
            to_grid(present, layout),
            self.stems(stream_grid),
            stream_grid.present.view(u, w, -1),
            weights,
        )
        heads = self.heads(features)
        if joint_out is not None:
            heads = torch.cat([joint_out.flatten(2), heads], dim=2)
        return self._split(from_grid(heads, layout), joints.shape[2])
