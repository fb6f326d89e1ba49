"""Write bot/emulator/openapi-subset.json from @octokit/openapi's api.github.com.json.

Usage:
    npm install --prefix /tmp/oa @octokit/openapi
    python scripts/refresh_openapi.py /tmp/oa/node_modules/@octokit/openapi/generated/api.github.com.json

Keeps only the operations the emulator serves (OPERATIONS below) and every
``#/components/...`` entry they reach through ``$ref`` (parameters, request
bodies, responses, headers, schemas).  Examples and long descriptions are
dropped to keep the file small; everything that validation needs stays.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from typing import Any

OPERATIONS: list[tuple[str, str]] = [
    # Apps (JWT)
    ("post", "/app/installations/{installation_id}/access_tokens"),
    ("get", "/app"),
    ("get", "/repos/{owner}/{repo}/installation"),
    ("get", "/app/installations"),
    ("post", "/app-manifests/{code}/conversions"),
    ("get", "/app/hook/deliveries"),
    ("post", "/app/hook/deliveries/{delivery_id}/attempts"),
    # Repos
    ("get", "/repos/{owner}/{repo}"),
    ("get", "/repos/{owner}/{repo}/contents/{path}"),
    ("put", "/repos/{owner}/{repo}/contents/{path}"),
    ("get", "/repos/{owner}/{repo}/private-vulnerability-reporting"),
    ("put", "/repos/{owner}/{repo}/private-vulnerability-reporting"),
    ("delete", "/repos/{owner}/{repo}/private-vulnerability-reporting"),
    ("get", "/repos/{owner}/{repo}/collaborators/{username}/permission"),
    ("get", "/repos/{owner}/{repo}/git/ref/{ref}"),
    ("get", "/repos/{owner}/{repo}/git/trees/{tree_sha}"),
    ("get", "/repos/{owner}/{repo}/tags"),
    ("post", "/repos/{owner}/{repo}/git/refs"),
    ("get", "/repos/{owner}/{repo}/pulls"),
    ("post", "/repos/{owner}/{repo}/pulls"),
    ("get", "/repos/{owner}/{repo}/releases/tags/{tag}"),
    ("get", "/repos/{owner}/{repo}/releases"),
    ("post", "/repos/{owner}/{repo}/releases"),
    ("get", "/installation/repositories"),
    # Issues
    ("get", "/repos/{owner}/{repo}/issues"),
    ("post", "/repos/{owner}/{repo}/issues"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("patch", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("get", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("patch", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("delete", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    ("put", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    ("delete", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    ("delete", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/assignees"),
    ("delete", "/repos/{owner}/{repo}/issues/{issue_number}/assignees"),
    ("put", "/repos/{owner}/{repo}/issues/{issue_number}/lock"),
    ("delete", "/repos/{owner}/{repo}/issues/{issue_number}/lock"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/reactions"),
    ("post", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"),
    ("get", "/repos/{owner}/{repo}/labels/{name}"),
    ("post", "/repos/{owner}/{repo}/labels"),
    # Repository security advisories
    ("get", "/repos/{owner}/{repo}/security-advisories"),
    ("post", "/repos/{owner}/{repo}/security-advisories"),
    ("get", "/repos/{owner}/{repo}/security-advisories/{ghsa_id}"),
    ("patch", "/repos/{owner}/{repo}/security-advisories/{ghsa_id}"),
    ("post", "/repos/{owner}/{repo}/security-advisories/reports"),
    ("post", "/repos/{owner}/{repo}/security-advisories/{ghsa_id}/cve"),
    # The triage card: the global advisory database, code search, public profiles
    ("get", "/advisories"),
    ("get", "/advisories/{ghsa_id}"),
    ("get", "/search/code"),
    ("get", "/users/{username}"),
    # Teams
    ("get", "/orgs/{org}/teams/{team_slug}/memberships/{username}"),
]

_DROP_KEYS = {"examples", "example", "externalDocs", "x-octokit"}


def _strip(node: Any, *, names: bool = False) -> Any:
    """Drop examples and documentation-only keys, recursively.

    ``names`` is true for maps whose keys are names (schema ``properties``),
    where a property called ``example`` or ``description`` must survive.
    """
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if names:
                out[key] = _strip(value)
                continue
            if key in _DROP_KEYS:
                continue
            if key == "description" and isinstance(value, str):
                # Keep descriptions short: they are for humans reading violations.
                value = value.split("\n", 1)[0][:200]
            out[key] = _strip(value, names=key in ("properties", "patternProperties"))
        return out
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            ref = cur.get("$ref")
            if isinstance(ref, str):
                found.add(ref)
            stack.extend(cur.values())
        elif isinstance(cur, list):
            stack.extend(cur)
    return found


def build_subset(spec: dict[str, Any], package: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path in OPERATIONS:
        try:
            op = spec["paths"][path][method]
        except KeyError:
            raise SystemExit(f"operation not in the description: {method.upper()} {path}")
        paths.setdefault(path, {})[method] = _strip(op)
        shared = spec["paths"][path].get("parameters")
        if shared:
            paths[path]["parameters"] = _strip(shared)

    components: dict[str, dict[str, Any]] = {}
    todo = list(_refs(paths))
    seen: set[str] = set()
    while todo:
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        if not ref.startswith("#/components/"):
            raise SystemExit(f"unsupported $ref {ref}")
        _, _, kind, name = ref.split("/", 3)
        target = _strip(spec["components"][kind][name])
        components.setdefault(kind, {})[name] = target
        todo.extend(_refs(target) - seen)

    return {
        "openapi": spec["openapi"],
        "info": {"title": "Secbot emulator subset of GitHub's REST API description",
                 "version": spec["info"]["version"]},
        "x-secbot-source": (
            f"{package} {spec['info']['version']}, generated/api.github.com.json; "
            "subset written by scripts/refresh_openapi.py (examples and long descriptions dropped)"
        ),
        "servers": spec.get("servers", []),
        "paths": {p: paths[p] for p in sorted(paths)},
        "components": {k: dict(sorted(v.items())) for k, v in sorted(components.items())},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=pathlib.Path, help="path to generated/api.github.com.json")
    parser.add_argument(
        "--out", type=pathlib.Path,
        default=pathlib.Path(__file__).resolve().parent.parent / "bot" / "emulator" / "openapi-subset.json",
    )
    args = parser.parse_args(argv)
    spec = json.loads(args.spec.read_text(encoding="utf-8"))
    package = "@octokit/openapi"
    pkg_json = args.spec.parent.parent / "package.json"
    if pkg_json.exists():
        meta = json.loads(pkg_json.read_text(encoding="utf-8"))
        package = f"{meta.get('name', package)}@{meta.get('version', '?')}"
    subset = build_subset(spec, package)
    text = json.dumps(subset, indent=1, sort_keys=False) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(text):,} bytes, {len(OPERATIONS)} operations, "
          f"{sum(len(v) for v in subset['components'].values())} components)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
