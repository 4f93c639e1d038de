"""Contacts tasks: add a contact, change a phone number, look a number up (answered). The targets of the last
two sort near the end of a 30+ row list, so the expert has to scroll to reach them."""

from __future__ import annotations

import random
import re
from typing import Any, Sequence

from cua.actions import Action, Answer
from cua.devices.sandbox.data import LAST_NAMES, phone_number
from cua.devices.sandbox.tasks.base import (
    SandboxTask, actions, digits, done, fill_form, find, list_rows, norm, route, sandbox_task, scroll_toward, tap,
    tap_on,
)
from cua.observation import Observation

NEW_FIRST_NAMES = ("Aurora", "Bruno", "Cyrus", "Delia", "Ezra", "Freya", "Gideon", "Hazel")
LATE_FIRST_NAMES = ("Tara", "Umar", "Vera", "Wen", "Xavier", "Yara", "Zoe")
PHONE_PATTERN = re.compile(r"^\d{3}-\d{3}-\d{4}$")
OLD_PHONE = "555-000-1111"


def contact_route(route_: str) -> list[str]:
    return [p for p in route_.split("/") if p][1:] if route_.startswith("/contacts") else []


def new_name(rng: random.Random) -> str:
    """A name not among the seeded contacts."""
    return f"{rng.choice(NEW_FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def late_name(rng: random.Random) -> str:
    """A name that sorts near the end of the contact list (the expert has to scroll to it)."""
    return f"{rng.choice(LATE_FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


class ContactTask(SandboxTask):
    """A task about one existing contact, ``params["name"]`` (drawn by :func:`late_name`)."""

    draws = {"name": late_name, "phone": phone_number}

    def open_contact(self, obs: Observation) -> Action | None:
        """The next step to the contact's detail screen (scrolling the list to its row); None once shown."""
        name = self.params["name"]
        parts = contact_route(route(obs))
        if len(parts) == 1 and parts[0] != "new" and find(obs, name, role="h2") is not None:
            return None
        if route(obs) == "/contacts":
            row = find(obs, name, role="button")
            return tap(row) if row is not None else scroll_toward(obs, name, list_rows(obs))
        return self.go_to(obs, "Contacts")


@sandbox_task("contacts_add", "Add a contact named {name} with the phone number {phone}.", complexity=1.2,
              primitives=("open_app", "click", "type"), draws={"name": new_name, "phone": phone_number})
class ContactsAdd(SandboxTask):
    """A contact with a new name, entered through the form."""

    def setup(self, world: Any) -> None:
        existing = world.contact_by_name(self.params["name"])
        if existing is not None:
            world.remove_contact(existing["id"])

    def is_successful(self, device: Any, answer: str | None = None) -> float:
        found = [c for c in device.world.state["contacts"] if norm(c["name"]) == norm(self.params["name"])]
        return float(len(found) == 1 and digits(found[0]["phone"]) == digits(self.params["phone"]))

    def expert(self, observation: Observation, history: Sequence[Any]) -> Action:
        r = route(observation)
        if r.startswith("/contacts/") and find(observation, self.params["name"], role="h2") is not None:
            return done(history)
        if r == "/contacts/new":
            return fill_form(observation, history, {"name": self.params["name"], "phone": self.params["phone"]})
        if r == "/contacts":
            return tap_on(observation, "Add contact", content=False)
        return self.go_to(observation, "Contacts")


@sandbox_task("contacts_edit_phone", "Change {name}'s phone number to {phone}.", complexity=1.5,
              primitives=("open_app", "scroll", "click", "type"))
class ContactsEditPhone(ContactTask):
    def setup(self, world: Any) -> None:
        world.ensure_contact(self.params["name"], OLD_PHONE)

    def is_successful(self, device: Any, answer: str | None = None) -> float:
        contact = device.world.contact_by_name(self.params["name"])
        return float(contact is not None and digits(contact["phone"]) == digits(self.params["phone"]))

    def expert(self, observation: Observation, history: Sequence[Any]) -> Action:
        parts = contact_route(route(observation))
        if len(parts) == 2 and parts[1] == "edit":
            return fill_form(observation, history, {"phone": self.params["phone"]})
        step = self.open_contact(observation)
        if step is not None:
            return step
        if find(observation, self.params["phone"]) is not None:
            return done(history)
        return tap_on(observation, "Edit", role="button")


@sandbox_task("contacts_lookup", "What is {name}'s phone number? Answer with the number.", complexity=1.0,
              primitives=("open_app", "scroll", "click", "answer"))
class ContactsLookup(ContactTask):
    """Information retrieval: the phone number is read off the contact's detail screen."""

    def setup(self, world: Any) -> None:
        world.ensure_contact(self.params["name"], self.params["phone"])

    def is_successful(self, device: Any, answer: str | None = None) -> float:
        contact = device.world.contact_by_name(self.params["name"])
        return float(contact is not None and bool(digits(answer)) and digits(answer) == digits(contact["phone"]))

    def expert(self, observation: Observation, history: Sequence[Any]) -> Action:
        if any(isinstance(a, Answer) for a in actions(history)):
            return done(history)
        step = self.open_contact(observation)
        if step is not None:
            return step
        number = next((e.text for e in observation.elements if PHONE_PATTERN.match(e.text)), None)
        if number is None:
            raise LookupError(f"{self.params['name']}'s detail screen shows no phone number")
        return Answer(text=number)
