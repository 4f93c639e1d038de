"""Peak memory of building the learning-proof data: rows written to Arrow on disk vs rendered into a list.

``cua train smoke`` builds every stage's training set and the held-out sets before the first step (issue 10
item 10: it peaked at 7.4 GB resident). This script builds exactly those sets (``train/recipes/smoke.yaml``,
sizes times ``--scale``) twice, each in a fresh child process with its own empty Hugging Face cache, and prints
each child's peak resident memory (``ru_maxrss``) side by side:

  list:  the former path: every rendered row (with its decoded screen) kept in a Python list, then
         ``Dataset.from_list`` (reproduced here as the reference);
  disk:  :func:`cua.train.data.stage_dataset` as ``cua train`` runs it (rows rendered and written one at a time
         by ``Dataset.from_generator``, memory-mapped).

It also checks that both give the same rows in the same order (episode ids and pixel hashes). Goal: ``disk``
under 2 GB at ``--scale 1``. Run: ``python bench/train_memory.py [--scale 0.25]``. For the whole run, measure
``/usr/bin/time -v cua train smoke`` with fewer steps (docs/learning_proof.md, "Memory").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _sources(scale: float) -> list[tuple[str, list, bool]]:
    """(set name, sources, with_completion) of every set the smoke recipe builds, sizes scaled."""
    from dataclasses import replace

    from cua.train.recipe import load_recipe

    recipe = load_recipe("smoke")

    def scaled(specs: list) -> list:
        return [replace(s, args={**s.args, "n": max(1, int(s.args["n"] * scale))}) for s in specs]

    out = [(st.name, scaled(recipe.stage_data(st)), st.kind == "sft") for st in recipe.stages]
    out += [(f"eval-{st.name}", scaled(recipe.stage_eval_data(st)), False) for st in recipe.stages
            if st.eval_data]
    return out + [("eval", scaled(recipe.eval_data), False)]


def _list_path(sources: list, codec, pixels, with_completion: bool):
    """The former build: all rendered rows in memory, then ``Dataset.from_list`` (reference only)."""
    import datasets as hf

    from cua.train.data import _png, load_source, mix, to_trl_row

    mixed = mix([load_source(s) for s in sources], [s.weight for s in sources], 0)
    out = [to_trl_row(r, i, codec, pixels, with_completion=with_completion) for i, r in enumerate(mixed)]
    images = [[_png(im) for im in r.pop("images")] for r in out]
    features = hf.Dataset.from_list(out).features.copy()
    features["images"] = hf.List(hf.Image())
    return hf.Dataset.from_list([{**r, "images": im} for r, im in zip(out, images)], features=features)


def child(mode: str, scale: float, digest_rows: int) -> None:
    """Build every set in ``mode``; print JSON with peak RSS, seconds and a digest of each set's first rows."""
    from cua.codecs import get_codec
    from cua.train.data import Pixels, stage_dataset

    codec, pixels = get_codec("grid8"), Pixels(factor=32, min_pixels=65536, max_pixels=65536)
    started, kept, digests = time.monotonic(), [], {}
    for name, sources, with_completion in _sources(scale):
        if mode == "list":
            data = _list_path(sources, codec, pixels, with_completion)
        else:
            data = stage_dataset(sources, codec, pixels, with_completion=with_completion, seed=0)
        kept.append(data)  # cua train keeps every stage's set until training ends
        h = hashlib.sha256()
        for row in data.select(range(min(digest_rows, len(data)))):
            h.update(row["episode_id"].encode() + row["images"][0].convert("RGB").tobytes())
        digests[name] = [len(data), h.hexdigest()[:16]]
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"mode": mode, "peak_gb": peak_kb / 1e6, "seconds": time.monotonic() - started,
                      "sets": digests}))


def _run(mode: str, scale: float, digest_rows: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="cua-bench-mem-") as cache:
        env = {**os.environ, "HF_DATASETS_CACHE": cache, "TMPDIR": cache, "HF_DATASETS_DISABLE_PROGRESS_BARS": "1"}
        done = subprocess.run([sys.executable, __file__, "--child", mode, "--scale", str(scale),
                               "--digest-rows", str(digest_rows)], env=env, capture_output=True, text=True,
                              cwd=tempfile.gettempdir())
    if done.returncode != 0:
        raise SystemExit(f"{mode} child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the smoke recipe's set sizes")
    parser.add_argument("--digest-rows", type=int, default=200, help="rows per set compared between the paths")
    parser.add_argument("--child", choices=("list", "disk"), help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        child(opts.child, opts.scale, opts.digest_rows)
        return
    old, new = _run("list", opts.scale, opts.digest_rows), _run("disk", opts.scale, opts.digest_rows)
    rows = sum(v[0] for v in new["sets"].values())
    print(f"smoke recipe data x{opts.scale:g}: {rows} rows in {len(new['sets'])} sets")
    print(f"{'path':<6} {'peak RSS GB':>12} {'seconds':>8}")
    for r in (old, new):
        print(f"{r['mode']:<6} {r['peak_gb']:>12.2f} {r['seconds']:>8.0f}")
    print(f"ratio disk/list: {new['peak_gb'] / old['peak_gb']:.2f}   goal: disk < 2 GB at --scale 1")
    same = old["sets"] == new["sets"]
    print(f"same rows, order and pixels (first {opts.digest_rows} of each set): {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit(f"rows differ: {old['sets']} vs {new['sets']}")


if __name__ == "__main__":
    main()
