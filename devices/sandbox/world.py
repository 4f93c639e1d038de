"""SandboxWorld: the sandbox phone's state plus the loopback HTTP server that serves the app and its JSON API.

The server (a ThreadingHTTPServer on 127.0.0.1, a free port, in a daemon thread) serves ``static/`` and:

    GET    /api/state?route=R        the whole state; records R as the screen shown (``state["route"]``)
    POST   /api/contacts             {"name", "phone", "email"}       -> the new contact
    PUT    /api/contacts/ID          {"name"?, "phone"?, "email"?}    -> the contact
    POST   /api/messages             {"contact_id", "text"}           -> the conversation
    POST   /api/notes                {"title", "body"}                -> the new note
    PUT    /api/notes/ID             {"title"?, "body"?}              -> the note
    DELETE /api/notes/ID                                              -> {"deleted": ID}
    PUT    /api/settings             {KEY: value, ...}                -> the settings
    PUT    /api/photos/ID            {"favourite": bool}              -> the photo

Every mutation the app makes goes through this API, so :attr:`SandboxWorld.state` is the truth checkers read.
Tasks may call the same mutation methods directly (as AndroidWorld sets state over adb). Bad requests answer
400 with ``{"error": ...}``; the methods raise :class:`~cua.errors.ActionError`. ``close()`` (idempotent) stops
the server and joins its thread within :data:`SHUTDOWN_TIMEOUT` seconds.
"""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from cua.device import ClosesOnExit
from cua.devices.sandbox.data import initial_state
from cua.errors import ActionError

STATIC_DIR = Path(__file__).parent / "static"
SHUTDOWN_TIMEOUT = 5.0
MAX_BODY = 64_000
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8"}
SETTING_TYPES: dict[str, type] = {"wifi": bool, "bluetooth": bool, "airplane": bool, "dark_mode": bool,
                                  "brightness": int}
CONTACT_FIELDS = ("name", "phone", "email")
NOTE_FIELDS = ("title", "body")


def _text(body: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ActionError(f"{key} must be a string, got {value!r}")
    return value.strip()


class SandboxWorld(ClosesOnExit):
    """State + server. ``url`` is the app's base URL (``http://127.0.0.1:PORT/``); ``reset(seed)`` reloads data."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.RLock()
        self.seed = seed
        self.state: dict[str, Any] = initial_state(seed)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="sandbox-world", daemon=True)
        self._thread.start()
        self._closed = False

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def reset(self, seed: int | None = None) -> None:
        """Restore the initial data of ``seed`` (default: the last seed)."""
        with self._lock:
            self.seed = self.seed if seed is None else seed
            self.state = initial_state(self.seed)

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the state (safe to keep while the app goes on)."""
        with self._lock:
            return copy.deepcopy(self.state)

    def _new_id(self, prefix: str) -> str:
        self.state["next_id"] += 1
        return f"{prefix}{self.state['next_id']}"

    def _find(self, kind: str, item_id: str) -> dict[str, Any]:
        for item in self.state[kind]:
            if item["id"] == item_id:
                return item
        raise ActionError(f"no {kind[:-1]} with id {item_id!r}")

    def contact(self, item_id: str) -> dict[str, Any]:
        with self._lock:
            return self._find("contacts", item_id)

    def contact_by_name(self, name: str) -> dict[str, Any] | None:
        """The first contact whose name equals ``name`` (case-insensitive), or None when there is none."""
        with self._lock:
            return next((c for c in self.state["contacts"] if c["name"].casefold() == name.casefold()), None)

    def conversation(self, contact_id: str) -> dict[str, Any] | None:
        """The conversation with ``contact_id``, or None when there is none yet."""
        with self._lock:
            return next((c for c in self.state["conversations"] if c["contact_id"] == contact_id), None)

    def add_contact(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            fields = {k: _text(body, k, required=k == "name") or "" for k in CONTACT_FIELDS}
            if not fields["name"]:
                raise ActionError("a contact needs a name")
            contact = {"id": self._new_id("c"), **fields}
            self.state["contacts"].append(contact)
            return contact

    def update_contact(self, item_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            contact = self._find("contacts", item_id)
            for key in CONTACT_FIELDS:
                value = _text(body, key, required=False)
                if value is not None:
                    contact[key] = value
            if not contact["name"]:
                raise ActionError("a contact needs a name")
            return contact

    def remove_contact(self, item_id: str) -> None:
        with self._lock:
            self.state["contacts"].remove(self._find("contacts", item_id))
            self.state["conversations"] = [c for c in self.state["conversations"] if c["contact_id"] != item_id]

    def ensure_contact(self, name: str, phone: str) -> dict[str, Any]:
        """The contact named ``name``, added with ``phone`` when there is none (task set-up)."""
        with self._lock:
            return self.contact_by_name(name) or self.add_contact({"name": name, "phone": phone, "email": ""})

    def place_photo(self, title: str, colour: str, index: int) -> dict[str, Any]:
        """Put the photo titled ``title`` at viewer position ``index`` (replacing one if it is absent)."""
        with self._lock:
            photos = self.state["photos"]
            if not 0 <= index < len(photos):
                raise ActionError(f"photo index {index} outside 0..{len(photos) - 1}")
            photo = next((p for p in photos if p["title"] == title), None)
            if photo is None:
                photo = photos[index]
                photo.update(title=title, colour=colour)
            photos.remove(photo)
            photos.insert(index, photo)
            return photo

    def send_message(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            contact_id, text = _text(body, "contact_id"), _text(body, "text")
            self._find("contacts", contact_id or "")
            if not text:
                raise ActionError("a message needs text")
            sender = body.get("sender", "me")
            if sender not in ("me", "them"):
                raise ActionError(f"sender must be 'me' or 'them', got {sender!r}")
            conv = self.conversation(contact_id or "")
            if conv is None:
                conv = {"contact_id": contact_id, "messages": []}
                self.state["conversations"].append(conv)
            conv["messages"].append({"sender": sender, "text": text})
            return conv

    def add_note(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            note = {"id": self._new_id("n"), "title": _text(body, "title") or "", "body": _text(body, "body") or ""}
            if not note["title"]:
                raise ActionError("a note needs a title")
            self.state["notes"].append(note)
            return note

    def update_note(self, item_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            note = self._find("notes", item_id)
            for key in NOTE_FIELDS:
                value = _text(body, key, required=False)
                if value is not None:
                    note[key] = value
            return note

    def delete_note(self, item_id: str) -> dict[str, Any]:
        with self._lock:
            self.state["notes"].remove(self._find("notes", item_id))
            return {"deleted": item_id}

    def set_settings(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            for key, value in body.items():
                kind = SETTING_TYPES.get(key)
                if kind is None or type(value) is not kind:
                    raise ActionError(f"bad setting {key}={value!r}; settings: {SETTING_TYPES}")
                if key == "brightness" and not 0 <= value <= 100:
                    raise ActionError(f"brightness must lie in 0..100, got {value}")
            self.state["settings"].update(body)
            return self.state["settings"]

    def set_photo(self, item_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            photo = self._find("photos", item_id)
            if not isinstance(body.get("favourite"), bool):
                raise ActionError(f"favourite must be true or false, got {body.get('favourite')!r}")
            photo["favourite"] = body["favourite"]
            return photo

    def dispatch(self, method: str, path: str, body: dict[str, Any]) -> Any:
        """Route one API call (``path`` without ``/api``); ActionError for unknown routes or bad bodies."""
        parts = [p for p in path.split("/") if p]
        key = (method, parts[0] if parts else "", len(parts))
        routes = {
            ("POST", "contacts", 1): lambda: self.add_contact(body),
            ("PUT", "contacts", 2): lambda: self.update_contact(parts[1], body),
            ("POST", "messages", 1): lambda: self.send_message(body),
            ("POST", "notes", 1): lambda: self.add_note(body),
            ("PUT", "notes", 2): lambda: self.update_note(parts[1], body),
            ("DELETE", "notes", 2): lambda: self.delete_note(parts[1]),
            ("PUT", "settings", 1): lambda: self.set_settings(body),
            ("PUT", "photos", 2): lambda: self.set_photo(parts[1], body),
        }
        if key not in routes:
            raise ActionError(f"no API route {method} /api{path}")
        with self._lock:
            return copy.deepcopy(routes[key]())

    def close(self) -> None:
        """Stop the server (idempotent)."""
        if not self._closed:
            self._closed = True
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(SHUTDOWN_TIMEOUT)


def _handler_for(world: SandboxWorld) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass

        def _send(self, code: int, data: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def _json(self, code: int, value: Any) -> None:
            self._send(code, json.dumps(value).encode(), "application/json")

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path == "/api/state":
                route = parse_qs(url.query).get("route", [""])[0]
                with world._lock:
                    if route:
                        world.state["route"] = route
                    self._json(200, world.state)
                return
            name = "index.html" if url.path in ("/", "") else url.path.lstrip("/")
            target = (STATIC_DIR / name).resolve()
            if STATIC_DIR.resolve() not in target.parents or not target.is_file():
                self._json(404, {"error": f"no file {url.path}"})
                return
            self._send(200, target.read_bytes(), CONTENT_TYPES.get(target.suffix, "application/octet-stream"))

        def _api(self, method: str) -> None:
            url = urlparse(self.path)
            if not url.path.startswith("/api/"):
                self._json(404, {"error": f"no API route {url.path}"})
                return
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(body, dict):
                    raise ActionError("the request body must be a JSON object")
                self._json(200, world.dispatch(method, url.path[4:], body))
            except (ActionError, json.JSONDecodeError) as exc:
                self._json(400, {"error": str(exc)})

        def do_POST(self) -> None:
            self._api("POST")

        def do_PUT(self) -> None:
            self._api("PUT")

        def do_DELETE(self) -> None:
            self._api("DELETE")

    return Handler
