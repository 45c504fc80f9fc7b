"""benchmarks/transfer_report.py: the transfer benchmark's tables from its raw results (the
shape ``deepwe-rl transfer`` writes to transfer.json), figures in, markdown and summary out."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.transfer_report import real_heldout_table, write_between, zero_shot_table


def transfer_json(rates: dict[str, tuple[str, float]]) -> dict:
    """A transfer.json's zero-shot part: per robot its category and success; category means."""
    by_category: dict[str, list[float]] = {}
    for category, rate in rates.values():
        by_category.setdefault(category, []).append(rate)
    return {
        "zero_shot": [
            {"robot": robot, "category": category, "success_rate": rate}
            for robot, (category, rate) in rates.items()
        ],
        "category_means": {c: sum(v) / len(v) for c, v in by_category.items()},
    }


def seed(train: float, ur5: float, z1: float, xarm6: float) -> dict:
    return transfer_json({
        "panda": ("train", train),
        "proc:5:100": ("interpolate", 0.9),
        "ur5": ("real-heldout", ur5),
        "z1": ("real-heldout", z1),
        "xarm6": ("real-heldout", xarm6),
    })  # fmt: skip


RESULTS = {
    "deepwe": {
        "seconds": [100.0, 140.0],
        "transfer": [seed(1.0, 1.0, 0.5, 0.0), seed(0.8, 0.8, 0.5, 0.2)],
        "demo_steps": [70_000, 72_000],
        "ppo_steps": [26_624, 26_624],
    },
    "mlp": {
        "seconds": [60.0, 60.0],
        "transfer": [seed(0.6, 0.0, 0.0, 0.3), seed(0.6, 0.4, 0.0, 0.3)],
        "demo_steps": [71_000, 71_000],
        "ppo_steps": [26_624, 26_624],
    },
}


def test_real_heldout_table_has_each_evaluated_arm_of_the_split_in_order_and_their_mean() -> None:
    lines, summary = real_heldout_table(RESULTS, ("xarm6", "so101", "z1", "ur5"))
    assert lines[0] == "| network | xarm6 | z1 | ur5 | mean |"
    assert lines[2] == "| deepwe | 0.10 ± 0.10 | 0.50 ± 0.00 | 0.90 ± 0.10 | 0.50 ± 0.00 |"
    assert lines[3] == "| mlp | 0.30 ± 0.00 | 0.00 ± 0.00 | 0.20 ± 0.20 | 0.17 ± 0.07 |"
    assert summary["deepwe"]["ur5"] == pytest.approx({"mean": 0.9, "sd": 0.1})
    assert summary["mlp"]["mean"] == pytest.approx({"mean": 1 / 6, "sd": 0.2 / 3})


def test_zero_shot_table_reports_push_env_steps_and_wall_clock_against_the_mlp() -> None:
    lines, summary = zero_shot_table(RESULTS, ("train", "interpolate", "real-heldout"))
    assert lines[0] == (
        "| network | train wall-clock (s) | x MLP | env steps (demonstrations + PPO) "
        "| train | interpolate | real-heldout |"
    )
    assert lines[2] == (
        "| deepwe | 120 | 2.00 | 71,000 + 26,624 | 0.90 ± 0.10 | 0.90 ± 0.00 | 0.50 ± 0.00 |"
    )
    assert summary["env_steps"]["mlp"] == {"demonstrations": 71_000.0, "ppo": 26_624.0}
    assert summary["zero_shot"]["mlp"]["real-heldout"] == pytest.approx(1 / 6)
    without_mlp, _ = zero_shot_table({"deepwe": RESULTS["deepwe"]}, ("train",))
    assert without_mlp[2] == "| deepwe | 120 | - | 71,000 + 26,624 | 0.90 ± 0.10 |"


def test_write_between_replaces_only_the_marked_part(tmp_path: Path) -> None:
    doc = tmp_path / "results.md"
    doc.write_text("# R\n<!-- a:begin -->\nold\n<!-- a:end -->\nafter\n")
    write_between(doc, "<!-- a:begin -->", "<!-- a:end -->", "| new |\n")
    assert doc.read_text() == "# R\n<!-- a:begin -->\n| new |\n<!-- a:end -->\nafter\n"
    with pytest.raises(SystemExit, match=r"no <!-- b:begin --> \.\.\. <!-- b:end --> markers"):
        write_between(doc, "<!-- b:begin -->", "<!-- b:end -->", "x\n")
    assert doc.read_text().count("| new |") == 1
