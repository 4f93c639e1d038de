"""MiniWoB++ tasks (PyPI ``miniwob``, Liu et al. 2018) as cua Tasks, played on the web backend.

The package's HTML task pages are served by a static HTTP server on 127.0.0.1 (one per process,
:func:`serve`). A task ``miniwob.NAME`` (registered for every page in the package) runs on any web device
(``web:about:blank``, viewport :data:`VIEWPORT`: the benchmark's 160x210 CSS-pixel task area):

- ``initialize`` opens the page, seeds its RNG with ``Math.seedrandom(seed)`` and starts the episode with
  ``core.startEpisodeReal()``, exactly as the package's own Selenium instance does (``begin_task``), which
  removes the START cover and starts the page's timer; the goal is the page's utterance
  (``core.getUtterance()``), stored in ``params["utterance"]``. Same seed, same problem.
- The time limit is the page's own ``core.EPISODE_MAX_TIME`` (10 s unless the page sets more): the page ends
  the episode with reward -1 when it runs out. Once the page has ended the episode its START cover is replaced
  by an inert DONE cover, so a late click cannot start a second episode and overwrite the reward.
- ``is_successful`` reads the page's reward: ``WOB_RAW_REWARD_GLOBAL`` (the reward before time discounting,
  in [-1, 1]; ``WOB_REWARD_GLOBAL`` is the time-discounted one) once ``WOB_DONE_GLOBAL`` is set. The score is
  the raw reward with negatives clipped to 0 (0 while the episode has not ended); success is a full raw reward
  of 1, as the package's ``get_binary_reward``.
- The step budget is 10 (30 for guess-number, use-slider and choose-date), as SeeClick's MiniWoB evaluation
  (Cheng et al. 2024, ``agent_tasks/miniwob_test.py``).

Task lists (:data:`TASK_LISTS`): ``synapse48`` (default): the 48 MiniWoB++ tasks for which Synapse (Zheng et
al., ICLR 2024) keeps exemplars, the keys of ``synapse/memory/miniwob/specifiers.json`` as shipped in the
SeeClick repository (njucckevin/SeeClick); ``all``: every task page of the installed package.
"""

from __future__ import annotations

import functools
import random
import re
import threading
from pathlib import Path
from typing import Any, ClassVar

from cua.errors import ConfigError
from cua.eval.web_task import PAGE_TIMEOUT, on_page, page_of
from cua.task import TASKS, Task, register_task

PREFIX = "miniwob."
DEVICE = "web:about:blank"
#: The benchmark's task area (160x210 CSS px) at device scale 2: 320x420 screenshots.
VIEWPORT = "160x210@2"
DEFAULT_MAX_TIME_MS = 10_000
DEFAULT_STEPS = 10
LONG_TASKS = {"guess-number": 30, "use-slider": 30, "choose-date": 30}

SYNAPSE48: tuple[str, ...] = (
    "book-flight", "choose-date", "click-button", "click-button-sequence", "click-checkboxes-large",
    "click-checkboxes-soft", "click-collapsible", "click-collapsible-2", "click-color", "click-dialog",
    "click-dialog-2", "click-link", "click-menu", "click-pie", "click-scroll-list", "click-shades", "click-shape",
    "click-tab", "click-tab-2", "click-widget", "copy-paste-2", "count-shape", "email-inbox-nl-turk",
    "enter-date", "enter-password", "enter-text-dynamic", "enter-time", "find-word", "focus-text",
    "focus-text-2", "grid-coordinate", "guess-number", "identify-shape", "login-user-popup", "multi-layouts",
    "navigate-tree", "read-table", "search-engine", "simple-algebra", "social-media", "social-media-all",
    "social-media-some", "terminal", "text-transform", "tic-tac-toe", "use-autocomplete", "use-slider",
    "use-spinner",
)

#: Seed the page, start the episode, and make the cover inert once the page ends the episode.
START_JS = """(seed) => {
  Math.seedrandom(seed);
  core.startEpisodeReal();
  core.startEpisode = function () {
    if (core.cover_div) { core.cover_div.innerHTML = 'DONE'; core.cover_div.onclick = null;
                          core.cover_div.style.display = 'block'; }
  };
  const u = core.getUtterance();
  return typeof u === 'string' ? u : u.utterance;
}"""
READY_JS = "() => typeof core !== 'undefined' && core.cover_div !== null && typeof Math.seedrandom === 'function'"
REWARD_JS = "() => ({done: WOB_DONE_GLOBAL, reward: WOB_REWARD_GLOBAL, raw: WOB_RAW_REWARD_GLOBAL})"


def html_root() -> Path:
    """The ``html`` folder of the installed ``miniwob`` package; ConfigError naming the install when absent."""
    import importlib.util

    spec = importlib.util.find_spec("miniwob")  # located, not imported (its import registers gymnasium envs)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("MiniWoB++ needs the miniwob package: pip install 'cua[miniwob]'")
    root = Path(list(spec.submodule_search_locations)[0]) / "html"
    if not (root / "miniwob").is_dir():
        raise ConfigError(f"the miniwob package at {root.parent} ships no html/miniwob task pages")
    return root


def page_names() -> list[str]:
    """Every MiniWoB++ task page in the installed package, sorted."""
    return sorted(p.stem for p in (html_root() / "miniwob").glob("*.html"))


_server_lock = threading.Lock()
_server: Any = None


def serve() -> str:
    """The base URL of this process's MiniWoB page server (started on first use, a daemon thread)."""
    global _server
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
            pass

    with _server_lock:
        if _server is None:
            handler = functools.partial(Quiet, directory=str(html_root()))
            _server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
            _server.daemon_threads = True
            threading.Thread(target=_server.serve_forever, name="miniwob-http", daemon=True).start()
        host, port = _server.server_address[:2]
        return f"http://{host}:{port}"


def stop_server() -> None:
    """Stop this process's page server, if one runs (tests; workers just exit)."""
    global _server
    with _server_lock:
        if _server is not None:
            _server.shutdown()
            _server.server_close()
            _server = None


@functools.lru_cache(maxsize=None)
def max_time_ms(name: str) -> int:
    """The page's ``core.EPISODE_MAX_TIME`` (ms), read from its source; the core default otherwise."""
    text = (html_root() / "miniwob" / f"{name}.html").read_text(encoding="utf-8", errors="replace")
    match = re.search(r"core\.EPISODE_MAX_TIME\s*=\s*(\d+)", text)
    return int(match[1]) if match else DEFAULT_MAX_TIME_MS


class MiniWoBTask(Task):
    """One MiniWoB++ page as a task; subclasses (one per page, :func:`register_all`) set ``page``."""

    page: ClassVar[str] = ""
    device_kind: ClassVar[str] = "web"
    template: ClassVar[str] = "{utterance}"

    @classmethod
    def generate_params(cls, rng: random.Random) -> dict[str, Any]:
        return {"page": cls.page}

    @property
    def goal(self) -> str:
        return self.params.get("utterance") or f"(MiniWoB++ {self.page}: the goal is read when the page starts)"

    @property
    def max_steps(self) -> int:
        return LONG_TASKS.get(self.page, DEFAULT_STEPS)

    @property
    def time_limit(self) -> float:
        """The benchmark's time limit for this page, in seconds."""
        return max_time_ms(self.page) / 1000.0

    def initialize(self, device: Any) -> None:
        page = page_of(device, self.id, f"--device {DEVICE}")
        ms, url = PAGE_TIMEOUT * 1000, f"{serve()}/miniwob/{self.page}.html"

        def start() -> None:
            page.goto(url, timeout=ms)
            page.wait_for_function(READY_JS, timeout=ms)
            self.params["utterance"] = page.evaluate(START_JS, 0 if self.seed is None else self.seed)
            page.wait_for_function("() => WOB_TASK_READY !== false", timeout=ms)

        on_page(f"start MiniWoB++ page {self.page}", start)

    def reward(self, device: Any) -> dict[str, Any]:
        """The page's ``{done, reward (time-discounted), raw}``."""
        page = page_of(device, self.id, f"--device {DEVICE}")
        return dict(on_page(f"read MiniWoB++ reward of {self.page}", lambda: page.evaluate(REWARD_JS)))

    def is_successful(self, device: Any, answer: str | None = None) -> float:
        state = self.reward(device)
        if not state.get("done"):
            return 0.0
        return max(0.0, min(1.0, float(state.get("raw") or 0.0)))


def task_id(name: str) -> str:
    return f"{PREFIX}{name}"


def _class_name(name: str) -> str:
    return "MiniWoB_" + re.sub(r"\W", "_", name)


def register_all() -> list[str]:
    """Register ``miniwob.NAME`` for every page of the installed package (a no-op without it); return the ids.

    Each class is a module attribute, so tasks pickle by reference into pool workers.
    """
    try:
        names = page_names()
    except ConfigError:
        return []
    ids = []
    for name in names:
        tid = task_id(name)
        if tid not in TASKS:
            cls_name = _class_name(name)
            cls = type(cls_name, (MiniWoBTask,), {"id": tid, "page": name, "__module__": __name__,
                                                  "__qualname__": cls_name})
            globals()[cls_name] = cls
            register_task(cls)
        ids.append(tid)
    return ids


def resolve_tasks(spec: str | None) -> list[str]:
    """Page names from ``--tasks``: a list name (:data:`TASK_LISTS`) or comma-separated page names."""
    available = set(page_names())
    if spec is None:
        spec = "synapse48"
    if spec in TASK_LISTS:
        names = list(TASK_LISTS[spec]()) if callable(TASK_LISTS[spec]) else list(TASK_LISTS[spec])
    else:
        names = [n.strip().removeprefix(PREFIX) for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ConfigError(f"unknown MiniWoB++ task(s) {unknown}; lists: {', '.join(TASK_LISTS)}; "
                          f"or page names of the miniwob package (e.g. click-button)")
    return names


TASK_LISTS: dict[str, Any] = {"synapse48": SYNAPSE48, "all": page_names}

register_all()
