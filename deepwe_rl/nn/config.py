"""The one configuration object every network factory reads, and the one set of network
choices and bounds: the run config's ``network`` section is ``NetworkSizes`` plus its own keys."""

from __future__ import annotations

import logging
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

logger = logging.getLogger(__name__)

NetworkKind = Literal["deepwe", "mlp", "transformer"]
TrunkKind = Literal["film", "attention"]
ReadoutKind = Literal["joints", "jacobian", "jacobian_tilt"]
KINDS: tuple[NetworkKind, ...] = get_args(NetworkKind)
TRUNKS: tuple[TrunkKind, ...] = get_args(TrunkKind)


class NetworkSizes(BaseModel):
    """Network kind and sizes, with their bounds: what a config's ``network`` section sets.

    ``kind`` picks the architecture: ``deepwe`` (weights generated from the joint descriptors),
    ``mlp`` (a flat baseline with ``max_joints`` baked in) or ``transformer`` (a token-per-joint
    baseline). ``trunk`` only matters for ``deepwe``; the ``attn_*`` sizes serve the transformer
    baseline and the deepwe attention trunk. ``joint_code`` is the width of each joint's
    generated input code (its input weights are that code times a shared basis, see
    ``GeneratedWeights``).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    kind: NetworkKind = "deepwe"
    hidden: int = Field(256, ge=8, le=4096)
    layers: int = Field(2, ge=1, le=8, description="the trunk's (or the mlp's) hidden layers")
    desc_embed: int = Field(32, ge=4, le=1024)
    hyper_hidden: int = Field(64, ge=8, le=2048)
    stem_width: int = Field(64, ge=4, le=1024)
    joint_code: int = Field(32, ge=4, le=1024, description="width of each joint's generated code")
    trunk: TrunkKind = "film"
    attn_layers: int = Field(3, ge=1, le=12)
    attn_heads: int = Field(4, ge=1, le=16)
    attn_dim: int = Field(128, ge=8, le=1024)
    readout: ReadoutKind = Field(
        "joints",
        description="joints: each joint's command read out directly; jacobian: plus the joint "
        "motion of an end-effector step the network outputs, through the arm's Jacobian "
        "computed from the joint descriptors (nn/kinematics.py); jacobian_tilt: the same step "
        "and a turn of the end effector about the world's x and y axes (as the PickAndPlace "
        "expert turns its fingers down)",
    )

    @model_validator(mode="before")
    @classmethod
    def _renamed_depth(cls, data: Any) -> Any:
        """The layer count was called ``depth`` (a word the depth image and the chain index
        also use): still read, with a one-line deprecation message."""
        if not isinstance(data, dict) or "depth" not in data:
            return data
        data = dict(data)
        layers = data.pop("depth")
        if "layers" in data:
            raise ValueError("depth is the old name of layers: give layers only")
        logger.warning("network.depth is deprecated: read as network.layers=%s", layers)
        return {**data, "layers": layers}

    @model_validator(mode="after")
    def _heads_divide_width(self) -> NetworkSizes:
        if self.attn_dim % self.attn_heads:
            raise ValueError(
                f"attn_dim ({self.attn_dim}) must be divisible by attn_heads ({self.attn_heads})"
            )
        return self


INPUTS = 2
"""The version of what the networks read from an observation (``observation.py``), saved with
every model: 2 reads the goal's offset in decimetres (1, in metres)."""


class NetworkConfig(NetworkSizes):
    """Sizes and variants of the policy and critic networks: ``NetworkSizes`` plus what the
    run decides rather than the config's ``network`` section. ``use_depth`` builds the
    depth-image encoder (the observation must then carry ``depth`` or the depth stream
    contributes nothing); ``log_std_min`` and ``log_std_max`` bound the policies' log-std."""

    log_std_min: float = -5.0
    log_std_max: float = 2.0
    use_depth: bool = False
    inputs: int = INPUTS

    @classmethod
    def saved(cls, network: dict[str, Any]) -> NetworkConfig:
        """The config from a policy's ``network`` argument: a user's partial dict, or the full
        config saved with a model (``model_dump``, which has every field that ``NetworkConfig``
        adds to ``NetworkSizes``), where one saved before ``inputs`` existed reads version 1.
        A model whose networks read observations otherwise than this version
        is refused in one line: it would load, and act on inputs it was never trained on."""
        own = set(cls.model_fields) - set(NetworkSizes.model_fields) - {"inputs"}
        version = network.get("inputs", 1 if own <= set(network) else INPUTS)
        if version != INPUTS:
            raise ValueError(
                f"this model's networks read observations as version {version}, deepwe-rl "
                f"reads version {INPUTS} (the goal's offset in decimetres): retrain it"
            )
        return cls(**network)

    @model_validator(mode="after")
    def _log_std_bounds(self) -> NetworkConfig:
        if self.log_std_min >= self.log_std_max:
            raise ValueError("log_std_min must be below log_std_max")
        return self
