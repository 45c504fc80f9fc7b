"""The typed run-config schema: load YAML, apply ``key.sub=value`` overrides, validate.

Every field has a default, unknown keys are errors, and only known names are accepted: a config
never names Python classes or code to import.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deepwe_rl.envs.manipulation_env import ControlName, RewardName, TaskName
from deepwe_rl.nn.config import NetworkConfig, NetworkSizes

AlgoName = Literal["ppo", "sac", "tqc"]
"""Every algorithm a config may name; which backend runs which is ``agents.training``'s."""


class ConfigError(ValueError):
    """A config that cannot run: the message is one line naming the key and the problem."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EnvSection(_Section):
    """Which task, how robots are controlled, and which robots train side by side."""

    task: TaskName = "reach"
    control: ControlName = "joints"
    reward: RewardName = "dense"
    """Dense by default, unlike the env (sparse): the default algorithm is PPO, which has no
    hindsight relabelling. See docs/architecture.md."""
    max_joints: int = Field(8, ge=1, le=32)
    robots: list[str] | str = Field(
        default_factory=lambda: ["panda", "proc:3:0", "proc:5:0", "proc:7:0"],
        description="robot names, or the name of a split (train, interpolate, ...)",
    )
    n_envs: int = Field(4, ge=1, le=256)
    vec: Literal["dummy", "subproc", "ray"] = Field(
        "dummy",
        description="sb3's vector env: in this process, in subprocesses, or in Ray actors "
        "(ray.envs_per_runner envs each, on any node of the cluster at ray.address)",
    )
    max_episode_steps: int = Field(50, ge=1, le=10_000)
    distance_threshold: float = Field(0.05, gt=0.0, le=1.0)
    camera: bool = False


class NetworkSection(NetworkSizes):
    """Network kind and sizes (``deepwe_rl.nn.NetworkSizes``, its choices and bounds), and
    whether policy and value share the stream encoder."""

    share_encoder: bool = False


class AlgoSection(_Section):
    """The RL algorithm and its hyperparameters (PPO's and SAC's, each used by its own)."""

    name: AlgoName = "ppo"
    learning_rate: float = Field(3e-4, gt=0.0, le=1.0)
    gamma: float = Field(0.95, gt=0.0, le=1.0)
    batch_size: int = Field(256, ge=2)
    # PPO
    n_steps: int = Field(256, ge=2, description="rollout length per env")
    n_epochs: int = Field(10, ge=1)
    gae_lambda: float = Field(0.95, ge=0.0, le=1.0)
    clip_range: float = Field(0.2, gt=0.0, le=1.0)
    ent_coef: float = Field(0.0, ge=0.0)
    vf_coef: float = Field(0.5, ge=0.0)
    max_grad_norm: float = Field(0.5, gt=0.0)
    log_std_init: float = Field(0.0, ge=-5.0, le=2.0, description="PPO's initial log-std")
    target_kl: float | None = Field(
        0.05, gt=0.0, description="stop an update's epochs early past this KL; null for never"
    )
    # SAC / TQC
    buffer_size: int = Field(100_000, ge=100)
    learning_starts: int = Field(1000, ge=0)
    tau: float = Field(0.005, gt=0.0, le=1.0)
    train_freq: int = Field(1, ge=1)
    gradient_steps: int = Field(1, ge=-1)
    her: bool = False
    her_n_sampled_goal: int = Field(4, ge=1)
    # TQC
    n_quantiles: int = Field(25, ge=2, le=256, description="quantiles per TQC critic")
    top_quantiles_to_drop: int = Field(2, ge=0, description="per critic, from TQC's target")


class DemonstrationsSection(_Section):
    """Behaviour cloning from the scripted expert before RL (sb3 backend): the expert drives
    ``episodes`` episodes and the policy is fitted to its actions; each DAgger round then lets
    the policy drive while the expert labels the states it visits, and fits again on all of it.
    With ``episodes: 0`` the policy drives from the first round: DAgger alone, which is how a
    policy trained on other arms (``init_from``) is fine-tuned onto a new one; with
    ``rehearsal_steps`` it is fitted on a sample of that run's own demonstrations beside the new
    arm's. The env steps spent here are logged under ``demonstrations/`` and come on top of
    ``total_timesteps``."""

    episodes: int = Field(0, ge=0, description="expert-driven episodes")
    dagger_rounds: int = Field(0, ge=0, description="policy-driven rounds after the expert's")
    dagger_episodes: int = Field(100, ge=1, description="episodes in each DAgger round")
    epochs: int = Field(10, ge=1, description="passes over all data so far after each round")
    rehearsal_steps: int = Field(
        0,
        ge=0,
        description="steps drawn from the init_from run's demonstrations and fitted with every "
        "round's, so that fine-tuning onto new arms keeps the old ones",
    )
    batch_size: int = Field(256, ge=2)
    learning_rate: float = Field(1e-3, gt=0.0, le=1.0)

    @property
    def enabled(self) -> bool:
        """Whether any demonstrations are collected: expert-driven episodes or DAgger rounds."""
        return self.episodes > 0 or self.dagger_rounds > 0


class EvalSection(_Section):
    """Periodic evaluation: deterministic episodes per robot."""

    freq: int = Field(10_000, ge=0, description="env steps between evaluations; 0 turns it off")
    episodes: int = Field(10, ge=1)
    robots: list[str] | str | None = Field(None, description="default: the training robots")


class CheckpointSection(_Section):
    """Periodic checkpoints in ``checkpoints/``, each written atomically."""

    freq: int = Field(10_000, ge=0, description="env steps between checkpoints; 0 turns it off")
    keep: int = Field(3, ge=1, description="how many recent checkpoints to keep")
    replay_buffer: bool = Field(
        True,
        description="sac/tqc: save the replay buffer with each checkpoint (the newest one keeps "
        "it), so resume continues with it; false leaves it out, for buffers too large to write "
        "that often, and resume starts with an empty one",
    )


class RaySection(_Section):
    """Ray, for the RLlib backend and for sb3's ``env.vec: ray``: unset ``address`` starts Ray
    embedded on this machine; ``auto`` or ``host:port`` joins a running cluster."""

    address: str | None = Field(
        None, min_length=1, description="null: embedded Ray; 'auto' or host:port: a cluster"
    )
    num_env_runners: int = Field(1, ge=0, le=1024, description="RLlib's remote env runners")
    envs_per_runner: int = Field(
        2, ge=1, le=256, description="sub-envs per RLlib env runner or per sb3 env actor"
    )
    num_cpus: int | None = Field(None, ge=1, description="CPUs for an embedded Ray")
    max_restarts: int = Field(
        100, ge=0, description="restarts of failed env runners or env actors before a run fails"
    )


class RunConfig(_Section):
    """One training run."""

    name: str = Field("run", pattern=r"^[A-Za-z0-9_.-]+$")
    seed: int = Field(0, ge=0)
    backend: Literal["sb3", "rllib"] = "sb3"
    total_timesteps: int = Field(100_000, ge=1)
    runs_dir: str = "runs"
    init_from: str | None = Field(
        None,
        description="a finished run whose policy weights this run starts from (fine-tuning); "
        "its backend, algorithm and network must match this config's",
    )
    torch_threads: int = Field(
        1, ge=1, le=256, description="torch intra-op threads; small networks run fastest on one"
    )
    env: EnvSection = Field(default_factory=EnvSection)
    network: NetworkSection = Field(default_factory=NetworkSection)
    algo: AlgoSection = Field(default_factory=AlgoSection)
    demonstrations: DemonstrationsSection = Field(default_factory=DemonstrationsSection)
    eval: EvalSection = Field(default_factory=EvalSection)
    checkpoint: CheckpointSection = Field(default_factory=CheckpointSection)
    ray: RaySection = Field(default_factory=RaySection)

    def network_config(self) -> NetworkConfig:
        """The network of this run: the network section, with the depth encoder exactly when
        the env's camera is on."""
        sizes = self.network.model_dump(include=set(NetworkSizes.model_fields))
        return NetworkConfig(**sizes, use_depth=self.env.camera)


def _model_at(path: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The section model that holds the last key of ``path``."""
    model: type[BaseModel] = RunConfig
    for key in path[:-1]:
        field = model.model_fields.get(str(key))
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _explain(err: ValidationError) -> str:
    """One line for the first problem: the dotted key, what is wrong, the closest valid key."""
    first = err.errors()[0]
    loc = tuple(first["loc"])
    key = ".".join(str(p) for p in loc)
    if first["type"] == "extra_forbidden":
        model = _model_at(loc)
        fields = list(model.model_fields) if model else []
        close = difflib.get_close_matches(str(loc[-1]), fields, n=1, cutoff=0.5)
        prefix = ".".join(str(p) for p in loc[:-1])
        hint = f"; did you mean '{prefix + '.' if prefix else ''}{close[0]}'?" if close else ""
        valid = f" (valid keys: {', '.join(fields)})" if fields and not close else ""
        return f"config error: unknown key '{key}'{hint}{valid}"
    got = first.get("input")
    shown = "" if isinstance(got, dict) else f" (got {got!r})"
    msg = str(first["ctx"]["error"]) if first["type"] == "value_error" else first["msg"]
    return f"config error: {key}: {msg}{shown}"


def _set_dotted(tree: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = tree
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"config error: cannot set '{dotted}': '{part}' is not a section")
        node = child
    node[parts[-1]] = value


def parse_overrides(overrides: list[str]) -> dict[str, Any]:
    """``["a.b=1", "env.robots=[panda,proc:4:1]"]`` into a nested dict, values read as YAML."""
    tree: dict[str, Any] = {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"config error: override '{item}' is not of the form key=value")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            raise ConfigError(f"config error: override '{item}': value is not valid YAML") from None
        _set_dotted(tree, key.strip(), value)
    return tree


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def validate(raw: dict[str, Any]) -> RunConfig:
    """Validate a config tree, raising ConfigError with one clear line."""
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_explain(err)) from None


def load_config(path: Path | str, overrides: list[str] | None = None) -> RunConfig:
    """Read a YAML config file, apply command-line overrides, validate."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config error: config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"config error: {path} is not valid YAML{where}") from None
    if not isinstance(raw, dict):
        raise ConfigError(
            f"config error: {path} must hold a mapping of keys, not {type(raw).__name__}"
        )
    return validate(_merge(raw, parse_overrides(overrides or [])))


def dump_config(cfg: RunConfig) -> str:
    """The resolved config as YAML, every default written out."""
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
