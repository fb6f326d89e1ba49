"""Sandboxed Markdown templates, and the hidden markers that let the bot find its own comments.

Templates never receive report text. Values that come from outside (a contact line from
SECURITY.md, a login) go through `md`, which neutralises Markdown, HTML and @mentions; the
only mention a template can make is an explicit `mention` of a login, once.
"""

from __future__ import annotations

import logging
import re
from importlib import resources
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

_ZWJ = "\u200d"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")
_MARKER = re.compile(r"<!-- secbot:(?P<kind>[a-z-]+)(?P<attrs>(?: [a-z_]+=[A-Za-z0-9_./:-]+)*) -->")


def md(value: Any) -> str:
    """Escape untrusted text for Markdown: no formatting, no HTML, no links, no mentions."""
    text = str(value).replace("\r", " ").replace("\n", " ")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("@", "@" + _ZWJ)


def quiet(value: Any) -> str:
    """Keep Markdown but make @mentions inert (for reporters' text shown in private places)."""
    return str(value).replace("@", "@" + _ZWJ)


def mention(login: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?", login or ""):
        return md(login)
    return f"@{login}"


def marker(kind: str, **attrs: Any) -> str:
    parts = "".join(f" {k}={v}" for k, v in sorted(attrs.items()))
    return f"<!-- secbot:{kind}{parts} -->"


def find_marker(body: str | None, kind: str) -> dict[str, str] | None:
    """The attributes of the first `kind` marker in a comment body, or None."""
    for m in _MARKER.finditer(body or ""):
        if m["kind"] == kind:
            return dict(a.split("=", 1) for a in m["attrs"].split())
    return None


class Renderer:
    def __init__(self) -> None:
        folder = resources.files("templates")
        self.env = SandboxedEnvironment(
            loader=FileSystemLoader(str(folder)), autoescape=False, undefined=StrictUndefined,
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
        )
        self.env.filters["md"] = md
        self.env.filters["mention"] = mention
        self.env.filters["quiet"] = quiet

    def render(self, name: str, override: str | None = None, **context: Any) -> str:
        """Render template `name`, or a repository's own wording for it (`override`).

        An override that fails (a syntax error, an unknown variable, a sandbox violation) is
        logged by name and the built-in template is used instead.
        """
        text = None
        if override:
            try:
                text = self.env.from_string(override).render(**context)
            except TemplateError:
                logging.getLogger("secbot.render").warning(
                    "a repository's template override failed; the built-in one is used", extra={"template": name})
        if text is None:
            text = self.env.get_template(f"{name}.md").render(**context)
        return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


_default: Renderer | None = None


def render(name: str, override: str | None = None, **context: Any) -> str:
    global _default
    if _default is None:
        _default = Renderer()
    return _default.render(name, override, **context)
