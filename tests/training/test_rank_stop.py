"""Stop rules agree across ranks: two gloo processes whose clocks disagree stop at the same step (rank 0's
decision), since a rank that trained on alone would hang in the next collective."""

from __future__ import annotations

import json
from pathlib import Path

import torch.distributed as dist
import torch.multiprocessing as mp
from transformers import TrainerControl, TrainerState

from cua.train.callbacks import rank_zero_decides
from cua.train.evaluate import TimeLimit


#: (rank 0's minutes, rank 1's minutes) -> what both ranks must do: rank 0's decision.
CASES = [((0.0, 1000.0), [True, True]), ((1000.0, 0.0), [False, False])]


def _rank(rank: int, init: str, out: str) -> None:
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=2)
    try:
        stops = []
        for minutes, _ in CASES:
            limit, state, control = TimeLimit(minutes[rank]), TrainerState(), TrainerControl()
            limit.on_train_begin(None, state, control)
            limit.on_step_end(None, state, control)
            stops.append(control.should_training_stop)
        Path(out, f"rank{rank}.json").write_text(json.dumps(stops))
    finally:
        dist.destroy_process_group()


def test_rank_zero_decides_for_every_rank(tmp_path: Path) -> None:
    mp.spawn(_rank, args=(f"file://{tmp_path / 'rendezvous'}", str(tmp_path)), nprocs=2, join=True)
    by_rank = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [[by_rank[0][i], by_rank[1][i]] for i in range(len(CASES))] == [want for _, want in CASES]


def test_outside_distributed_the_flag_is_kept() -> None:
    assert rank_zero_decides(True) is True and rank_zero_decides(False) is False
