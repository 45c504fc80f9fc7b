"""DeepWe: one network for every arm, with each joint's weights generated from its descriptor."""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from deepwe_rl.morphology import JOINT_STATE_DIM
from deepwe_rl.nn.attention_trunk import AttentionTrunk
from deepwe_rl.nn.config import NetworkConfig
from deepwe_rl.nn.film_trunk import FilmTrunk
from deepwe_rl.nn.frozen import FrozenNet
from deepwe_rl.nn.grouping import MorphologyGroups, group_rows, morphology_rows, split_rows
from deepwe_rl.nn.hypernetwork import MorphologyEncoder, WeightGenerator
from deepwe_rl.nn.kinematics import READOUT_OUTPUTS
from deepwe_rl.nn.layers import POLICY_HEAD_GAIN
from deepwe_rl.nn.observation import Obs, joint_count, joint_inputs, joint_present
from deepwe_rl.nn.slot_net import SlotNet, SlotOutput
from deepwe_rl.nn.stems import StreamInputs, StreamStems
from deepwe_rl.nn.trunk import Trunk, TrunkInputs
from deepwe_rl.nn.weight_cache import GeneratedWeightCache


class DeepWeInputs(NamedTuple):
    """What a DeepWe network reads from an observation batch before its layers: the joint mask
    ``present`` (B, J), the robot ``groups`` and, without an action, the joint rows
    ``joints`` and the stream inputs ``streams`` (None when not needed or not read yet)."""

    present: Tensor
    groups: MorphologyGroups
    joints: Tensor | None
    streams: StreamInputs | None


class DeepWeNet(SlotNet[DeepWeInputs]):
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
        self.trunk: Trunk[Any]
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
        # Output layers shared by all robots: the gripper's slot outputs, the end effector's
        # step (Jacobian readout), then the value.
        self.ee_outputs = READOUT_OUTPUTS[cfg.readout] if slot_outputs else 0
        self.heads = nn.Linear(features, slot_outputs + self.ee_outputs + self.value_outputs)
        with torch.no_grad():
            self.heads.weight[: slot_outputs + self.ee_outputs].mul_(POLICY_HEAD_GAIN)
            self.heads.bias[: slot_outputs + self.ee_outputs].zero_()
        self.cache = (
            GeneratedWeightCache(self.generate, list(self.parameters())) if cache_weights else None
        )
        self.foldable = cfg.trunk == "film" and not action_input

    def generate(self, rows: Tensor) -> Any:
        """The trunk's weights for the robots whose morphology rows are ``rows`` (U, R)."""
        desc, mask, gripper = split_rows(rows)
        e, m = self.morphology(desc, mask, gripper)
        return self.trunk.prepare(self.generator(e, m, mask))

    def weights(self, groups: MorphologyGroups) -> Any:
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
            return self._freeze(rows, self.generate(rows))

    def _freeze(self, rows: Tensor, weights: Any) -> FrozenNet:
        """``weights``, generated for the robot whose morphology row is ``rows`` (1, R), folded
        with this network's shared layers into a ``FrozenNet``. Call under ``torch.no_grad``."""
        if not isinstance(self.trunk, FilmTrunk):
            raise TypeError("only DeepWe networks with the FiLM trunk can be frozen")
        if self.action_input:
            raise TypeError("Q critics cannot be frozen: they read an action")
        _, mask, has_gripper = split_rows(rows)
        folded = self.trunk.fold(weights, mask)
        # The output layer: the per-joint generated rows, the gripper head's (zeroed for a robot
        # without a gripper) and the value head's.
        k = self.slot_outputs
        heads = torch.cat([self.heads.weight, self.heads.bias.unsqueeze(1)], dim=1)
        head_rows = [heads[:k] * has_gripper.view(1, 1), heads[k:]]
        if weights.out is not None:
            head_rows.insert(0, weights.out[0])
        head = torch.cat(head_rows)
        state = {
            "stem_w": self.stems.fused(),
            **folded._asdict(),
            "head_w": head[:, :-1].t(),
            "head_b": head[:, -1],
        }
        if self.stems.depth is not None:
            state.update({f"depth.{k}": v for k, v in self.stems.depth.state_dict().items()})
        meta = {
            "joints": int(mask.sum().item()),
            "slots": mask.shape[1],
            "outputs": k if weights.out is not None else 0,
            "value": int(self.has_value),
            "ee_step": self.ee_outputs,
            "stem_width": self.stems.width,
            "depth": int(self.stems.depth is not None),
        }
        return FrozenNet(meta, {k: v.detach().clone().contiguous() for k, v in state.items()})

    def _frozen_forward(
        self, obs: Obs, groups: MorphologyGroups, cache: GeneratedWeightCache
    ) -> SlotOutput:
        """The no-grad single-robot fast path: the robot's cached ``FrozenNet``."""
        frozen = cache.derive(
            groups.rows, lambda: self._freeze(groups.rows, cache.lookup(groups.rows))
        )
        out = frozen(obs)
        slots = frozen.slots(out, joint_count(obs)) if self.slot_outputs else None
        return SlotOutput(slots, out[:, -1] if self.has_value else None, frozen.ee_step(out))

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
        self, obs: Obs, action: Tensor | None = None, read: DeepWeInputs | None = None
    ) -> SlotOutput:
        inputs = read if action is None else None
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
        out = self.trunk(
            TrunkInputs(joints, present, stream_inputs, groups, self.stems, self.heads), weights
        )
        return self._split(out, joints.shape[1])

    def _split(self, out: Tensor, joints: int) -> SlotOutput:
        """``SlotOutput`` from each sample's per-joint outputs (J * k, none without per-joint
        outputs), gripper outputs (k), end-effector step (0 or 3) and value (0 or 1) side by
        side."""
        value = self.value_of(out)
        if not self.slot_outputs:
            return SlotOutput(None, value)
        end = (joints + 1) * (k := self.slot_outputs)
        slots = out[..., :end].unflatten(-1, (joints + 1, k))
        ee_step = out[..., end : end + self.ee_outputs] if self.ee_outputs else None
        return SlotOutput(slots, value, ee_step)
