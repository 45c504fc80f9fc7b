"""A Stable-Baselines3 VecEnv whose sub-envs live in Ray actors, on any node of a cluster.

Each actor (``EnvGroup``) holds several envs in an SB3 ``DummyVecEnv`` and steps them all in
one remote call, with SB3's auto-reset done in the actor. ``step_async`` sends every actor its
actions before ``step_wait`` waits for any reply, so the actors step in parallel. Actors are
spread over the cluster's nodes.

An actor that dies (its process killed, its node lost) is replaced: ``step_wait`` logs one
warning, starts a new actor with the same envs, resets them, and reports each of those envs'
episodes as truncated at the last observation it returned (``TimeLimit.truncated`` and
``terminal_observation`` set, as SB3 expects). After ``max_restarts`` replacements in a run the
next death stops training. ``ray_rollouts.RayRollouts`` writes the restart count to TensorBoard.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import ray
from ray.exceptions import GetTimeoutError, RayActorError
from stable_baselines3.common.vec_env import DummyVecEnv
from stable_baselines3.common.vec_env.base_vec_env import (
    VecEnv,
    VecEnvIndices,
    VecEnvObs,
    VecEnvStepReturn,
)
from stable_baselines3.common.vec_env.util import dict_to_obs, obs_space_info

from deepwe_rl.agents.interrupts import TrainingFailed
from deepwe_rl.agents.ray_cluster import Placement, here, placement_summary
from deepwe_rl.config import ConfigError
from deepwe_rl.envs.vector import EnvFn

logger = logging.getLogger(__name__)

START_TIMEOUT_S = 300.0
"""How long new actors may take to start (build their envs) before the run gives up."""

ObsBuffer = dict[Any, np.ndarray]
"""Observations of several envs as ``DummyVecEnv.buf_obs`` keeps them: one batch per key of a
Dict space, or under the key None for any other space (``vec_env.util.obs_space_info``)."""


class EnvGroup:
    """Several envs in one Ray actor, held in a ``DummyVecEnv`` and stepped together in one
    call (``ray.remote`` makes it an actor; it is a plain class, so it also runs in-process)."""

    def __init__(self, fns: Sequence[EnvFn], name: str) -> None:
        self.name = name
        self.venv = DummyVecEnv(list(fns))

    def where(self) -> Placement:
        return here(self.name)

    def spaces(self) -> tuple[gym.Space, gym.Space]:
        return self.venv.observation_space, self.venv.action_space

    def reset(
        self, seed: int | None, options: Sequence[dict[str, Any]]
    ) -> tuple[ObsBuffer, list[dict[str, Any]]]:
        """Reset every env, env ``k`` with seed ``seed + k`` as ``VecEnv.seed`` numbers them
        (unseeded when ``seed`` is None): the observations and the reset infos."""
        if seed is not None:
            self.venv.seed(seed)
        self.venv.set_options(list(options))
        self.venv.reset()
        return self._observations(), list(self.venv.reset_infos)

    def step(self, actions: np.ndarray) -> bytes:
        """One ``DummyVecEnv`` step of every env: the observations, rewards, dones, infos and
        reset infos (of the envs that reset), pickled into one buffer (cheaper for Ray to send
        than a dozen small arrays)."""
        _, rewards, dones, infos = self.venv.step(actions)
        reply = (self._observations(), rewards, dones, infos, self.venv.reset_infos)
        return pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)

    def vec(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call the ``DummyVecEnv``'s ``method`` (``get_attr``, ``env_is_wrapped``, ...)."""
        return getattr(self.venv, method)(*args, **kwargs)

    def close(self) -> None:
        self.venv.close()

    def _observations(self) -> ObsBuffer:
        return {key: batch.copy() for key, batch in self.venv.buf_obs.items()}


EnvGroupActor = ray.remote(EnvGroup)


class EnvActorFailed(TrainingFailed):
    """An env actor died after the run used up its restarts."""


class RayVecEnv(VecEnv):
    """``len(env_fns)`` envs in Ray actors of ``envs_per_actor`` envs each (one CPU each,
    spread over the cluster's nodes). Ray must be initialised (``ray_cluster.ray_session``)."""

    def __init__(
        self, env_fns: Sequence[EnvFn], envs_per_actor: int, max_restarts: int = 100
    ) -> None:
        if not ray.is_initialized():
            raise RuntimeError("RayVecEnv needs Ray: start it first (ray_cluster.ray_session)")
        self.env_fns = list(env_fns)
        self.bounds = [
            (lo, min(lo + envs_per_actor, len(self.env_fns)))
            for lo in range(0, len(self.env_fns), envs_per_actor)
        ]
        self.max_restarts = max_restarts
        self.restarts = 0
        self.actors = [self._spawn(k) for k in range(len(self.bounds))]
        try:
            self.placements: list[Placement] = self._wait(
                [actor.where.remote() for actor in self.actors]
            )
        except BaseException:
            for actor in self.actors:
                _kill(actor)
            raise
        observation_space, action_space = ray.get(self.actors[0].spaces.remote())
        self._pending: list[ray.ObjectRef] = []
        self._keys = obs_space_info(observation_space)[0]
        self._last_obs: ObsBuffer | None = None
        self._robots: list[Any] = [None] * len(self.env_fns)
        super().__init__(len(self.env_fns), observation_space, action_space)
        logger.info("env actors: %s", placement_summary(self.placements))

    # --- actors --------------------------------------------------------------------------

    def _spawn(self, k: int) -> Any:
        lo, hi = self.bounds[k]
        return EnvGroupActor.options(
            num_cpus=1, max_restarts=0, scheduling_strategy="SPREAD"
        ).remote(self.env_fns[lo:hi], f"env actor {k} (envs {lo}-{hi - 1})")

    @staticmethod
    def _wait(refs: list[ray.ObjectRef]) -> list[Any]:
        """Results of actors' first calls, which wait for them to be scheduled and built."""
        try:
            return ray.get(refs, timeout=START_TIMEOUT_S)
        except GetTimeoutError:
            raise ConfigError(
                f"config error: ray: env actors did not start within {START_TIMEOUT_S:.0f}s; "
                f"the cluster has {ray.available_resources().get('CPU', 0):g} free CPUs"
            ) from None

    def _locate(self, i: int) -> tuple[Any, int]:
        """The actor that holds env ``i``, and the env's index in it."""
        for k, (lo, hi) in enumerate(self.bounds):
            if lo <= i < hi:
                return self.actors[k], i - lo
        raise IndexError(f"env index {i} out of range for {self.num_envs} envs")

    def _replace(self, k: int, error: Exception) -> tuple[ObsBuffer, list[dict[str, Any]]]:
        """Start a new actor in place of dead actor ``k`` and reset its envs; each failed
        attempt counts as one restart."""
        lo, hi = self.bounds[k]
        while True:
            self.restarts += 1
            if self.restarts > self.max_restarts:
                raise EnvActorFailed(
                    f"env actor {k} (envs {lo}-{hi - 1}) died after the run used all "
                    f"{self.max_restarts} restarts (ray.max_restarts)"
                ) from error
            logger.warning(
                "env actor %d (envs %d-%d) on %s died (%s); restarting it (restart %d of at "
                "most %d), its episodes end truncated",
                k, lo, hi - 1, self.placements[k].ip, type(error).__name__, self.restarts,
                self.max_restarts,
            )  # fmt: skip
            _kill(self.actors[k])
            self.actors[k] = self._spawn(k)
            try:
                self.placements[k] = self._wait([self.actors[k].where.remote()])[0]
                return ray.get(self.actors[k].reset.remote(None, [{}] * (hi - lo)))
            except RayActorError as again:
                error = again

    def _gather(
        self, refs: list[ray.ObjectRef], on_death: Callable[[int, Exception], Any]
    ) -> list[Any]:
        """Every actor's reply, in order; ``on_death(k, error)`` stands in for dead actors."""
        try:
            return ray.get(refs)
        except RayActorError:
            pass
        replies = []
        for k, ref in enumerate(refs):
            try:
                replies.append(ray.get(ref))
            except RayActorError as err:
                replies.append(on_death(k, err))
        return replies

    # --- VecEnv ----------------------------------------------------------------------------

    def reset(self) -> VecEnvObs:
        refs = [
            actor.reset.remote(self._seeds[lo], self._options[lo:hi])
            for actor, (lo, hi) in zip(self.actors, self.bounds, strict=True)
        ]
        replies = self._gather(refs, self._replace)
        self.reset_infos = [info for _, infos in replies for info in infos]
        self._robots = [info.get("robot") for info in self.reset_infos]
        self._reset_seeds()
        self._reset_options()
        return self._observations([obs for obs, _ in replies])

    def step_async(self, actions: np.ndarray) -> None:
        self._pending = [
            actor.step.remote(actions[lo:hi])
            for actor, (lo, hi) in zip(self.actors, self.bounds, strict=True)
        ]

    def step_wait(self) -> VecEnvStepReturn:
        replies = [
            pickle.loads(r) if isinstance(r, bytes) else r
            for r in self._gather(self._pending, self._truncated_after_restart)
        ]
        self._pending = []
        obs = self._observations([r[0] for r in replies])
        rewards = np.concatenate([r[1] for r in replies])
        dones = np.concatenate([r[2] for r in replies])
        infos = [info for r in replies for info in r[3]]
        for i, (info, reset_info) in enumerate(
            zip(infos, [ri for r in replies for ri in r[4]], strict=True)
        ):
            self._robots[i] = info.get("robot", self._robots[i])
            if dones[i]:
                self.reset_infos[i] = reset_info
        return obs, rewards, dones, infos

    def _observations(self, batches: list[ObsBuffer]) -> VecEnvObs:
        """The actors' observations as one batch, kept as the last ones seen."""
        self._last_obs = {key: np.concatenate([b[key] for b in batches]) for key in self._keys}
        return dict_to_obs(self.observation_space, self._last_obs)

    def _last_observation(self, i: int) -> Any:
        """Env ``i``'s last observation, or None before the first reset."""
        if self._last_obs is None:
            return None
        return dict_to_obs(self.observation_space, {k: v[i] for k, v in self._last_obs.items()})

    def _truncated_after_restart(self, k: int, error: Exception) -> tuple[Any, ...]:
        """A step reply for dead actor ``k``: its envs' episodes end truncated at their last
        observation, and the new actor's reset observations start the next ones."""
        lo, hi = self.bounds[k]
        obs, reset_infos = self._replace(k, error)
        infos = [
            {
                "robot": self._robots[i],
                "is_success": False,
                "TimeLimit.truncated": True,
                "terminal_observation": self._last_observation(i),
                "env_actor_restarted": True,
            }
            for i in range(lo, hi)
        ]
        n = hi - lo
        return obs, np.zeros(n, np.float32), np.ones(n, bool), infos, reset_infos

    def close(self) -> None:
        with contextlib.suppress(RayActorError, GetTimeoutError):
            ray.get([actor.close.remote() for actor in self.actors], timeout=30)
        for actor in self.actors:
            _kill(actor)

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [value for [value] in self._per_env(indices, "get_attr", attr_name)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        self._per_env(indices, "set_attr", attr_name, value)

    def env_method(
        self,
        method_name: str,
        *method_args: Any,
        indices: VecEnvIndices = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        replies = self._per_env(indices, "env_method", method_name, *method_args, **method_kwargs)
        return [value for [value] in replies]

    def env_is_wrapped(
        self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None
    ) -> list[bool]:
        return [value for [value] in self._per_env(indices, "env_is_wrapped", wrapper_class)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return self.env_method("render")

    def _per_env(self, indices: VecEnvIndices, method: str, *args: Any, **kwargs: Any) -> list[Any]:
        """``DummyVecEnv.<method>(*args, indices=[j], **kwargs)`` for each env of ``indices``, in
        the actor that holds it as its env ``j``: what each call returned, in order."""
        calls = [
            actor.vec.remote(method, *args, indices=[j], **kwargs)
            for actor, j in map(self._locate, self._get_indices(indices))
        ]
        return ray.get(calls)


def _kill(actor: Any) -> None:
    """End an actor's process, whether or not it is still alive."""
    with contextlib.suppress(ValueError):
        ray.kill(actor, no_restart=True)
