"""The vendored API description (+ extensions): route matching and request validation.

Everything here fails closed: a request that the description does not allow
yields a reason string, and the server turns that into a recorded violation.
"""

from __future__ import annotations

import gzip
import json
import pathlib
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import unquote

from jsonschema.exceptions import best_match
from openapi_schema_validator import OAS30Validator

HERE = pathlib.Path(__file__).resolve().parent
SUBSET = HERE / "openapi-subset.json"
EXTENSIONS = HERE / "extensions.json"

# Path parameters that may contain slashes (GitHub documents them as such).
_GREEDY = {"path", "ref"}
METHODS = ("get", "put", "post", "patch", "delete")


@dataclass
class Operation:
    method: str  # upper case
    template: str
    operation_id: str
    parameters: list[dict[str, Any]]
    request_body: dict[str, Any] | None
    responses: dict[str, Any]
    extension: bool
    regex: re.Pattern[str] = field(repr=False, default=None)  # type: ignore[assignment]
    param_names: list[str] = field(default_factory=list)

    @property
    def literal_segments(self) -> int:
        return sum(1 for seg in self.template.split("/") if seg and "{" not in seg)

    def query_params(self) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in self.parameters if p.get("in") == "query"}

    def path_params(self) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in self.parameters if p.get("in") == "path"}


def _load_json(path: pathlib.Path) -> dict[str, Any]:
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    gz = path.with_suffix(path.suffix + ".gz")
    return json.loads(gzip.decompress(gz.read_bytes()).decode("utf-8"))


class Spec:
    """The description the emulator enforces: ``openapi-subset.json`` plus ``extensions.json``."""

    def __init__(self) -> None:
        self.subset = _nullable_as_github_means_it(_load_json(SUBSET))
        self.extensions = _nullable_as_github_means_it(_load_json(EXTENSIONS))
        # One document that every $ref resolves against.
        self.root: dict[str, Any] = {
            "components": self.subset["components"],
            "x-secbot-schemas": self.extensions.get("x-secbot-schemas", {}),
        }
        self.operations: list[Operation] = []
        for source, extension in ((self.subset["paths"], False), (self.extensions["paths"], True)):
            for template, item in source.items():
                shared = [self.resolve(p) for p in item.get("parameters", [])]
                for method in METHODS:
                    if method not in item:
                        continue
                    op = item[method]
                    params = shared + [self.resolve(p) for p in op.get("parameters", [])]
                    body = self.resolve(op["requestBody"]) if "requestBody" in op else None
                    operation = Operation(
                        method=method.upper(), template=template,
                        operation_id=op.get("operationId", ""), parameters=params,
                        request_body=body, responses=op.get("responses", {}), extension=extension,
                    )
                    operation.regex, operation.param_names = _compile(template)
                    self.operations.append(operation)
        # Most literal first, so /issues/comments/{id} wins over /issues/{issue_number}.
        self.operations.sort(key=lambda o: (-o.literal_segments, o.template))

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while isinstance(node, dict) and "$ref" in node:
            parts = node["$ref"].lstrip("#/").split("/")
            cur: Any = self.root
            for part in parts:
                cur = cur[part]
            node = cur
        return node

    def find(self, method: str, template: str) -> Operation | None:
        for op in self.operations:
            if op.method == method.upper() and op.template == template:
                return op
        return None

    def match(self, method: str, raw_path: str) -> tuple[Operation | None, dict[str, str], str | None]:
        """Return (operation, path parameters, reason-if-no-match)."""
        path_hit = False
        for op in self.operations:
            m = op.regex.fullmatch(raw_path)
            if not m:
                continue
            path_hit = True
            if op.method != method.upper():
                continue
            return op, {k: unquote(v) for k, v in m.groupdict().items()}, None
        if path_hit:
            return None, {}, f"method {method.upper()} is not allowed on {raw_path} by the description"
        return None, {}, f"no operation in the description matches {method.upper()} {raw_path}"

    # -- validation ------------------------------------------------------------------------

    @cache
    def _validator(self, key: str) -> OAS30Validator:  # key: json of the schema
        schema = json.loads(key)
        return OAS30Validator({**schema, **self.root} if "$ref" not in schema else {"$ref": schema["$ref"], **self.root})

    def validator(self, schema: dict[str, Any]) -> OAS30Validator:
        return self._validator(json.dumps(schema, sort_keys=True))

    def check_value(self, schema: dict[str, Any], value: Any) -> str | None:
        error = best_match(self.validator(schema).iter_errors(value))
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path)
        return f"{error.message}" + (f" (at {where})" if where else "")

    def check_path_params(self, op: Operation, values: dict[str, str]) -> str | None:
        for name, spec in op.path_params().items():
            schema = spec.get("schema", {})
            raw = values.get(name)
            if raw is None:
                return f"missing path parameter {name!r}"
            value, reason = _coerce(raw, schema)
            if reason is None:
                reason = self.check_value(schema, value)
            if reason:
                return f"path parameter {name!r}={raw!r}: {reason}"
        return None

    def check_query(self, op: Operation, query: dict[str, list[str]]) -> str | None:
        allowed = op.query_params()
        for name, values in query.items():
            if name not in allowed:
                known = ", ".join(sorted(allowed)) or "none"
                return f"unknown query parameter {name!r} for {op.method} {op.template} (allowed: {known})"
            schema = allowed[name].get("schema", {})
            for raw in values:
                value, reason = _coerce(raw, schema)
                if reason is None:
                    reason = self.check_value(schema, value)
                if reason:
                    return f"query parameter {name!r}={raw!r}: {reason}"
        for name, spec in allowed.items():
            if spec.get("required") and name not in query:
                return f"missing required query parameter {name!r}"
        return None

    def check_body(self, op: Operation, raw: bytes, content_type: str) -> tuple[Any, str | None]:
        """Return (parsed JSON body or None, reason-if-invalid)."""
        if op.request_body is None:
            if raw.strip():
                return None, f"{op.method} {op.template} takes no request body"
            return None, None
        if not raw.strip():
            if op.request_body.get("required"):
                return None, f"missing required request body for {op.method} {op.template}"
            return None, None
        if "json" not in content_type:
            return None, f"request body must be JSON (Content-Type: {content_type or 'missing'})"
        try:
            body = json.loads(raw)
        except ValueError as exc:
            return None, f"request body is not valid JSON: {exc}"
        media = op.request_body.get("content", {}).get("application/json")
        if media is None:
            return body, f"{op.method} {op.template} does not take application/json"
        reason = self.check_value(media.get("schema", {}), body)
        if reason:
            return body, f"request body: {reason}"
        return body, None

    def response_schema(self, op: Operation, status: int) -> dict[str, Any] | None:
        override = self.extensions.get("response-schema-overrides", {}).get(f"{op.method} {op.template}", {})
        if str(status) in override:
            return override[str(status)]
        response = op.responses.get(str(status))
        if response is None:
            return None
        response = self.resolve(response)
        media = response.get("content", {}).get("application/json")
        return None if media is None else media.get("schema")


_COMPOSED = ("enum", "allOf", "oneOf", "anyOf")


def _nullable_as_github_means_it(node: Any) -> Any:
    """Make ``nullable: true`` admit null next to ``enum``/``allOf``/``oneOf``/``anyOf``.

    OpenAPI 3.0.3 says ``nullable`` does not widen an ``enum`` or a composition, and
    the validator follows that; GitHub's description relies on the older reading
    (issue ``state_reason``: null; advisory ``publisher``: null) and GitHub sends
    and accepts null there. Rewritten in place to ``anyOf: [null, <schema>]``.
    """
    if isinstance(node, list):
        for item in node:
            _nullable_as_github_means_it(item)
    elif isinstance(node, dict):
        for value in node.values():
            _nullable_as_github_means_it(value)
        if node.get("nullable") is True and any(k in node for k in _COMPOSED):
            rest = {k: v for k, v in node.items() if k != "nullable"}
            node.clear()
            node["anyOf"] = [{"enum": [None]}, rest]
    return node


def _compile(template: str) -> tuple[re.Pattern[str], list[str]]:
    names: list[str] = []
    pattern = ""
    for piece in re.split(r"(\{[^}]+\})", template):
        if piece.startswith("{"):
            name = piece[1:-1]
            names.append(name)
            group = ".+" if name in _GREEDY else "[^/]+"
            pattern += f"(?P<{name.replace('-', '_')}>{group})"
        else:
            pattern += re.escape(piece)
    return re.compile(pattern), names


def _coerce(raw: str, schema: dict[str, Any]) -> tuple[Any, str | None]:
    kind = schema.get("type")
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", raw):
            return raw, "not an integer"
        return int(raw), None
    if kind == "number":
        try:
            return float(raw), None
        except ValueError:
            return raw, "not a number"
    if kind == "boolean":
        if raw not in ("true", "false"):
            return raw, "not a boolean"
        return raw == "true", None
    return raw, None


@cache
def load_spec() -> Spec:
    return Spec()
