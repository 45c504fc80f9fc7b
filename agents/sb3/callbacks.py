"""SB3 callbacks for a deepwe-rl run: per-robot episode stats, periodic evaluation, atomic
checkpoints and the hyperparameters, all logged under the shared tag names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import HParam

from deepwe_rl.agents.evaluation import Evaluator, write_eval_json
from deepwe_rl.agents.metrics import HPARAM_METRICS, Episode, EpisodeWindow, scalars
from deepwe_rl.agents.run_dir import RunDir
from deepwe_rl.agents.sb3.checkpoints import save_checkpoint

_NOT_TO_TEXT = ("stdout", "log", "json", "csv")


class _Every(BaseCallback):
    """Calls ``fire`` each time the env-step count passes a multiple of ``freq``."""

    def __init__(self, freq: int) -> None:
        super().__init__()
        self.freq = freq
        self._next = 0

    def _init_callback(self) -> None:
        # The model's count: a resumed model starts past 0, and the callback's own count is
        # only set at its first step.
        steps = self.model.num_timesteps
        self._next = (steps // self.freq + 1) * self.freq if self.freq else 0

    def _on_step(self) -> bool:
        if self.freq and self.num_timesteps >= self._next:
            self._next = (self.num_timesteps // self.freq + 1) * self.freq
            self.fire()
        return True

    def fire(self) -> None:
        raise NotImplementedError


class StopWhenAsked(BaseCallback):
    """Raises KeyboardInterrupt between env steps once ``check`` says a stop was asked for
    (``interrupts.interrupt_at_safe_points``)."""

    def __init__(self, check: Callable[[], None]) -> None:
        super().__init__()
        self.check = check

    def _on_step(self) -> bool:
        self.check()
        return True

    def _on_rollout_end(self) -> None:
        self.check()


class RobotEpisodes(BaseCallback):
    """Collects finished training episodes per robot and records ``rollout/...`` scalars."""

    def __init__(self, window: int = 100) -> None:
        super().__init__()
        self.window = EpisodeWindow(window)

    def _on_step(self) -> bool:
        for done, info in zip(self.locals["dones"], self.locals["infos"], strict=True):
            if done and "episode" in info:
                self.window.add(
                    Episode(
                        info["robot"],
                        bool(info.get("is_success", False)),
                        float(info["episode"]["r"]),
                        int(info["episode"]["l"]),
                    )
                )
        return True

    def _on_rollout_end(self) -> None:
        for tag, value in scalars("rollout", self.window.episodes()).items():
            self.logger.record(tag, value)


class PeriodicEval(_Every):
    """Deterministic episodes on every eval robot each ``freq`` env steps: ``eval/...`` scalars
    and ``eval/eval_<step>.json`` in the run; with ``at_start`` also before the first step (a
    policy cloned from demonstrations, before RL)."""

    def __init__(
        self, evaluator: Evaluator, episodes: int, run: RunDir, freq: int, at_start: bool = False
    ) -> None:
        super().__init__(freq)
        self.evaluator = evaluator
        self.episodes = episodes
        self.run = run
        self.at_start = at_start

    def _on_training_start(self) -> None:
        if self.at_start:
            self.fire()

    def fire(self) -> None:
        episodes = self.evaluator.run(
            lambda obs: self.model.predict(obs, deterministic=True)[0], self.episodes
        )
        for tag, value in scalars("eval", episodes).items():
            self.logger.record(tag, value)
        write_eval_json(
            self.run.eval / f"eval_{self.num_timesteps:09d}.json", episodes, self.num_timesteps
        )
        self.logger.dump(self.num_timesteps)


class PeriodicCheckpoint(_Every):
    """An atomic checkpoint each ``freq`` env steps, keeping the newest ``keep``; with
    ``replay_buffer``, an off-policy model's buffer too."""

    def __init__(self, run: RunDir, freq: int, keep: int, replay_buffer: bool = True) -> None:
        super().__init__(freq)
        self.run = run
        self.keep = keep
        self.replay_buffer = replay_buffer

    def fire(self) -> None:
        save_checkpoint(self.model, self.run, self.keep, self.replay_buffer)


class HParams(BaseCallback):
    """Writes the run's hyperparameters once, for TensorBoard's HPARAMS tab."""

    def __init__(self, hparams: dict[str, Any]) -> None:
        super().__init__()
        self.hparams = hparams

    def _on_training_start(self) -> None:
        metrics = dict.fromkeys(HPARAM_METRICS, 0.0)
        self.logger.record("hparams", HParam(self.hparams, metrics), exclude=_NOT_TO_TEXT)

    def _on_step(self) -> bool:
        return True
