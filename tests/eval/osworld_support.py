"""A local stand-in for an OSWorld VM: Xvfb (tests/support_x11.py) plus an HTTP server speaking the protocol of
OSWorld's VM server that their ``PythonController`` talks to (``POST /execute`` runs a command list,
``POST /file`` returns a file, ``GET /screenshot`` a PNG), plus ``GET /cloud/NAME`` serving the files their
``cloud_file`` getter downloads. Commands run on the test's X display; ``python`` is this interpreter.

Run as a script (``python osworld_support.py editor FILE``) it is a one-line text editor that autosaves its
text to FILE on every change, ctrl+a selecting all (the X program the end-to-end test edits).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))


@dataclass
class VMServer:
    env: dict[str, str]
    cloud: Path
    executed: list[list[str]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.server_address[1]

    def start(self) -> "VMServer":
        vm = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/execute":
                    req = json.loads(data)
                    cmd = [sys.executable if c == "python" else c for c in req["command"]]
                    vm.executed.append(cmd)
                    proc = subprocess.run(cmd, shell=bool(req.get("shell")), env=vm.env, capture_output=True,
                                          text=True, timeout=60)
                    out = {"status": "success", "output": proc.stdout, "error": proc.stderr,
                           "returncode": proc.returncode}
                    self._send(200, json.dumps(out).encode())
                elif self.path == "/file":
                    path = Path(parse_qs(data.decode())["file_path"][0])
                    if path.is_file():
                        self._send(200, path.read_bytes(), "application/octet-stream")
                    else:
                        self._send(404, b'{"error": "not found"}')
                else:
                    self._send(404, b"{}")

            def do_GET(self) -> None:
                if self.path == "/screenshot":
                    import mss
                    import mss.tools

                    with getattr(mss, "MSS", mss.mss)(display=vm.env["DISPLAY"]) as grab:
                        shot = grab.grab(grab.monitors[0])
                        self._send(200, mss.tools.to_png(shot.rgb, shot.size), "image/png")
                elif self.path.startswith("/cloud/") and (vm.cloud / self.path[7:]).is_file():
                    self._send(200, (vm.cloud / self.path[7:]).read_bytes(), "application/octet-stream")
                else:
                    self._send(404, b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def serve(env: dict[str, str], cloud: Path) -> Iterator[VMServer]:
    server = VMServer(env, cloud).start()
    try:
        yield server
    finally:
        server.stop()


def _editor(path: str) -> None:
    import tkinter as tk

    root = tk.Tk()
    root.geometry("1280x800+0+0")
    root.attributes("-fullscreen", True)
    var = tk.StringVar(root)
    var.trace_add("write", lambda *_: Path(path).write_text(var.get(), encoding="utf-8"))
    entry = tk.Entry(root, textvariable=var, font=("DejaVu Sans", 20))
    entry.place(x=100, y=100, width=1000, height=60)
    entry.bind("<Control-a>", lambda e: (entry.select_range(0, "end"), entry.icursor("end"), "break")[-1])

    def ready() -> None:
        if root.winfo_rootx() != 0 or root.winfo_rooty() != 0:
            root.after(50, ready)
            return
        Path(path + ".ready").write_text("1")

    root.after(100, ready)
    root.mainloop()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "editor":
        _editor(sys.argv[2])
    else:
        sys.exit(f"usage: {sys.argv[0]} editor FILE")
