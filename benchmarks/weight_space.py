"""Summarise what ``deepwe-rl inspect`` wrote about a run's weight space: do robots of one joint
count, or the real arms, sit together in the robot-embedding space, and does the weight-space
distance to the nearest training robot go with zero-shot success.

    deepwe-rl inspect RUN_DIR                 # writes RUN_DIR/inspect/
    python benchmarks/weight_space.py RUN_DIR [--figure docs/figures/<name>.png]

Reads the projector's robot embeddings (``tensors.tsv``, ``metadata.tsv``), ``embedding_pca.json``
and ``weights.json`` from ``RUN_DIR/inspect/``, and ``RUN_DIR/transfer/transfer.json`` when
there is one. ``--figure`` copies inspect's ``embedding_pca.png`` there. Prints a table per
robot and the mean pairwise embedding distances (Euclidean, in the full embedding space).
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np


def _mean(values: list[float]) -> str:
    return f"{np.mean(values):.3f} over {len(values)} pairs" if values else "no pairs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--figure", type=Path, help="Copy inspect's embedding_pca.png here.")
    args = parser.parse_args()
    folder = args.run / "inspect"
    found = next(folder.rglob("robot_embedding"))
    vectors = np.loadtxt(found / "tensors.tsv", delimiter="\t", ndmin=2)
    meta = [line.split("\t") for line in (found / "metadata.tsv").read_text().splitlines()[1:]]
    names, joints = [m[0] for m in meta], [int(m[1]) for m in meta]
    real = [not n.startswith("proc:") for n in names]
    pca = {r["name"]: r for r in json.loads((folder / "embedding_pca.json").read_text())["robots"]}
    weights = json.loads((folder / "weights.json").read_text())
    transfer = args.run / "transfer" / "transfer.json"
    success = (
        {z["robot"]: z for z in json.loads(transfer.read_text())["zero_shot"]}
        if transfer.is_file()
        else {}
    )

    print(
        "| robot | joints | category | PC 1 | PC 2 | distance to nearest training robot "
        "| zero-shot success |"
    )
    print("|---|---:|---|---:|---:|---:|---:|")
    for name, count in zip(names, joints, strict=True):
        z = success.get(name)
        rate = f"{z['success_rate']:.2f} ({z['episodes']} episodes)" if z else "-"
        print(
            f"| {name} | {count} | {pca[name]['category']} | {pca[name]['pc1']:.3f} "
            f"| {pca[name]['pc2']:.3f} "
            f"| {weights[name]['distance_to_nearest_training_robot']:.3f} | {rate} |"
        )

    distance = np.linalg.norm(vectors[:, None] - vectors[None], axis=-1)
    pairs = list(itertools.combinations(range(len(names)), 2))

    def mean_over(keep: Callable[[int, int], bool]) -> str:
        return _mean([distance[i, j] for i, j in pairs if keep(i, j)])

    print(f"\nrobot embeddings ({vectors.shape[1]} dims), mean pairwise Euclidean distance:")
    print(f"- same joint count: {mean_over(lambda i, j: joints[i] == joints[j])}")
    print(f"- different joint counts: {mean_over(lambda i, j: joints[i] != joints[j])}")
    print(f"- real arm to real arm: {mean_over(lambda i, j: real[i] and real[j])}")
    print(f"- real arm to procedural arm: {mean_over(lambda i, j: real[i] != real[j])}")
    print(f"- procedural to procedural: {mean_over(lambda i, j: not real[i] and not real[j])}")
    for count in sorted(set(joints)):
        group = [i for i in range(len(names)) if joints[i] == count and not real[i]]
        within = [distance[i, j] for i, j in itertools.combinations(group, 2)]
        if within:
            print(f"- {count}-joint procedural arms, among themselves: {_mean(within)}")
    for i in (i for i in range(len(names)) if real[i]):
        nearest = min((j for j in range(len(names)) if j != i), key=lambda j: distance[i, j])
        print(f"- nearest to {names[i]}: {names[nearest]} ({distance[i, nearest]:.3f})")
    if args.figure:
        args.figure.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(folder / "embedding_pca.png", args.figure)
        print(f"\ncopied {folder / 'embedding_pca.png'} to {args.figure}")


if __name__ == "__main__":
    main()
