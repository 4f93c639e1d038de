"""Metrics and the HTML report of a live-evaluation run (``OUT/metrics.json``, ``OUT/report.html``).

Rebuilt from the whole result file, so a resumed run reports exactly what an uninterrupted one would.
Success rates leave infra-failed episodes out (they are counted apart, as ``infra_failure_rate``: the machine
failed, not the agent). Invalid-action rate: invalid steps / all steps. Time per step: the mean of the
episodes' mean step time (observe + propose + execute). The chart (``success_per_task.png``, matplotlib) shows
success per task; each episode row links to that episode's own report (:func:`cua.report.write_report`,
screenshots with the actions drawn), written here when missing.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Sequence

METRICS_FILE = "metrics.json"
REPORT_FILE = "report.html"
CHART_FILE = "success_per_task.png"
STYLE = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
         "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}"
         ".ok{background:#dfd}.bad{background:#fdd}.infra{background:#ffd}")


def _rate(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def _group(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    played = [r for r in records if not r.get("infra_error")]
    steps = sum(int(r.get("steps") or 0) for r in records)
    invalid = sum(int(r.get("invalid_steps") or 0) for r in records)
    rewards = [float(r["reward"]) for r in played if r.get("reward") is not None]
    step_times = [float(r["step_seconds"]) for r in records if r.get("step_seconds") is not None]
    return {
        "episodes": len(records), "played": len(played),
        "success_rate": _rate(sum(1 for r in played if r.get("success")), len(played)),
        "mean_reward": _rate(sum(rewards), len(rewards)),
        "invalid_action_rate": _rate(invalid, steps),
        "infra_failure_rate": _rate(len(records) - len(played), len(records)),
        "mean_steps": _rate(steps, len(records)),
        "seconds_per_step": _rate(sum(step_times), len(step_times)),
    }


def summarize(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Overall, per-suite and per-task metrics of episode records."""
    records = list(records)
    by_task: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_suite: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_task[r["task"]].append(r)
        by_suite[r.get("suite", "")].append(r)
    metrics = _group(records)
    metrics["per_suite"] = {s: _group(rs) for s, rs in sorted(by_suite.items())}
    metrics["per_task"] = {t: _group(rs) for t, rs in sorted(by_task.items())}
    return metrics


def write_chart(path: Path, per_task: dict[str, dict[str, Any]]) -> Path:
    """A horizontal bar chart of success per task (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(per_task)
    values = [100.0 * (per_task[t]["success_rate"] or 0.0) for t in names]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(names) + 1.2))
    ax.barh(names, values, color="#4363d8")
    ax.set_xlim(0, 100)
    ax.set_xlabel("success (%)")
    ax.invert_yaxis()
    for y, v in enumerate(values):
        ax.text(min(v + 1, 92), y, f"{v:.0f}", va="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def episode_report(out_dir: Path, record: dict[str, Any]) -> str | None:
    """The relative link to the episode's own report.html, writing it if missing; None when it cannot be read."""
    from cua.errors import DatasetError
    from cua.report import REPORT_FILE as EPISODE_REPORT
    from cua.report import write_report

    folder = out_dir / str(record.get("trajectory") or "")
    if not record.get("trajectory") or not folder.is_dir():
        return None
    target = folder / EPISODE_REPORT
    if not target.exists():
        try:
            write_report(folder)
        except (DatasetError, OSError, ValueError):
            return None
    return f"{record['trajectory']}/{EPISODE_REPORT}"


def write_live_report(out_dir: str | Path, records: Sequence[dict[str, Any]],
                      meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write metrics.json, the chart and report.html for ``records``; return the metrics."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics = summarize(records)
    metrics["meta"] = dict(meta or {})
    (out / METRICS_FILE).write_text(json.dumps(metrics, indent=2, sort_keys=True), encoding="utf-8")
    if metrics["per_task"]:
        write_chart(out / CHART_FILE, metrics["per_task"])
    links = {r["id"]: episode_report(out, r) for r in records}
    (out / REPORT_FILE).write_text(_page(metrics, records, links, chart=bool(metrics["per_task"])), encoding="utf-8")
    return metrics


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:.3g}"


def _metric_rows(groups: dict[str, dict[str, Any]], label: str) -> str:
    head = (f"<tr><th>{label}</th><th>episodes</th><th>success</th><th>mean reward</th><th>invalid actions</th>"
            "<th>infra failures</th><th>steps</th><th>s / step</th></tr>")
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{g['episodes']}</td><td>{_pct(g['success_rate'])}</td>"
        f"<td>{_num(g['mean_reward'])}</td><td>{_pct(g['invalid_action_rate'])}</td>"
        f"<td>{_pct(g['infra_failure_rate'])}</td><td>{_num(g['mean_steps'])}</td><td>{_num(g['seconds_per_step'])}</td></tr>"
        for name, g in groups.items())
    return f"<table>{head}{rows}</table>"


def _episode_rows(records: Sequence[dict[str, Any]], links: dict[str, str | None]) -> str:
    head = ("<tr><th>suite</th><th>task</th><th>seed</th><th>result</th><th>reward</th><th>steps</th>"
            "<th>invalid</th><th>status</th><th>s</th><th>goal</th><th>report</th></tr>")
    rows = []
    for r in records:
        cls = "infra" if r.get("infra_error") else ("ok" if r.get("success") else "bad")
        verdict = "infra error" if r.get("infra_error") else ("success" if r.get("success") else "failure")
        link = links.get(r["id"])
        cell = f'<a href="{html.escape(link)}">episode</a>' if link else "-"
        rows.append(
            f"<tr class={cls}><td>{html.escape(str(r.get('suite', '')))}</td><td>{html.escape(r['task'])}</td>"
            f"<td>{r['seed']}</td><td>{verdict}</td><td>{_num(r.get('reward'))}</td><td>{r.get('steps')}</td>"
            f"<td>{r.get('invalid_steps')}</td><td>{html.escape(str(r.get('status')))}</td>"
            f"<td>{_num(r.get('seconds'))}</td><td>{html.escape(str(r.get('goal', ''))[:120])}</td><td>{cell}</td></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _page(metrics: dict[str, Any], records: Sequence[dict[str, Any]], links: dict[str, str | None], *,
          chart: bool) -> str:
    meta = metrics.get("meta", {})
    meta_rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v))}</td></tr>"
                        for k, v in sorted(meta.items()))
    overall = {"all": {k: v for k, v in metrics.items() if not k.startswith("per_") and k != "meta"}}
    parts = [
        f"<!doctype html><meta charset=utf-8><title>cua live evaluation</title><style>{STYLE}</style>",
        "<h1>Live evaluation</h1>", f"<table>{meta_rows}</table>",
        "<h2>Overall</h2>", _metric_rows(overall, "run"),
        "<h2>Per suite</h2>", _metric_rows(metrics["per_suite"], "suite"),
        "<h2>Per task</h2>", _metric_rows(metrics["per_task"], "task"),
    ]
    if chart:
        parts.append(f'<img src="{CHART_FILE}" alt="success per task">')
    parts += ["<h2>Episodes</h2>", _episode_rows(records, links)]
    return "\n".join(parts)
