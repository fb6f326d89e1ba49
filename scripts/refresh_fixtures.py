"""Write tests/fixtures/webhooks/<event>.<action>[.<case>].json from @octokit/webhooks-examples.

Usage:
    npm install --prefix /tmp/oa @octokit/webhooks-examples
    python scripts/refresh_fixtures.py /tmp/oa/node_modules/@octokit/webhooks-examples \
        [--synthetic /work/shared/reference/payloads]

The package has no ``repository_advisory`` examples at all; those two fixtures are
copied from the schema-conformant synthetic payloads in ``--synthetic``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "webhooks"

# (event, action or None): the first example of each is written as <event>.<action>.json
WANTED: list[tuple[str, str | None]] = [
    ("ping", None),
    ("installation", "created"), ("installation", "deleted"),
    ("installation", "suspend"), ("installation", "unsuspend"),
    ("installation_repositories", "added"), ("installation_repositories", "removed"),
    ("issues", "opened"), ("issues", "edited"), ("issues", "reopened"),
    ("issue_comment", "created"), ("issue_comment", "edited"),
    ("repository", "publicized"), ("repository", "privatized"),
    ("discussion", "created"), ("discussion", "edited"),
    ("discussion_comment", "created"), ("discussion_comment", "edited"),
    ("pull_request", "opened"),
]
SYNTHETIC = ["repository_advisory.reported", "repository_advisory.published"]


def _dump(path: pathlib.Path, payload: Any) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", type=pathlib.Path, help="node_modules/@octokit/webhooks-examples")
    parser.add_argument("--synthetic", type=pathlib.Path, default=pathlib.Path("/work/shared/reference/payloads"))
    args = parser.parse_args(argv)

    meta = json.loads((args.package / "package.json").read_text(encoding="utf-8"))
    definitions = json.loads((args.package / "api.github.com" / "index.json").read_text(encoding="utf-8"))
    examples = {d["name"]: d.get("examples", []) for d in definitions}
    OUT.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    missing: list[str] = []

    for event, action in WANTED:
        found = [e for e in examples.get(event, []) if e.get("action") == action]
        name = event if action is None else f"{event}.{action}"
        if not found:
            missing.append(name)
            continue
        _dump(OUT / f"{name}.json", found[0])
        written.append(f"{name}.json")

    # A ping as an App receives it (hook.app_id present), if the package has one.
    app_pings = [e for e in examples.get("ping", []) if (e.get("hook") or {}).get("app_id")]
    if app_pings:
        _dump(OUT / "ping.app.json", app_pings[0])
        written.append("ping.app.json")
    else:
        missing.append("ping.app")

    # A comment on a pull request (issue.pull_request present), if the package has one.
    for action in ("created", "edited"):
        on_pr = [e for e in examples.get("issue_comment", [])
                 if e.get("action") == action and (e.get("issue") or {}).get("pull_request")]
        if on_pr:
            _dump(OUT / f"issue_comment.{action}.pull_request.json", on_pr[0])
            written.append(f"issue_comment.{action}.pull_request.json")
        else:
            missing.append(f"issue_comment.{action}.pull_request")

    for name in SYNTHETIC:
        source = args.synthetic / f"{name}.SYNTHETIC.json"
        payload = json.loads(source.read_text(encoding="utf-8"))
        _dump(OUT / f"{name}.json", payload)
        written.append(f"{name}.json (synthetic)")

    readme = f"""# Webhook fixtures

Real (or, where none exists, schema-conformant synthetic) webhook payloads, named
`<event>.<action>[.<case>].json`. Regenerate with `scripts/refresh_fixtures.py`.

## Sources

- `{meta['name']}` {meta['version']} (npm), `api.github.com/index.json`: the first example
  whose `action` matches, for every file below except the two `repository_advisory` ones.
  `ping.app.json` is the ping example whose `hook.app_id` is set (what a GitHub App receives).
  The package is deprecated and stale (no longer refreshed since 2022): payloads lack newer
  fields, and `installation.permissions`/`events` lack `repository_advisories`/`repository_advisory`.
- `repository_advisory.reported.json` and `repository_advisory.published.json`: the package has
  **no** `repository_advisory` examples (nor does any other octokit package); these are copied
  from the team's synthetic payloads (`shared/reference/payloads/*.SYNTHETIC.json`), written to
  the `webhook-repository-advisory-reported|published` schemas of `@octokit/openapi` 23.0.2.
  They are not captured from GitHub.

## Files

{chr(10).join(f"- `{w}`" for w in written)}

## Not available

{chr(10).join(f"- `{m}`: no such example in {meta['name']} {meta['version']}" for m in missing) or "- nothing"}
"""
    (OUT / "README.md").write_text(readme, encoding="utf-8")
    print(f"wrote {len(written)} fixtures to {OUT}; missing: {missing or 'none'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
