"""`rcauth demo`: the real login, whoami, call-log and logout against a private emulator.

What belongs to the demo alone lives here: starting the emulator on free loopback ports, and a
headless "browser" that approves the consent page the way a person would (load the page, submit its
form with the Approve button), for machines where no browser can open.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


def free_loopback_port() -> int:
    """A port free on 127.0.0.1 right now (the emulator must know the redirect URI before it starts)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class _Form:
    action: str = ""
    method: str = "get"
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, visible text)


class _FormParser(HTMLParser):
    """Just enough HTML to submit a form: inputs, and submit buttons with their visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []
        self._button: list[str] | None = None
        self._button_attrs: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(_Form(action=a.get("action", ""), method=a.get("method", "get").lower()))
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind == "submit":
                self.forms[-1].buttons.append((a["name"], a.get("value", ""), a.get("value", "")))
            elif kind not in ("checkbox", "radio") or "checked" in a:
                self.forms[-1].fields.append((a["name"], a.get("value", "")))
        elif tag == "button":
            self._button, self._button_attrs = [], a

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None and self.forms:
            a = self._button_attrs
            if a.get("type", "submit").lower() == "submit":
                text = "".join(self._button).strip()
                self.forms[-1].buttons.append((a.get("name", ""), a.get("value", ""), text))
            self._button = None


class HeadlessApprover:
    """Plays the user at the consent page: opens the authorize URL, presses the button labelled
    `choice` and follows the redirect to the loopback, as a browser would. Runs on its own thread.
    """

    def __init__(self, choice: str = "Approve", on_done: Callable[[str], None] | None = None) -> None:
        self.choice = choice
        self.on_done = on_done
        self.error: str | None = None
        self.finished = threading.Event()

    def __call__(self, url: str) -> None:
        threading.Thread(target=self._run, args=(url,), name="rcauth-demo-browser", daemon=True).start()

    def _run(self, url: str) -> None:
        try:
            self.approve(url)
        except Exception as exc:  # noqa: BLE001 - reported through .error; the login then times out
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.finished.set()

    def approve(self, url: str) -> requests.Response:
        with requests.Session() as http:
            http.trust_env = False  # loopback only: no proxy from the environment may see the code
            page = http.get(url, timeout=30)
            page.raise_for_status()
            parser = _FormParser()
            parser.feed(page.text)
            for form in parser.forms:
                for name, value, text in form.buttons:
                    if text.lower() == self.choice.lower() or value.lower() == self.choice.lower():
                        data = list(form.fields) + ([(name, value)] if name else [])
                        target = urljoin(page.url, form.action or page.url)
                        if form.method == "post":
                            answer = http.post(target, data=data, timeout=90)
                        else:
                            answer = http.get(target, params=data, timeout=90)
                        if self.on_done:
                            self.on_done(answer.url)
                        return answer
        raise RuntimeError(f"no {self.choice!r} button on the consent page")
