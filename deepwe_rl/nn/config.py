"""The one configuration object every network factory reads."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("deepwe", "mlp", "transformer")
TRUNKS = ("film", "attention")


@dataclass
class NetworkConfig:
    """Sizes and variants of the policy and critic networks.

    ``kind`` picks the architecture: ``deepwe`` (weights generated from the joint descriptors),
    ``mlp`` (a flat baseline with ``max_joints`` baked in) or ``transformer`` (a token-per-joint
    baseline). ``trunk`` only matters for ``deepwe``; the ``attn_*`` sizes serve the transformer
    baseline and the deepwe attention trunk. ``joint_code`` is the width of each joint's
    generated input code (its input weights are that code times a shared basis, see
    ``GeneratedWeights``). ``use_depth`` builds the depth-image encoder; the observation must
    then carry ``depth`` or the depth stream contributes nothing.
    """

    kind: str = "deepwe"
    hidden: int = 256
    depth: int = 2
    desc_embed: int = 32
    hyper_hidden: int = 64
    joint_code: int = 32
    stem_width: int = 64
    trunk: str = "film"
    attn_layers: int = 3
    attn_heads: int = 4
    attn_dim: int = 128
    log_std_min: float = -5.0
    log_std_max: float = 2.0
    use_depth: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.trunk not in TRUNKS:
            raise ValueError(f"trunk must be one of {TRUNKS}, got {self.trunk!r}")
        for name in (
            "hidden",
            "depth",
            "desc_embed",
            "hyper_hidden",
            "joint_code",
            "stem_width",
            "attn_layers",
            "attn_heads",
            "attn_dim",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.attn_dim % self.attn_heads:
            raise ValueError(
                f"attn_dim ({self.attn_dim}) must be divisible by attn_heads ({self.attn_heads})"
            )
        if self.log_std_min >= self.log_std_max:
            raise ValueError("log_std_min must be below log_std_max")
