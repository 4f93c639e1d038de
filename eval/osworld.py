"""OSWorld adapters: a cua policy as an OSWorld agent, their task JSON and evaluators, and their run loop.

Source: xlang-ai/OSWorld -- ``run.py`` / ``lib_run_single.py`` (the agent interface ``predict(instruction,
obs) -> (response, actions)`` and ``reset()``; the example loop: ``env.reset(task_config)``, settle,
``env._get_obs()``, predict, ``env.step(action)`` per action until done or ``max_steps``, ``env.evaluate()``,
``result.txt`` per example), ``desktop_env/desktop_env.py`` (``evaluate``: ``infeasible`` tasks, a final
``FAIL``, one metric or a list joined by ``conj``, ``options``), and their task files
(``evaluation_examples/test_all.json``: domain -> example ids; ``examples/DOMAIN/ID.json``).

- :class:`OSWorldAgent`: ``obs["screenshot"]`` (PNG bytes) becomes a cua Observation; the policy proposes one
  cua Action; :mod:`cua.eval.osworld_actions` writes it in the env's action space (``pyautogui`` code from
  fixed templates, or ``computer_13`` dicts). ``Terminate`` -> ``DONE``/``FAIL``; an ``Answer`` is kept
  (``answer``) and sends nothing; an invalid proposal sends nothing and is recorded in ``history``.
- :func:`evaluate_task` judges a task config the way ``DesktopEnv.evaluate`` does, with OSWorld's own getter
  and metric functions (``desktop_env.evaluators``), given any ``env`` object their getters accept (a
  ``controller`` speaking their VM server's HTTP protocol and a ``cache_dir``). Their metric and getter
  packages import every module (easyocr, librosa, ...) at once; :func:`evaluator_function` loads only the
  module defining the one function a task names, so a ``pip install --no-deps desktop-env`` plus that
  module's imports suffices.
- :func:`run_example` / :func:`run_suite` are their example loop and ``run.py`` over ``test_all.json`` with
  their ``DesktopEnv`` (a VM provider: vmware, virtualbox, docker, aws, ...), resumable by ``result.txt``.
"""

from __future__ import annotations

import ast
import importlib
import importlib.machinery
import importlib.util
import json
import sys
import time
import types
from pathlib import Path
from typing import Any, Callable, Sequence

from cua.actions import Answer, check_bounds
from cua.errors import ActionError, ConfigError
from cua.eval.osworld_actions import ACTION_SPACES, INSTALL_HINT, to_osworld
from cua.observation import Observation
from cua.policy import Policy
from cua.trajectory import Step

DEFAULT_MAX_STEPS = 15  # OSWorld run.py --max_steps
SETTLE_SECONDS = 60.0  # lib_run_single: time.sleep(60) after env.reset


class OSWorldAgent:
    """A cua policy with OSWorld's agent interface (see the module docstring)."""

    def __init__(self, policy: Policy, *, action_space: str = "pyautogui") -> None:
        if action_space not in ACTION_SPACES:
            raise ConfigError(f"unknown OSWorld action space {action_space!r}; valid: {', '.join(ACTION_SPACES)}")
        self.policy = policy
        self.action_space = action_space
        self.history: list[Step] = []
        self.answer: str | None = None
        self._goal: str | None = None

    def reset(self, *_: Any, **__: Any) -> None:
        """Start a new example (their ``reset`` may pass a logger or a VM address: ignored)."""
        self.history, self.answer, self._goal = [], None, None

    def predict(self, instruction: str, obs: dict[str, Any]) -> tuple[str, list[Any]]:
        """(the policy's raw text, the OSWorld actions for its one proposed cua action)."""
        if instruction != self._goal:
            self.policy.reset(instruction)
            self.history, self.answer, self._goal = [], None, instruction
        observation = Observation.from_png(obs["screenshot"])
        step = Step(index=len(self.history), observation=observation,
                    obs={"width": observation.width, "height": observation.height, "scale": 1.0})
        actions: list[Any] = []
        try:
            proposal = self.policy.propose(instruction, observation, self.history)
            step.text, step.action, step.info = proposal.text, proposal.action, dict(proposal.info)
            if proposal.action is None:
                step.error_kind = getattr(proposal, "error_kind", None) or "parse"
                step.error = proposal.error or "the proposal holds no action"
            elif isinstance(proposal.action, Answer):
                self.answer = proposal.action.text
            else:
                check_bounds(proposal.action, observation.width, observation.height)
                actions = to_osworld(proposal.action, self.action_space)
        except ActionError as exc:
            step.error_kind, step.error = getattr(exc, "kind", "invalid"), str(exc)
        step.info["osworld_actions"] = actions
        self.history.append(step)
        return step.text, actions


def _desktop_env_folder() -> Path:
    spec = importlib.util.find_spec("desktop_env")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(INSTALL_HINT)
    return Path(list(spec.submodule_search_locations)[0])


def _defining_module(init_file: Path, name: str) -> str:
    """The submodule of a package whose ``__init__`` re-exports ``name`` (``from .file import get_vm_file``)."""
    tree = ast.parse(init_file.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            if any((alias.asname or alias.name) == name for alias in node.names):
                return node.module
    raise ConfigError(f"OSWorld has no evaluator function {name!r} in {init_file}")


def evaluator_function(kind: str, name: str) -> Callable[..., Any]:
    """OSWorld's metric (``kind="metrics"``) or getter (``kind="getters"``) function ``name``.

    When their full package is already imported it is used as is; otherwise only the defining module is
    imported (the package is registered without running its ``__init__``, which imports every module).
    """
    if kind not in ("metrics", "getters"):
        raise ConfigError(f"kind must be 'metrics' or 'getters', got {kind!r}")
    package = f"desktop_env.evaluators.{kind}"
    loaded = sys.modules.get(package)
    if loaded is not None and callable(getattr(loaded, name, None)):
        return getattr(loaded, name)
    folder = _desktop_env_folder() / "evaluators" / kind
    module = _defining_module(folder / "__init__.py", name)
    if loaded is None:
        importlib.import_module("desktop_env.evaluators")  # an __init__ with no imports
        stub = types.ModuleType(package)
        stub.__path__ = [str(folder)]
        stub.__spec__ = importlib.machinery.ModuleSpec(package, None, is_package=True)
        stub.__spec__.submodule_search_locations = [str(folder)]
        sys.modules[package] = stub
    try:
        return getattr(importlib.import_module(f"{package}.{module}"), name)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"OSWorld's {kind}.{module} (for {name}) needs {exc.name!r}: pip install it") from None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def evaluate_task(config: dict[str, Any], env: Any, *, action_history: Sequence[Any] = ()) -> float:
    """Score a finished OSWorld example as ``DesktopEnv.evaluate`` does (without ``postconfig``, which needs
    their setup controller): ``infeasible`` scores 1 only after a final ``FAIL``; any other task scores 0
    after one; otherwise each metric gets ``(result, [expected], **options)`` from their getters, joined by
    ``conj`` (``and``: mean, 0 as soon as one is 0; ``or``: max, 1 as soon as one is 1)."""
    evaluator = config.get("evaluator")
    if not isinstance(evaluator, dict) or "func" not in evaluator:
        raise ConfigError(f"task {config.get('id')!r} has no evaluator.func")
    failed = bool(action_history) and action_history[-1] == "FAIL"
    if evaluator["func"] == "infeasible":
        return 1.0 if failed else 0.0
    if failed:
        return 0.0
    funcs = _as_list(evaluator["func"])
    results = _as_list(evaluator.get("result", []))
    expected = _as_list(evaluator["expected"]) if evaluator.get("expected") else []
    raw_options = evaluator.get("options")
    options = [{}] * len(funcs) if raw_options is None else _as_list(raw_options)
    if len(results) != len(funcs) or len(options) != len(funcs) or (expected and len(expected) != len(funcs)):
        raise ConfigError(f"task {config.get('id')!r}: as many result/expected/options as metrics are needed")
    conj = evaluator.get("conj", "and")
    scores: list[float] = []
    for i, func in enumerate(funcs):
        metric = evaluator_function("metrics", func)
        try:
            result_state = evaluator_function("getters", f"get_{results[i]['type']}")(env, results[i])
        except FileNotFoundError:
            if conj == "and":
                return 0.0
            continue
        args = [result_state]
        if expected:
            args.append(evaluator_function("getters", f"get_{expected[i]['type']}")(env, expected[i]))
        score = float(metric(*args, **(options[i] or {})))
        if len(funcs) > 1 and conj == "and" and score == 0.0:
            return 0.0
        if len(funcs) > 1 and conj == "or" and score == 1.0:
            return 1.0
        scores.append(score)
    if not scores:
        return 0.0
    return sum(scores) / len(scores) if conj == "and" else max(scores)


def load_tasks(test_meta: str | Path, examples_dir: str | Path, *, domain: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(domain, example config) for every id in ``test_all.json``-style ``test_meta`` (domain -> ids), read
    from ``examples_dir/DOMAIN/ID.json``; ConfigError naming a missing or malformed file."""
    try:
        meta = json.loads(Path(test_meta).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read OSWorld test list {test_meta}: {exc}") from None
    if not isinstance(meta, dict):
        raise ConfigError(f"{test_meta} must map domains to lists of example ids")
    if domain is not None and domain not in meta:
        raise ConfigError(f"domain {domain!r} is not in {test_meta}; it has {', '.join(meta)}")
    out = []
    for dom, ids in meta.items():
        if domain is not None and dom != domain:
            continue
        for example_id in ids:
            path = Path(examples_dir) / dom / f"{example_id}.json"
            try:
                config = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ConfigError(f"cannot read OSWorld example {path}: {exc}") from None
            if "instruction" not in config or "evaluator" not in config:
                raise ConfigError(f"{path} is not an OSWorld example (needs instruction and evaluator)")
            out.append((dom, config))
    return out


def run_example(agent: OSWorldAgent, env: Any, example: dict[str, Any], *, max_steps: int = DEFAULT_MAX_STEPS,
                settle_seconds: float = SETTLE_SECONDS, sleep_after_execution: float = 0.0,
                out_dir: str | Path | None = None) -> float:
    """One example with OSWorld's loop on ``env`` (their ``DesktopEnv`` or anything with its methods:
    ``reset(task_config=)``, ``_get_obs()``, ``step(action, pause)``, ``evaluate()``); returns the score and,
    with ``out_dir``, writes ``traj.jsonl`` and ``result.txt`` there as their runner does."""
    agent.reset()
    env.reset(task_config=example)
    time.sleep(settle_seconds)
    obs = env._get_obs()
    done, step_idx, records = False, 0, []
    while not done and step_idx < max_steps:
        response, actions = agent.predict(example["instruction"], obs)
        for action in actions:
            obs, reward, done, info = env.step(action, sleep_after_execution)
            records.append({"step_num": step_idx + 1, "action": action, "response": response, "reward": reward,
                            "done": done, "info": info if isinstance(info, dict) else {}})
            if done:
                break
        if not actions:
            records.append({"step_num": step_idx + 1, "action": None, "response": response,
                            "error": agent.history[-1].error if agent.history else None})
        step_idx += 1
    score = float(env.evaluate())
    if out_dir is not None:
        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "traj.jsonl", "w", encoding="utf-8") as fh:
            for rec in records:
                fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
        (folder / "result.txt").write_text(f"{score}\n", encoding="utf-8")
    return score


def run_suite(policy: Policy, *, test_meta: str | Path, examples_dir: str | Path, out_dir: str | Path,
              provider_name: str = "vmware", path_to_vm: str | None = None, action_space: str = "pyautogui",
              screen_size: tuple[int, int] = (1920, 1080), headless: bool = True, domain: str | None = None,
              max_steps: int = DEFAULT_MAX_STEPS, sleep_after_execution: float = 0.0,
              settle_seconds: float = SETTLE_SECONDS) -> dict[str, Any]:
    """OSWorld's ``run.py`` with a cua policy: every example in ``test_meta`` on their ``DesktopEnv``.

    Examples with a ``result.txt`` under ``out_dir/DOMAIN/ID`` are skipped (resume, as their runner).
    Returns ``{"episodes", "success_rate", "per_domain"}``.
    """
    tasks = load_tasks(test_meta, examples_dir, domain=domain)
    try:
        from desktop_env.desktop_env import DesktopEnv
    except ModuleNotFoundError as exc:
        raise ConfigError(f"{INSTALL_HINT}; running tasks also needs its VM provider's packages: {exc}") from None
    agent = OSWorldAgent(policy, action_space=action_space)
    try:
        env = DesktopEnv(provider_name=provider_name, path_to_vm=path_to_vm, action_space=action_space,
                         screen_size=screen_size, headless=headless, require_a11y_tree=False)
    except Exception as exc:  # their providers raise many kinds (no vmrun, no docker, no credentials)
        raise ConfigError(f"OSWorld's {provider_name!r} provider could not start a VM: {type(exc).__name__}: {exc}") from None
    try:
        for dom, example in tasks:
            folder = Path(out_dir) / dom / str(example["id"])
            if (folder / "result.txt").exists():
                continue
            run_example(agent, env, example, max_steps=max_steps, settle_seconds=settle_seconds,
                        sleep_after_execution=sleep_after_execution, out_dir=folder)
    finally:
        env.close()
    return summarize(out_dir)


def summarize(out_dir: str | Path) -> dict[str, Any]:
    """Success rate overall and per domain from the ``DOMAIN/ID/result.txt`` files under ``out_dir``."""
    per_domain: dict[str, list[float]] = {}
    for result in sorted(Path(out_dir).glob("*/*/result.txt")):
        per_domain.setdefault(result.parent.parent.name, []).append(float(result.read_text().strip() or 0))
    scores = [s for v in per_domain.values() for s in v]
    return {"episodes": len(scores), "success_rate": sum(scores) / len(scores) if scores else 0.0,
            "per_domain": {k: sum(v) / len(v) for k, v in per_domain.items()}}
