"""Notes tasks: create a note, delete one by long-pressing it, replace a note's text (starting in another app)."""

from __future__ import annotations

from typing import Any, Sequence

from cua.actions import Action, Click, LongPress
from cua.devices.sandbox.data import NOTE_BODIES, NOTE_TITLES
from cua.devices.sandbox.tasks.base import (
    SandboxTask, actions, by_id, done, fill_form, find, norm, route, sandbox_task, tap, tap_on,
)
from cua.observation import Observation

NEW_TITLES = ("Birthday party", "Camping trip", "Reading list", "Weekend chores", "Piano practice")
NEW_BODIES = ("buy candles and balloons", "tent, stove, 2 sleeping bags", "Dune; Emma; Beloved",
              "laundry then vacuum", "scales for 20 minutes")
LONG_PRESS_S = 1.0


def note_open(obs: Observation, title: str) -> bool:
    field = by_id(obs, "title")
    return route(obs).startswith("/notes/") and field is not None and field.text == title


@sandbox_task("notes_create", 'Create a note titled "{title}" with the text "{body}".', complexity=1.2,
              primitives=("open_app", "click", "type"), draws={"title": NEW_TITLES, "body": NEW_BODIES})
class NotesCreate(SandboxTask):
    """A new note, entered through the form; done once its title is in the list."""

    def is_successful(self, device: Any, answer: str | None = None) -> float:
        found = [n for n in device.world.state["notes"] if norm(n["title"]) == norm(self.params["title"])]
        return float(len(found) == 1 and norm(found[0]["body"]) == norm(self.params["body"]))

    def expert(self, observation: Observation, history: Sequence[Any]) -> Action:
        r = route(observation)
        if r == "/notes/new":
            return fill_form(observation, history, {"title": self.params["title"], "body": self.params["body"]})
        if r == "/notes":
            if find(observation, self.params["title"], role="span") is not None:
                return done(history)
            return tap_on(observation, "New note", content=False)
        return self.go_to(observation, "Notes")


@sandbox_task("notes_delete", 'Delete the note titled "{title}".', complexity=0.6,
              primitives=("open_app", "long_press", "click"), draws={"title": NOTE_TITLES, "body": NOTE_BODIES})
class NotesDelete(SandboxTask):
    """A long press (>= 0.5 s) on a note asks to delete it; a short tap opens it instead."""

    def setup(self, world: Any) -> None:
        if not any(n["title"] == self.params["title"] for n in world.state["notes"]):
            world.add_note({"title": self.params["title"], "body": self.params["body"]})
        self._others = sorted(n["id"] for n in world.state["notes"] if n["title"] != self.params["title"])

    def is_successful(self, device: Any, answer: str | None = None) -> float:
        left = sorted(n["id"] for n in device.world.state["notes"])
        return float(left == getattr(self, "_others", None))

    def expert(self, observation: Observation, history: Sequence[Any]) -> Action:
        if route(observation) != "/notes":
            return self.go_to(observation, "Notes")
        confirm = find(observation, "Delete", role="button")
        if confirm is not None:
            return tap(confirm)
        row = find(observation, self.params["title"], role="span")
        if row is not None:
            x, y = row.center
            return LongPress(x=x, y=y, seconds=LONG_PRESS_S)
        if any(isinstance(a, Click) for a in actions(history)):
            return done(history)
        raise LookupError(f"no note titled {self.params['title']!r}")


@sandbox_task("notes_edit", 'Replace the text of the note "{title}" with "{body}".', complexity=1.0,
              primitives=("home", "click", "type"), launch="home",
              draws={"title": NOTE_TITLES, "body": NEW_BODIES, "old": NOTE_BODIES})
class NotesEdit(SandboxTask):
    """Starts inside Messages; the expert goes Home and taps the Notes icon."""

    def setup(self, world: Any) -> None:
        if not any(n["title"] == self.params["title"] for n in world.state["notes"]):
            world.add_note({"title": self.params["title"], "body": self.params["old"]})

    def start_route(self, world: Any) -> str:
        return "/messages"

    def is_successful(self, device: Any, answer: str | None = None) -> float:
        found = [n for n in device.world.state["notes"] if n["title"] == self.params["title"]]
        return float(len(found) == 1 and norm(found[0]["body"]) == norm(self.params["body"]))

    def expert(self, observation: Observation, history: Sequence[Any]) -> Action:
        if note_open(observation, self.params["title"]):
            return fill_form(observation, history, {"body": self.params["body"]})
        if route(observation) == "/notes":
            if find(observation, self.params["body"], role="span") is not None:
                return done(history)
            return tap_on(observation, self.params["title"], role="span")
        return self.go_to(observation, "Notes")
