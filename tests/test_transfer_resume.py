"""benchmarks/transfer.py in parts: a later call with the same ``--out`` keeps the runs an
earlier one finished, and refuses an ``--out`` made with other settings."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

from tests.test_transfer_report import RESULTS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def transfer(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """benchmarks/transfer.py, imported as the script imports its neighbours, with training
    refused: a run kept from an earlier call must not be trained again."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    module = importlib.import_module("transfer")

    def refuse(*args: object) -> None:
        raise AssertionError(f"trained again: {args[1:3]}")

    monkeypatch.setattr(module, "train", refuse)
    return module


def test_a_second_call_with_the_same_settings_keeps_every_finished_run(
    transfer: ModuleType, tmp_path: Path
) -> None:
    first = transfer.parse(
        ["--task", "push", "--seeds", "2", "--kinds", "deepwe", "--out", str(tmp_path)]
    )
    transfer.keep(first, RESULTS)
    wider = transfer.parse(
        ["--task", "push", "--seeds", "2", "--kinds", "deepwe,mlp", "--out", str(tmp_path)]
    )
    assert transfer.measure("push", wider) == RESULTS


def test_a_raw_file_kept_apart_from_out_carries_the_runs_to_a_fresh_out(
    transfer: ModuleType, tmp_path: Path
) -> None:
    """A fresh checkout has no ``<out>``: the results kept in ``--raw`` (in git) are enough."""
    raw = tmp_path / "records" / "push.json"
    first = transfer.parse(
        ["--task", "push", "--seeds", "2", "--kinds", "deepwe,mlp", "--out", str(tmp_path / "a"),
         "--raw", str(raw)]
    )  # fmt: skip
    transfer.keep(first, RESULTS)
    fresh = transfer.parse(
        ["--task", "push", "--seeds", "2", "--kinds", "deepwe,mlp", "--out", str(tmp_path / "b"),
         "--raw", str(raw)]
    )  # fmt: skip
    assert transfer.measure("push", fresh) == RESULTS
    assert not (tmp_path / "b" / "raw.json").exists()


def test_an_out_folder_made_with_other_settings_is_refused_in_one_line(
    transfer: ModuleType, tmp_path: Path
) -> None:
    first = transfer.parse(["--task", "push", "--out", str(tmp_path)])
    transfer.keep(first, RESULTS)
    other = transfer.parse(["--task", "push", "--steps", "100", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="other settings") as stopped:
        transfer.measure("push", other)
    assert "\n" not in str(stopped.value)
