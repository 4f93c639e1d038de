"""Messages tasks: reply in a conversation, compose to a new contact, read a message (answered)."""

from __future__ import annotations

import random
from typing import Any, Sequence

from cua.actions import Action, Answer
from cua.devices.sandbox.data import FIRST_NAMES, LAST_NAMES, MESSAGE_TEXTS
from cua.devices.sandbox.tasks.base import (
    SandboxTask, actions, done, fill_form, find, norm, route, sandbox_task, tap_on, title,
)
from cua.observation import Observation

SEND_TEXTS = (
    "On my way", "Sounds good to me", "I'll call you tonight", "Meet at the café at 5",
    "Can we move it to Monday?", "Thanks, see you soon", "Bring the \"blue\" folder", "It costs $20; ok?",
)
INCOMING_TEXTS = ("The package arrived", "Dinner is at 7:30", "Room 214 is free", "The code is 4471")
PHONE = "555-010-0000"


def any_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def last_message(device: Any, name: str) -> dict[str, str] | None:
    contact = device.world.contact_by_name(name)
    conv = device.world.conversation(contact["id"]) if contact else None
    return conv["messages"][-1] if conv and conv["messages"] else None


def sent(device: Any, name: str, text: str) -> float:
    message = last_message(device, name)
    return float(message is not None and message["sender"] == "me" and norm(message["text"]) == norm(text))


def in_conversation(obs: Observation, name: str) -> bool:
    return route(obs).startswith("/messages/") and route(obs) != "/messages/new" and title(obs) == name


class MessageTask(SandboxTask):
    """A task about the conversation with ``params["name"]`` in the Messages app."""

    def to_conversation(self, obs: Observation) -> Action:
        """The next step to the conversation, through the list of conversations."""
        if route(obs) == "/messages":
            return tap_on(obs, self.params["name"], role="span")
        return self.go_to(obs, "Messages")

    def send(self, obs: Observation, history: Sequence[Any]) -> Action:
        """In the conversation: type ``params["text"]`` into the message field, then tap Send; Terminate once
        it shows."""
        if find(obs, f"You: {self.params['text']}", role="listitem") is not None:
            return done(history)
        return fill_form(obs, history, {"msg": self.params["text"]}, submit="Send")


@sandbox_task("messages_send", 'Send a message to {name} saying "{text}".', complexity=1.0,
              primitives=("open_app", "click", "type"),
              draws={"name": any_name, "text": SEND_TEXTS, "incoming": MESSAGE_TEXTS})
class MessagesSend(MessageTask):
    """A reply in an existing conversation (one incoming message is there)."""

    def setup(self, world: Any) -> None:
        contact = world.ensure_contact(self.params["name"], PHONE)
        if world.conversation(contact["id"]) is None:
            world.send_message({"contact_id": contact["id"], "text": self.params["incoming"], "sender": "them"})

    def is_successful(self, device: Any, answer: str | None = None) -> float:
        return sent(device, self.params["name"], self.params["text"])

    def expert(self, observation: Observation, history: Sequence[Any]) -> Action:
        if in_conversation(observation, self.params["name"]):
            return self.send(observation, history)
        return self.to_conversation(observation)


@sandbox_task("messages_compose", 'Start a new conversation with {name} and send "{text}".', complexity=1.3,
              primitives=("open_app", "click", "type"), draws={"name": any_name, "text": SEND_TEXTS})
class MessagesCompose(MessageTask):
    """The contact exists but has no conversation: "New message", pick the contact, send."""

    def setup(self, world: Any) -> None:
        contact = world.ensure_contact(self.params["name"], PHONE)
        if world.conversation(contact["id"]) is not None:
            world.remove_contact(contact["id"])
            world.add_contact({"name": contact["name"], "phone": contact["phone"], "email": contact["email"]})

    def is_successful(self, device: Any, answer: str | None = None) -> float:
        return sent(device, self.params["name"], self.params["text"])

    def expert(self, observation: Observation, history: Sequence[Any]) -> Action:
        name = self.params["name"]
        if in_conversation(observation, name):
            return self.send(observation, history)
        if route(observation) == "/messages/new":  # type the name into "to", then tap the matching contact
            return fill_form(observation, history, {"to": name}, submit=name)
        if route(observation) == "/messages":
            return tap_on(observation, "New message", content=False)
        return self.go_to(observation, "Messages")


@sandbox_task("messages_read", "What was the last message {name} sent you? Answer with the message text.",
              complexity=0.8, primitives=("back", "click", "answer"), draws={"name": any_name, "text": INCOMING_TEXTS})
class MessagesRead(MessageTask):
    """Information retrieval; starts inside another conversation, so the expert goes Back to the list."""

    def setup(self, world: Any) -> None:
        contact = world.ensure_contact(self.params["name"], PHONE)
        world.send_message({"contact_id": contact["id"], "text": self.params["text"], "sender": "them"})

    def start_route(self, world: Any) -> str:
        target = world.contact_by_name(self.params["name"])["id"]
        other = next(c["contact_id"] for c in world.state["conversations"] if c["contact_id"] != target)
        return f"/messages/{other}"

    def is_successful(self, device: Any, answer: str | None = None) -> float:
        return float(answer is not None and norm(answer) == norm(self.params["text"]))

    def expert(self, observation: Observation, history: Sequence[Any]) -> Action:
        name = self.params["name"]
        if any(isinstance(a, Answer) for a in actions(history)):
            return done(history)
        if in_conversation(observation, name):
            theirs = [e for e in observation.elements if e.role == "listitem" and e.text.startswith(f"{name}: ")]
            if not theirs:
                raise LookupError(f"{name} has sent no message")
            return Answer(text=theirs[-1].text[len(name) + 2:])
        return self.to_conversation(observation)
