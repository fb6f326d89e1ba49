"""Sandboxed Markdown templates, and the hidden markers that let the bot find its own comments.

Templates never receive report text. Values that come from outside (a contact line from
SECURITY.md, a login) go through `md`, which neutralises Markdown, HTML and @mentions; the
only mention a template can make is an explicit `mention` of a login, once.

A repository's own wording (`templates:` in its config) is a stranger's program run on the event
loop, so it runs bounded: in an immutable sandbox, with the operators and string methods that
multiply sizes checked or refused, at most MAX_OVERRIDE_STEPS lines of template code (loops
included) and MAX_OVERRIDE_OUTPUT characters of output. Past any bound it fails like a broken
override: the built-in template is used and the failure logged.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from importlib import resources
from types import FrameType
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.filters import do_join, do_replace
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment

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


MAX_OVERRIDE_OUTPUT = 65_536  # characters: GitHub's limit for a comment or issue body
MAX_OVERRIDE_STEPS = 200_000  # lines of template code one override may run (its loops included)
MAX_OVERRIDE_INT_BITS = 4096  # numbers in an override stay this small
# String methods and filters whose arguments, not their input, set the size of what they return
# (`join` and `replace` stay available as filters, checked).
_SIZE_BY_ARGUMENT = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "format", "format_map", "replace",
                               "join", "indent", "wordwrap"})
_OPTIONS: dict[str, Any] = dict(autoescape=False, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                                keep_trailing_newline=False)


class _TooMuch(SecurityError):
    """An override went past one of its bounds."""


def _check_size(text: str) -> str:
    if len(text) > MAX_OVERRIDE_OUTPUT:
        raise _TooMuch("a value longer than a comment may be")
    return text


def _bounded_join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> str:
    items = list(value)
    if len(items) > MAX_OVERRIDE_OUTPUT or len(str(d)) * len(items) > MAX_OVERRIDE_OUTPUT:
        raise _TooMuch("a joined value longer than a comment may be")
    return _check_size(do_join(eval_ctx, items, d, attribute))


def _bounded_replace(eval_ctx: Any, s: str, old: str, new: str, count: int | None = None) -> str:
    found = str(s).count(str(old)) if old else len(str(s)) + 1
    if count is not None and count >= 0:
        found = min(found, count)
    if len(str(s)) + found * max(0, len(str(new)) - len(str(old))) > MAX_OVERRIDE_OUTPUT:
        raise _TooMuch("a replaced value longer than a comment may be")
    return str(do_replace(eval_ctx, s, old, new, count))


_bounded_join.jinja_pass_arg = _bounded_replace.jinja_pass_arg = do_join.jinja_pass_arg  # type: ignore[attr-defined]


class _BoundedCodeGenerator(CodeGenerator):
    """Compiles `a ~ b` to a size-checked join (Jinja's own is not an interceptable operator)."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox for repositories' own templates: nothing in it grows past MAX_OVERRIDE_OUTPUT."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "%" and isinstance(left, str):
            raise _TooMuch("string formatting with % is not available in template overrides")
        if operator == "**" and (not isinstance(right, (int, float)) or abs(right) > 64
                                 or not isinstance(left, (int, float)) or abs(left) > 2**32):
            raise _TooMuch("** is limited to small numbers in template overrides")
        if operator == "*" and (isinstance(left, (list, tuple)) or isinstance(right, (list, tuple))):
            raise _TooMuch("repeating a list is not available in template overrides")
        if operator == "*" and isinstance(left, str) != isinstance(right, str):
            text, times = (left, right) if isinstance(left, str) else (right, left)
            if isinstance(times, int) and len(text) * times > MAX_OVERRIDE_OUTPUT:
                raise _TooMuch("a value longer than a comment may be")
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, (str, list, tuple)) and len(result) > MAX_OVERRIDE_OUTPUT:
            raise _TooMuch("a value longer than a comment may be")
        if isinstance(result, int) and result.bit_length() > MAX_OVERRIDE_INT_BITS:
            raise _TooMuch("a number too large for a template override")
        return result

    def bounded_concat(self, values: Any) -> str:
        parts = []
        size = 0
        for value in values:
            text = str(value)
            size += len(text)
            if size > MAX_OVERRIDE_OUTPUT:
                raise _TooMuch("a value longer than a comment may be")
            parts.append(text)
        return "".join(parts)

    def wrap_str_format(self, value: Any) -> None:
        """`str.format` and `format_map` set their output's size by their arguments: refused here
        (is_safe_attribute), not wrapped."""
        return None

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in _SIZE_BY_ARGUMENT:
            return False
        return super().is_safe_attribute(obj, attr, value)


def _step_limit(limit: int) -> Callable[..., Any]:
    """A trace function that stops the code it watches after `limit` lines."""
    left = [limit]

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            left[0] -= 1
            if left[0] < 0:
                raise _TooMuch(f"more than {limit} steps")
        return trace

    return trace


class Renderer:
    def __init__(self) -> None:
        folder = resources.files("templates")
        self.env = SandboxedEnvironment(loader=FileSystemLoader(str(folder)), **_OPTIONS)
        self.overrides = _BoundedSandbox(**_OPTIONS)
        for env in (self.env, self.overrides):
            env.filters["md"] = md
            env.filters["mention"] = mention
            env.filters["quiet"] = quiet
        for name in _SIZE_BY_ARGUMENT & set(self.overrides.filters):
            del self.overrides.filters[name]
        self.overrides.filters["join"] = _bounded_join
        self.overrides.filters["replace"] = _bounded_replace

    def _override(self, source: str, context: dict[str, Any]) -> str:
        """Render a repository's own template within its bounds (raises `TemplateError` past them)."""
        template = self.overrides.from_string(source)
        previous = sys.gettrace()
        sys.settrace(_step_limit(MAX_OVERRIDE_STEPS))
        try:
            parts: list[str] = []
            size = 0
            for chunk in template.generate(**context):
                size += len(chunk)
                if size > MAX_OVERRIDE_OUTPUT:
                    raise _TooMuch("longer than a comment may be")
                parts.append(chunk)
        except RecursionError as exc:
            raise _TooMuch("recursion too deep") from exc
        finally:
            sys.settrace(previous)
        return "".join(parts)

    def render(self, name: str, override: str | None = None, **context: Any) -> str:
        """Render template `name`, or a repository's own wording for it (`override`).

        An override that fails (a syntax error, an unknown variable, a sandbox violation) is
        logged by name and the built-in template is used instead.
        """
        text = None
        if override:
            try:
                text = self._override(override, context)
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
