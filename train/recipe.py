"""Training recipes: YAML files mapped onto cua's own fields plus trl's ``SFTConfig`` / ``GRPOConfig``.

A recipe holds the model, codec, pixel limits, LoRA and freezing settings, data sources, reward functions
(by :mod:`cua.rewards` registry name, with weights) and an ordered list of stages. Each stage has a ``kind``
(``sft``, ``grpo``, or ``grpo_online``: live episodes, see :class:`OnlineSpec`) and a ``trl`` mapping whose keys
must be fields of the matching trl config dataclass.
Unknown keys anywhere are a :class:`~cua.errors.ConfigError` that lists the valid ones (STYLE.md rule 8).

``--set a.b.c=VALUE`` overrides are applied to the raw YAML mapping before validation; VALUE is parsed as YAML
(``--set stages.0.trl.learning_rate=1e-4``, ``--set lora.r=8``). List items are addressed by index, or a stage by
its name (``--set stages.sft.trl.max_steps=10``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from cua.errors import ConfigError

STAGE_KINDS: tuple[str, ...] = ("sft", "grpo", "grpo_online")
LOSS_NORMALISATIONS: tuple[str, ...] = ("token", "turn", "episode")
ENV_BACKENDS: tuple[str, ...] = ("process", "ray", "local")
#: ``online.importance_sampling`` values (issue 13; :mod:`cua.train.credit`).
IMPORTANCE_SAMPLING: tuple[str, ...] = ("token", "turn_ppo", "s_ppo", "st_ppo")


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """Where the policy comes from: a checkpoint folder / hub id, or a tiny offline model (``tiny: FAMILY``).

    ``tiny_overrides`` sets text-config fields of the tiny model before random initialisation (e.g.
    ``hidden_size: 128``); only valid with ``tiny``.
    """

    path: str | None = None
    tiny: str | None = None
    tiny_overrides: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    dtype: str | None = None


@dataclass(frozen=True, kw_only=True)
class LoraSpec:
    """peft LoRA settings (``LoraConfig`` fields of the same names)."""

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] | str = "all-linear"


@dataclass(frozen=True, kw_only=True)
class SourceSpec:
    """One data source: a :mod:`cua.datasets` loader name and its arguments, a sample cap and a mixing weight.

    ``weight`` is the source's share of the mixed training set (sources are interleaved by probability,
    stopping when the first is exhausted is avoided: all are sampled with replacement up to ``n``).
    """

    loader: str
    args: Mapping[str, Any] = field(default_factory=dict)
    n: int | None = None
    weight: float = 1.0


@dataclass(frozen=True, kw_only=True)
class RewardSpec:
    """A reward function by registry name (``cua.rewards.get(name)``) and its weight in GRPO's sum."""

    name: str
    weight: float = 1.0


@dataclass(frozen=True, kw_only=True)
class OnlineSpec:
    """A ``grpo_online`` stage's live setting (:mod:`cua.train.online`; defaults cite their source).

    ``env`` is a device spec played through an environment pool of ``pool_size`` slots (``backend``:
    ``process`` workers, ``ray`` actors, or ``local``: in-process, one thread per device); ``tasks`` are task
    ids and ``seeds`` the training seeds (default ``range(train_seeds)``). Each update plays
    ``groups_per_step`` groups of ``group_size`` episodes (one task and seed each) of at most
    ``max_episode_steps`` steps (default: the task's budget). ``loss_normalisation``: ``turn`` (each turn's
    token mean, averaged over turns: trl's ``grpo`` loss), ``token`` (all tokens of the batch: ``dapo``) or
    ``episode`` (each episode weighs the same whatever its length). ``advantage`` names an entry of
    :data:`cua.train.rollout.ADVANTAGES`. Reward shaping: :class:`cua.rewards.task.TaskReward`'s fields;
    ``end_on_format_failure`` ends an episode at its first unparseable answer (ARPO; the episode is then scored
    ``format_failure`` when that is set, else by the task's checker). ``max_env_steps`` ends the stage (as
    ``max_steps`` would) after the update in which the devices' steps, summed over ranks and counted from the
    stage's start (replayed prefixes included: ``online/env_steps``), reach it: a budget of environment steps
    that compares options whose updates cost different numbers of steps.
    ``curriculum`` / ``replay``: true, false, or a mapping of :class:`~cua.train.curriculum.Curriculum` /
    :class:`~cua.train.replay.ReplayBuffer` fields.

    Credit assignment (issue 13, :mod:`cua.train.credit`): ``advantage: gigpo`` adds GiGPO's step advantage
    over anchor states (discount ``gigpo_gamma``, weight ``gigpo_weight``; verl-agent's defaults 0.95 and 1);
    ``hierarchical: true`` plays the Hi-Agent policy (:mod:`cua.policies.hierarchical`), both levels' turns
    trained with the episode's (or GiGPO's) advantage; ``importance_sampling``: ``token`` (trl's PPO ratio,
    the default), ``turn_ppo``, ``s_ppo`` or ``st_ppo`` (ST-PPO's turn-level ratio / clipping-bias correction).
    ``advantage: foresight`` (Hi-Agent, :mod:`cua.train.foresight`; needs ``hierarchical: true`` and
    ``pool_size >= group_size``, refuses ``replay``): each group's trunk episode advances one state at a time,
    ``group_size`` subgoal candidates per state are executed on branches replayed from the trunk's actions, each
    scored by its step's feedback (``foresight_progress``: the feedback of a valid step that changed the screen
    without solving the task).
    """

    tasks: list[str]
    env: str = "sandbox"
    env_options: Mapping[str, Any] = field(default_factory=dict)
    seeds: list[int] | None = None
    train_seeds: int = 1000
    pool_size: int = 4
    backend: str = "process"
    group_size: int = 4
    groups_per_step: int = 1
    max_episode_steps: int | None = None
    loss_normalisation: str = "turn"
    advantage: str = "grpo"
    step_penalty: float = 0.0
    invalid_penalty: float = 0.0
    format_failure: float | None = None
    end_on_format_failure: bool = False
    history_images: int = 0
    step_timeout: float | None = 60.0
    call_timeout: float = 120.0
    curriculum: bool | Mapping[str, Any] = False
    replay: bool | Mapping[str, Any] = False
    gigpo_gamma: float = 0.95
    gigpo_weight: float = 1.0
    hierarchical: bool = False
    importance_sampling: str = "token"
    foresight_progress: float = 0.5
    max_env_steps: int | None = None

    def __post_init__(self) -> None:
        if self.max_env_steps is not None and self.max_env_steps < 1:
            raise ConfigError(f"online.max_env_steps must be >= 1 (or absent), got {self.max_env_steps}")
        if not 0.0 <= self.foresight_progress <= 1.0:
            raise ConfigError(f"online.foresight_progress must lie in [0, 1], got {self.foresight_progress}")
        if self.advantage == "foresight":
            self._check_foresight()
        if self.importance_sampling not in IMPORTANCE_SAMPLING:
            raise ConfigError(f"online.importance_sampling is {self.importance_sampling!r}; "
                              f"valid: {', '.join(IMPORTANCE_SAMPLING)}")
        if not 0.0 <= self.gigpo_gamma <= 1.0:
            raise ConfigError(f"online.gigpo_gamma must lie in [0, 1], got {self.gigpo_gamma}")
        if not self.tasks or not all(isinstance(t, str) for t in self.tasks):
            raise ConfigError("online.tasks must be a non-empty list of task ids")
        if self.loss_normalisation not in LOSS_NORMALISATIONS:
            raise ConfigError(f"online.loss_normalisation is {self.loss_normalisation!r}; "
                              f"valid: {', '.join(LOSS_NORMALISATIONS)}")
        if self.backend not in ENV_BACKENDS:
            raise ConfigError(f"online.backend is {self.backend!r}; valid: {', '.join(ENV_BACKENDS)}")
        if self.group_size < 2 or self.groups_per_step < 1 or self.pool_size < 1:
            raise ConfigError("online: group_size must be >= 2, groups_per_step and pool_size >= 1")

    def _check_foresight(self) -> None:
        if not self.hierarchical:
            raise ConfigError("online.advantage: foresight scores the high level's subgoal candidates: it needs "
                              "online.hierarchical: true")
        if self.replay:
            raise ConfigError("online.advantage: foresight does not take online.replay: its groups are the "
                              "candidates of one state, a stored whole episode has no place in them")
        if self.pool_size < self.group_size:
            raise ConfigError(f"online.advantage: foresight executes the group_size ({self.group_size}) candidates "
                              f"of a state together: pool_size must be >= group_size, got {self.pool_size}")

    @property
    def seed_list(self) -> list[int]:
        return list(self.seeds) if self.seeds is not None else list(range(self.train_seeds))


@dataclass(frozen=True, kw_only=True)
class LiveEvalSetup:
    """The recipe's live held-out evaluation (``live_eval:``; :mod:`cua.train.live_eval`): ``episodes`` episodes
    of ``tasks`` (taking turns) on held-out seeds from ``seed_start`` (default
    :data:`cua.eval.live.HELD_OUT_SEED_START`, never a training seed), played greedily with the trainer's model on
    ``slots`` in-process devices of ``env``; ``max_new_tokens`` defaults to the recipe's
    ``eval_max_new_tokens``, ``max_steps`` to each task's budget. Stages opt in with their own ``live_eval:``
    (:class:`LiveEvalSpec`)."""

    tasks: list[str]
    episodes: int = 100
    env: str = "web:about:blank"
    env_options: Mapping[str, Any] = field(default_factory=lambda: {"viewport": "224x224"})
    slots: int = 4
    max_new_tokens: int | None = None
    max_steps: int | None = None
    seed_start: int | None = None

    def __post_init__(self) -> None:
        if not self.tasks or not all(isinstance(t, str) for t in self.tasks):
            raise ConfigError("live_eval.tasks must be a non-empty list of task ids")
        if self.episodes < 1 or self.slots < 1:
            raise ConfigError("live_eval: episodes and slots must be >= 1")


@dataclass(frozen=True, kw_only=True)
class LiveEvalSpec:
    """When a stage is evaluated live (its ``live_eval:``): at its start when ``at_start``, every ``every`` steps
    (0: only at its end; on the first ``every_n`` held-out episodes when set, a cheaper check), and at its end
    on all of them; the stage ends (as ``max_steps`` would) once a check's success >= ``stop_at`` (how an SFT
    stage is "stopped early" in a target band).

    ``keep_best``: the stage hands on its best model, not its last (RL can lose in a few updates what it took
    an hour to learn). The periodic checks, and one on the last model, then play **validation** seeds (held out
    from training and disjoint from the test episodes); the best check's model is saved as a checkpoint and
    becomes the stage's ``final`` (transformers' ``load_best_model_at_end``); the end-of-stage check on the
    test episodes scores that model (:mod:`cua.train.live_eval`)."""

    every: int = 0
    every_n: int | None = None
    stop_at: float | None = None
    at_start: bool = False
    keep_best: bool = False

    def __post_init__(self) -> None:
        if self.every < 0 or (self.stop_at is not None and not 0.0 <= self.stop_at <= 1.0):
            raise ConfigError(f"live_eval: every must be >= 0 and stop_at in [0, 1], got {self}")
        if self.keep_best and not self.every:
            raise ConfigError("live_eval.keep_best needs periodic checks to choose from: set every > 0")
        if self.every_n is not None and self.every_n < 1:
            raise ConfigError(f"live_eval.every_n must be >= 1 (episodes per periodic check), got {self.every_n}")


@dataclass(frozen=True, kw_only=True)
class StageSpec:
    """One stage: ``kind`` sft|grpo|grpo_online, trl config fields in ``trl``, optional per-stage data and rewards
    (``grpo_online``: live episodes described by ``online``, an :class:`OnlineSpec`; no data).

    ``init`` names an earlier stage whose final model this stage starts from (or ``base``: the recipe's model);
    by default a stage starts from the one before it. ``stop_at_hit_rate`` ends the stage once a periodic
    held-out evaluation reaches that click-in-box accuracy; ``max_minutes`` ends it after that much wall time
    (both end it like ``max_steps`` does: final model saved, next stage runs). ``eval_every`` and ``eval_data``
    override the recipe's held-out evaluation period and set for this stage (a stage on another task needs its
    own held-out set). ``live_eval`` (a :class:`LiveEvalSpec`) evaluates the stage by live held-out episodes as
    the recipe's ``live_eval`` describes.
    """

    name: str
    kind: str
    init: str | None = None
    stop_at_hit_rate: float | None = None
    eval_every: int | None = None
    max_minutes: float | None = None
    trl: Mapping[str, Any] = field(default_factory=dict)
    data: list[SourceSpec] | None = None
    rewards: list[RewardSpec] | None = None
    eval_data: list[SourceSpec] | None = None
    online: OnlineSpec | None = None
    live_eval: LiveEvalSpec | None = None


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """A whole training recipe (see the module docstring). ``source`` cites the paper/repo reproduced.

    ``eval_data`` is a held-out set scored by :mod:`cua.train.evaluate` before the first stage, every
    ``eval_every`` steps (0: only at stage ends; on the first ``eval_every_n`` rows when set) and on the whole
    set at the end of each stage. ``live_eval`` (a :class:`LiveEvalSetup`) scores the stages that ask for it
    by live held-out episodes.
    """

    name: str
    model: ModelSpec
    stages: list[StageSpec]
    codec: str | None = None
    source: str = ""
    departures: str = ""
    min_pixels: int | None = None
    max_pixels: int | None = None
    lora: LoraSpec | None = None
    freeze_vision: bool = False
    data: list[SourceSpec] = field(default_factory=list)
    eval_data: list[SourceSpec] = field(default_factory=list)
    eval_every: int = 0
    eval_every_n: int | None = None
    eval_max_new_tokens: int = 32
    rewards: list[RewardSpec] = field(default_factory=list)
    live_eval: LiveEvalSetup | None = None
    seed: int = 0

    def stage_data(self, stage: StageSpec) -> list[SourceSpec]:
        return stage.data if stage.data is not None else self.data

    def stage_rewards(self, stage: StageSpec) -> list[RewardSpec]:
        return stage.rewards if stage.rewards is not None else self.rewards

    def stage_eval_data(self, stage: StageSpec) -> list[SourceSpec]:
        return stage.eval_data if stage.eval_data is not None else self.eval_data


def _check_keys(raw: Mapping[str, Any], cls: type, where: str) -> None:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a mapping, got {type(raw).__name__}")
    valid = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(raw) - set(valid))
    if unknown:
        raise ConfigError(f"unknown key(s) {unknown} in {where}; valid keys: {', '.join(valid)}")
    required = [f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    missing = [k for k in required if k not in raw]
    if missing:
        raise ConfigError(f"{where} is missing required key(s) {missing}")


def _build(cls: type, raw: Any, where: str) -> Any:
    _check_keys(raw, cls, where)
    try:
        return cls(**raw)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _sources(raw: Any, where: str) -> list[SourceSpec]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(f"{where} must be a list of sources ({{loader: ..., args: ..., n: ..., weight: ...}})")
    return [_build(SourceSpec, item, f"{where}[{i}]") for i, item in enumerate(raw)]


def _rewards(raw: Any, where: str) -> list[RewardSpec]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(f"{where} must be a list of {{name: ..., weight: ...}}")
    return [_build(RewardSpec, {"name": item} if isinstance(item, str) else item, f"{where}[{i}]")
            for i, item in enumerate(raw)]


def _stage(raw: Any, index: int) -> StageSpec:
    where = f"stages[{index}]"
    _check_keys(raw, StageSpec, where)
    if raw["kind"] not in STAGE_KINDS:
        raise ConfigError(f"{where}.kind is {raw['kind']!r}; valid: {', '.join(STAGE_KINDS)}")
    trl = raw.get("trl") or {}
    check_trl_keys(raw["kind"], trl, f"{where}.trl")
    data = _sources(raw["data"], f"{where}.data") if raw.get("data") is not None else None
    rewards = _rewards(raw["rewards"], f"{where}.rewards") if raw.get("rewards") is not None else None
    eval_data = _sources(raw["eval_data"], f"{where}.eval_data") if raw.get("eval_data") is not None else None
    online = _build(OnlineSpec, raw["online"], f"{where}.online") if raw.get("online") is not None else None
    if (raw["kind"] == "grpo_online") != (online is not None):
        raise ConfigError(f"{where}: a grpo_online stage needs an `online:` mapping (env, tasks, group_size, ...), "
                          "and only a grpo_online stage takes one")
    # `live_eval: {}` (every default: one check at the stage's end) opts in; absent or null does not.
    live = _build(LiveEvalSpec, raw["live_eval"], f"{where}.live_eval") if raw.get("live_eval") is not None else None
    return StageSpec(name=str(raw["name"]), kind=raw["kind"], trl=dict(trl), data=data, rewards=rewards,
                     eval_data=eval_data, online=online, live_eval=live,
                     init=raw.get("init"), stop_at_hit_rate=raw.get("stop_at_hit_rate"),
                     max_minutes=raw.get("max_minutes"), eval_every=raw.get("eval_every"))


def trl_config_class(kind: str) -> type:
    """trl's config dataclass for a stage kind (imports trl)."""
    import trl

    return {"sft": trl.SFTConfig, "grpo": trl.GRPOConfig, "grpo_online": trl.GRPOConfig}[kind]


def check_trl_keys(kind: str, trl_fields: Mapping[str, Any], where: str) -> None:
    """ConfigError for keys that are not fields of trl's config for ``kind`` (the message lists them)."""
    if not isinstance(trl_fields, Mapping):
        raise ConfigError(f"{where} must be a mapping of {trl_config_class(kind).__name__} fields")
    valid = {f.name for f in dataclasses.fields(trl_config_class(kind))}
    unknown = sorted(set(trl_fields) - valid)
    if unknown:
        raise ConfigError(f"unknown key(s) {unknown} in {where}; they must be {trl_config_class(kind).__name__} "
                          f"fields, valid keys: {', '.join(sorted(valid))}")


def parse_recipe(raw: Any) -> Recipe:
    """Validate a raw mapping (loaded YAML with overrides applied) into a :class:`Recipe`."""
    _check_keys(raw, Recipe, "recipe")
    stages_raw = raw["stages"]
    if not isinstance(stages_raw, list) or not stages_raw:
        raise ConfigError("recipe.stages must be a non-empty list of stages ({name, kind: sft|grpo|grpo_online, trl: {...}})")
    stages = [_stage(s, i) for i, s in enumerate(stages_raw)]
    names = [s.name for s in stages]
    if len(set(names)) != len(names) or "base" in names:
        raise ConfigError(f"stage names must be unique and not 'base', got {names}")
    for i, stage in enumerate(stages):
        if stage.init is not None and stage.init != "base" and stage.init not in names[:i]:
            raise ConfigError(f"stage {stage.name!r} has init {stage.init!r}; valid: base, {', '.join(names[:i])}")
    model_raw = raw["model"]
    model = _build(ModelSpec, {"path": model_raw} if isinstance(model_raw, str) else model_raw, "recipe.model")
    if (model.path is None) == (model.tiny is None):
        raise ConfigError("recipe.model needs exactly one of path (checkpoint folder or hub id) or tiny (family)")
    live = _build(LiveEvalSetup, raw["live_eval"], "recipe.live_eval") if raw.get("live_eval") else None
    asking = [s.name for s in stages if s.live_eval is not None]
    if asking and live is None:
        raise ConfigError(f"stage(s) {asking} set live_eval but the recipe has no `live_eval:` (tasks, episodes, env)")
    lora = raw.get("lora")
    values = dict(raw)
    values.update(
        model=model, stages=stages, lora=_build(LoraSpec, lora, "recipe.lora") if lora else None,
        data=_sources(raw.get("data"), "recipe.data"), eval_data=_sources(raw.get("eval_data"), "recipe.eval_data"),
        rewards=_rewards(raw.get("rewards"), "recipe.rewards"), live_eval=live,
    )
    try:
        return Recipe(**values)
    except TypeError as exc:
        raise ConfigError(f"recipe: {exc}") from None


def parse_value(text: str) -> Any:
    """A ``--set`` value as YAML (``1e-4`` -> float, ``[a, b]`` -> list, ``null`` -> None)."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set value {text!r} is not valid YAML: {exc}") from None
    if isinstance(value, str):
        try:
            return float(value) if any(c in value for c in "eE.") and value.strip("0123456789.eE+-") == "" else value
        except ValueError:
            return value
    return value


def _child(node: Any, key: str, path: str) -> Any:
    if isinstance(node, list):
        for item in node:
            if isinstance(item, dict) and item.get("name") == key:
                return item
        if not key.lstrip("-").isdigit() or not -len(node) <= int(key) < len(node):
            raise ConfigError(f"--set {path}: {key!r} is neither an index nor a stage name in a list of {len(node)}")
        return node[int(key)]
    if not isinstance(node, dict):
        raise ConfigError(f"--set {path}: cannot descend into {type(node).__name__} at {key!r}")
    return node.setdefault(key, {})


def apply_override(raw: dict[str, Any], assignment: str) -> None:
    """Apply one ``dotted.key=VALUE`` override to ``raw`` in place (the key is validated later)."""
    key, sep, value = assignment.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set expects KEY=VALUE with a dotted KEY, got {assignment!r}")
    parts = key.strip().split(".")
    node: Any = raw
    for part in parts[:-1]:
        node = _child(node, part, key)
    last = parts[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise ConfigError(f"--set {key}: index {last!r} out of range for a list of {len(node)}")
        node[int(last)] = parse_value(value)
    elif isinstance(node, dict):
        node[last] = parse_value(value)
    else:
        raise ConfigError(f"--set {key}: cannot set a key on a {type(node).__name__}")


def load_raw(path: str | Path) -> dict[str, Any]:
    """The recipe YAML as a mapping; ConfigError if missing or not a mapping."""
    import yaml

    path = Path(path)
    if not path.is_file():
        shipped = ", ".join(sorted(p.stem for p in shipped_recipes()))
        raise ConfigError(f"recipe {path} does not exist; pass a YAML file or a shipped recipe name ({shipped})")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"recipe {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"recipe {path} must be a YAML mapping")
    return raw


def shipped_recipes() -> list[Path]:
    """The recipe files shipped in ``cua/train/recipes``."""
    return sorted((Path(__file__).parent / "recipes").glob("*.yaml"))


def resolve_recipe_path(name_or_path: str | Path) -> Path:
    """A path as given, or a shipped recipe by stem (``ui_r1`` -> ``.../recipes/ui_r1.yaml``)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    for shipped in shipped_recipes():
        if shipped.stem == str(name_or_path):
            return shipped
    return path


def load_recipe(path: str | Path, overrides: list[str] = ()) -> Recipe:
    """Read, override (``--set``) and validate a recipe."""
    raw = load_raw(resolve_recipe_path(path))
    for assignment in overrides:
        apply_override(raw, assignment)
    return parse_recipe(raw)
