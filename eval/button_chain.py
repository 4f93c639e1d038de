"""``button_chain``: a live multi-step task family a tiny model can learn (issue 12's learning proof).

An episode is a chain of ``steps`` screens in one web page served on 127.0.0.1 (:func:`serve`), played on the
web backend at a 224 x 224 viewport (``web:about:blank``, viewport :data:`VIEWPORT`). Each screen looks like a
synthetic ``localise`` screen of :mod:`cua.datasets.synthetic` (same background, the same filled blue button
among grey outlines / lines / dots): the target is a real ``<button>``; clicking it replaces the screen with the
next one, so what step k+1 must click is only visible after step k. Clicks elsewhere change nothing (they are
counted in the page's state). The goal is "click the button" on every screen.

- Positions are drawn from the seed: ``Task.from_seed(seed)`` draws every screen's boxes (the synthetic
  generator's box placement, :func:`cua.datasets.synthetic._boxes`) into ``params["screens"]``, and
  ``initialize`` opens the page and hands it those screens. Same seed, same pixels.
- Success is judged only at the end, by :meth:`ButtonChainTask.is_successful`: 1.0 when the page says every
  button of the chain was clicked (read from the page's state, never from pixels), else 0.0.
- The step budget is ``steps``: with the default budget a single wrong click fails the episode.
- The target is at least 30 x 30 device px (the first box scaled by :data:`TARGET_SCALE`), so with the
  ``grid8`` codec (28 px cells on a 224 px screen) the cell holding the button's centre has its centre inside
  the button: a demonstration's answer, decoded, hits.
- ``expert(observation, history)``: clicks the centre of the element whose id is ``target`` (read from the
  observation's UI elements); the ``oracle`` policy runs it (demonstrations: :mod:`cua.datasets.oracle_demos`).

Registered ids (the ``cua.tasks`` entry point loads this module): ``button_chain.N`` for N in :data:`LENGTHS`
(2-5 distractors per screen), and ``button_chain.N.easy`` (0-1 distractors, a larger button): easier tasks for
the curriculum. ``complexity`` is ``steps / 10`` (x 0.5 for easy ones), the curriculum's difficulty prior.
"""

from __future__ import annotations

import functools
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Sequence

from cua.actions import Action, Click
from cua.errors import ConfigError
from cua.eval.web_task import PAGE_TIMEOUT, on_page, page_of
from cua.task import TASKS, Task, register_task

PREFIX = "button_chain."
DEVICE = "web:about:blank"
#: CSS 224 x 224 at scale 1: the synthetic ``small`` screen size.
VIEWPORT = "224x224"
SIZE = (224, 224)
LENGTHS: tuple[int, ...] = (1, 2, 3, 4, 6, 8)
TARGET_SCALE = 1.25
BACKGROUND = (245, 245, 245)
TARGET_FILL = (30, 110, 230)
TARGET_EDGE = (10, 40, 100)
#: (distractors lo..hi, target scale) per level.
LEVELS = {"": ((2, 5), TARGET_SCALE), "easy": ((0, 1), 1.4)}

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>button chain</title><style>
html, body { margin: 0; padding: 0; overflow: hidden; background: rgb(%(bg)s); }
#screen { position: relative; width: %(w)dpx; height: %(h)dpx; }
#screen > * { position: absolute; box-sizing: border-box; margin: 0; padding: 0; }
#target { background: rgb(%(fill)s); border: 2px solid rgb(%(edge)s); cursor: pointer; }
.dot { border-radius: 50%%; }
</style></head><body><div id="screen"></div><script>
window.chain = {stage: 0, steps: 0, wrong: 0, clicks: 0, ready: false};
let screens = [];
function px(v) { return v + 'px'; }
function place(el, x1, y1, x2, y2) {
  el.style.left = px(x1); el.style.top = px(y1); el.style.width = px(x2 - x1); el.style.height = px(y2 - y1);
}
function render() {
  const root = document.getElementById('screen');
  root.innerHTML = '';
  if (window.chain.stage >= screens.length) return;
  const s = screens[window.chain.stage];
  for (const d of s.distractors) {
    const [x1, y1, x2, y2] = d.box, c = 'rgb(' + d.colour.join(',') + ')';
    if (d.kind === 'outline') {
      const el = document.createElement('div'); place(el, x1, y1, x2, y2);
      el.style.border = '1px solid ' + c; root.appendChild(el);
    } else if (d.kind === 'line') {
      const el = document.createElement('div'), y = Math.floor((y1 + y2) / 2);
      place(el, x1, y, x2, y + 1); el.style.background = c; root.appendChild(el);
    } else {
      for (let i = 0; i < 4; i++) {
        const el = document.createElement('div'), cx = x1 + Math.floor((i + 1) * (x2 - x1) / 5);
        el.className = 'dot'; place(el, cx - 2, y1, cx + 2, y1 + 4); el.style.background = c; root.appendChild(el);
      }
    }
  }
  const b = document.createElement('button');
  b.id = 'target'; b.setAttribute('aria-label', 'button'); place(b, ...s.target);
  b.addEventListener('click', (ev) => { ev.stopPropagation(); window.chain.clicks++; window.chain.stage++; render(); });
  root.appendChild(b);
}
document.addEventListener('click', () => { if (window.chain.ready) { window.chain.clicks++; window.chain.wrong++; } });
window.startChain = function (data) {
  screens = data; window.chain = {stage: 0, steps: data.length, wrong: 0, clicks: 0, ready: true}; render();
  return true;
};
</script></body></html>"""

STATE_JS = "() => window.chain"
START_JS = "(screens) => window.startChain(screens)"


def page_html() -> str:
    rgb = lambda c: ",".join(map(str, c))  # noqa: E731
    return PAGE % {"bg": rgb(BACKGROUND), "w": SIZE[0], "h": SIZE[1], "fill": rgb(TARGET_FILL),
                   "edge": rgb(TARGET_EDGE)}


class _Page(BaseHTTPRequestHandler):
    """Answers every GET with the page (:func:`page_html`)."""

    body = b""

    def do_GET(self) -> None:  # noqa: N802 (the base class's name)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _http() -> ThreadingHTTPServer:
    _Page.body = page_html().encode("utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="button-chain-http", daemon=True).start()
    return server


def serve() -> str:
    """The page's URL on this process's server (started on first use: a daemon thread on 127.0.0.1, living as
    long as the process)."""
    with _lock:
        host, port = _http().server_address[:2]
    return f"http://{host}:{port}/"


def draw_screen(rng: random.Random, distractors: tuple[int, int], target_scale: float) -> dict[str, Any]:
    """One screen's target box and distractors, drawn as the synthetic ``localise`` generator draws them."""
    from cua.datasets.synthetic import _boxes

    width, height = SIZE
    n = rng.randint(*distractors)
    boxes = _boxes(rng, n + 1, width, height, first_scale=target_scale)
    items = [{"kind": rng.choice(("outline", "line", "dots")), "box": box,
              "colour": [rng.randint(120, 200) for _ in range(3)]} for box in boxes[1:]]
    return {"target": boxes[0], "distractors": items}


class ButtonChainTask(Task):
    """A chain of ``steps`` button screens (see the module docstring); subclasses set ``steps`` and ``level``."""

    steps: ClassVar[int] = 2
    level: ClassVar[str] = ""
    device_kind: ClassVar[str] = "web"
    template: ClassVar[str] = "click the button"

    @classmethod
    def generate_params(cls, rng: random.Random) -> dict[str, Any]:
        distractors, scale = LEVELS[cls.level]
        return {"steps": cls.steps, "screens": [draw_screen(rng, distractors, scale) for _ in range(cls.steps)]}

    @property
    def max_steps(self) -> int:
        return int(self.params["steps"])

    def target(self, stage: int) -> list[int]:
        """The target box (x1, y1, x2, y2, device px) of screen ``stage``."""
        return list(self.params["screens"][stage]["target"])

    def initialize(self, device: Any) -> None:
        page = page_of(device, self.id, f"--device {DEVICE} with viewport {VIEWPORT}")
        if (getattr(device, "width", None), getattr(device, "height", None)) != SIZE:
            raise ConfigError(f"task {self.id} needs a {SIZE[0]}x{SIZE[1]} screen (viewport {VIEWPORT}), got "
                              f"{getattr(device, 'width', '?')}x{getattr(device, 'height', '?')}")
        on_page(f"start {self.id}", lambda: (page.goto(serve(), timeout=PAGE_TIMEOUT * 1000),
                                             page.evaluate(START_JS, self.params["screens"])))

    def state(self, device: Any) -> dict[str, Any]:
        """The page's ``{stage, steps, wrong, clicks, ready}``."""
        page = page_of(device, self.id, f"--device {DEVICE}")
        return dict(on_page(f"read the state of {self.id}", lambda: page.evaluate(STATE_JS)))

    def is_successful(self, device: Any, answer: str | None = None) -> float:
        state = self.state(device)
        return 1.0 if state.get("ready") and int(state.get("stage", 0)) >= int(self.params["steps"]) else 0.0

    def expert(self, observation: Any, history: Sequence[Any]) -> Action:
        """Click the centre of the ``target`` button; LookupError when the screen shows none."""
        for element in observation.elements or ():
            if element.resource_id == "target":
                x, y = element.center
                return Click(x=x, y=y)
        raise LookupError("no target button on the screen (the chain is finished or the page did not load)")


def task_id(steps: int, level: str = "") -> str:
    return f"{PREFIX}{steps}" + (f".{level}" if level else "")


def register_all() -> list[str]:
    """Register ``button_chain.N`` and ``button_chain.N.easy`` for N in :data:`LENGTHS`; return the ids.

    Each class is a module attribute, so tasks pickle by reference into pool workers."""
    ids = []
    for steps in LENGTHS:
        for level in LEVELS:
            tid = task_id(steps, level)
            if tid not in TASKS:
                name = f"ButtonChain{steps}" + level.capitalize()
                cls = type(name, (ButtonChainTask,), {
                    "id": tid, "steps": steps, "level": level, "complexity": steps / 10 * (0.5 if level else 1.0),
                    "__module__": __name__, "__qualname__": name})
                globals()[name] = cls
                register_task(cls)
            ids.append(tid)
    return ids


def resolve_tasks(spec: str | None) -> list[str]:
    """Task ids from ``--tasks`` (comma-separated; default ``button_chain.2``); ConfigError for others."""
    ids = [t.strip() for t in (spec or task_id(2)).split(",") if t.strip()]
    known = register_all()
    unknown = [t for t in ids if t not in known]
    if unknown or not ids:
        raise ConfigError(f"unknown button_chain task(s) {unknown}; known: {', '.join(known)}")
    return ids


register_all()
