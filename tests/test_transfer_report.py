"""benchmarks/transfer_report.py: the transfer benchmark's tables from its raw results (the
shape ``deepwe-rl transfer`` writes to transfer.json), figures in, markdown and summary out."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.transfer_report import (
    race_table,
    real_heldout_table,
    write_between,
    zero_shot_table,
)


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
        "rounds": [[[40_000, 50.0, 0.5], [55_000, 80.0, 0.7]], [[40_000, 50.0, 0.5]]],
    },
    "mlp": {
        "seconds": [60.0, 60.0],
        "transfer": [seed(0.6, 0.0, 0.0, 0.3), seed(0.6, 0.4, 0.0, 0.3)],
        "demo_steps": [71_000, 71_000],
        "ppo_steps": [26_624, 26_624],
        "rounds": [[[41_000, 20.0, 0.2]], [[41_000, 20.0, 0.65]]],
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


def test_race_table_finds_where_each_run_first_reached_the_mlps_final_in_its_seed() -> None:
    """Seed 0: DeepWe at its second DAgger round, the MLP at its end. Seed 1: DeepWe at its
    end, the MLP at a round that drove above its final. A run that never gets there: '-'."""
    never = {
        "seconds": [500.0],
        "transfer": [seed(0.5, 0.0, 0.0, 0.0)],
        "demo_steps": [70_000],
        "ppo_steps": [26_624],
        "rounds": [[[40_000, 200.0, 0.55]]],
    }
    lines, summary = race_table(RESULTS | {"transformer": never})
    assert lines[0] == (
        "| network | seed | final success | MLP's final | env steps to it | x MLP's "
        "| seconds to it | x MLP's |"
    )
    mlp_end = 71_000 + 26_624
    assert lines[2:] == [
        f"| deepwe | 0 | 1.00 | 0.60 | 55,000 | {55_000 / mlp_end:.2f} | 80 | 1.33 |",
        f"| deepwe | 1 | 0.80 | 0.60 | 98,624 | {98_624 / mlp_end:.2f} | 140 | 2.33 |",
        "| mlp | 0 | 0.60 | 0.60 | 97,624 | 1.00 | 60 | 1.00 |",
        f"| mlp | 1 | 0.60 | 0.60 | 41,000 | {41_000 / mlp_end:.2f} | 20 | 0.33 |",
        "| transformer | 0 | 0.50 | 0.60 | - | - | - | - |",
    ]
    assert summary["mlp"][1] == {"final": pytest.approx(0.6), "env_steps": 41_000, "seconds": 20}
    assert summary["transformer"] == [
        {"final": pytest.approx(0.5), "env_steps": None, "seconds": None}
    ]


def test_write_between_replaces_only_the_marked_part(tmp_path: Path) -> None:
    doc = tmp_path / "results.md"
    doc.write_text("# R\n<!-- a:begin -->\nold\n<!-- a:end -->\nafter\n")
    write_between(doc, "<!-- a:begin -->", "<!-- a:end -->", "| new |\n")
    assert doc.read_text() == "# R\n<!-- a:begin -->\n| new |\n<!-- a:end -->\nafter\n"
    with pytest.raises(SystemExit, match=r"no <!-- b:begin --> \.\.\. <!-- b:end --> markers"):
        write_between(doc, "<!-- b:begin -->", "<!-- b:end -->", "x\n")
    assert doc.read_text().count("| new |") == 1
