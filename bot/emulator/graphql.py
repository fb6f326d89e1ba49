"""The GraphQL shapes the app needs, parsed with regular expressions; anything else fails closed.

* ``query { repository(owner: "o", name: "r") { id isPrivate } }`` (literals or ``$variables``; any of
  the fields ``id``, ``isPrivate``, ``nameWithOwner``)
* ``mutation { transferIssue(input: {issueId: ..., repositoryId: ...[, createLabelsIfMissing: ...]})
  { issue { number url [id] } } }`` (or ``input: $input`` with a variables object)
* ``mutation { minimizeComment(input: {subjectId: ..., classifier: OUTDATED}) { [clientMutationId]
  minimizedComment { isMinimized minimizedReason viewerCanMinimize } } }`` (any of the three fields;
  or ``input: $input``), as GitHub's schema has it: ``MinimizeCommentInput`` is ``subjectId: ID!``,
  ``classifier: ReportedContentClassifiers!`` (ABUSE, DUPLICATE, OFF_TOPIC, OUTDATED, RESOLVED,
  SPAM; an enum, so a literal is written bare and a variable holds its name) and an optional
  ``clientMutationId``; the payload's ``minimizedComment`` is the ``Minimizable`` interface, whose
  ``minimizedReason`` is lower-case with a hyphen (``outdated``, ``off-topic``): GitHub documents
  that it is formatted differently from the classifier. Issue and discussion comments can be minimized.
* ``mutation($discussion: ID!, $body: String!) { addDiscussionComment(input: {discussionId: $discussion,
  body: $body}) { comment { id databaseId } } }``: a reply in a discussion (``AddDiscussionCommentInput``
  is ``discussionId: ID!``, ``body: String!``, optional ``replyToId``, ``clientMutationId``).
* ``query($discussion: ID!) { node(id: $discussion) { ... on Discussion { comments(last: N) { nodes {
  id databaseId body viewerDidAuthor } } } } }``: a discussion's latest comments (N at most 100).
* ``query { repository(owner: ..., name: ...) { discussion(number: $n) { id [number] } } }``: a
  discussion's id by its number (``discussion`` is null when there is none).
* ``mutation { lockLockable(input: {lockableId: ..., lockReason: SPAM}) { lockedRecord { locked
  activeLockReason } } }`` (or ``input: $input``): ``LockLockableInput`` is ``lockableId: ID!``,
  optional ``lockReason: LockReason`` (OFF_TOPIC, RESOLVED, SPAM, TOO_HEATED), ``clientMutationId``;
  issues and discussions are ``Lockable``; ``activeLockReason`` is the enum (``SPAM``).
* ``mutation { deleteDiscussionComment(input: {id: ...}) { comment { id } } }``
  (``DeleteDiscussionCommentInput`` is ``id: ID!``, ``clientMutationId``).
* ``mutation { addReaction(input: {subjectId: ..., content: THUMBS_UP}) { reaction { content [id] } } }``
  (or ``input: $input``): ``AddReactionInput`` is ``subjectId: ID!``, ``content: ReactionContent!``
  (THUMBS_UP, THUMBS_DOWN, LAUGH, HOORAY, CONFUSED, HEART, ROCKET, EYES), ``clientMutationId``; issues,
  issue comments, discussions and discussion comments are ``Reactable``. Stored as the REST reaction
  of the same content (``+1``, ``-1``, ``confused`` ...), once per user and content, as REST does.

Answers look like GitHub's: HTTP 200, ``{"data": ...}``, and ``errors`` with a
``type`` (``NOT_FOUND``, ``FORBIDDEN``, ``UNPROCESSABLE``) for refusals.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .state import NotFound, Unprocessable

if TYPE_CHECKING:
    from .server import Ctx, Reply

_VALUE = r'(\$\w+|"(?:[^"\\]|\\.)*"|true|false)'
_REPOSITORY = re.compile(
    r"^\s*(?:query\b[^{]*)?\{\s*repository\s*\(\s*owner\s*:\s*" + _VALUE + r"\s*,\s*name\s*:\s*" + _VALUE
    + r"\s*\)\s*\{(?P<fields>[\w\s]*)\}\s*\}\s*$", re.S)
_TRANSFER = re.compile(
    r"^\s*mutation\b[^{]*\{\s*transferIssue\s*\(\s*input\s*:\s*(?P<input>\$\w+|\{[^}]*\})\s*\)\s*"
    r"\{\s*issue\s*\{(?P<fields>[\w\s]*)\}\s*\}\s*\}\s*$", re.S)
_INPUT_PAIR = re.compile(r"(\w+)\s*:\s*" + _VALUE)
_ISSUE_FIELDS = {"number", "url", "id"}
_REPOSITORY_FIELDS = {"id", "isPrivate", "nameWithOwner"}
_MINIMIZE = re.compile(
    r"^\s*mutation\b[^{]*\{\s*minimizeComment\s*\(\s*input\s*:\s*(?P<input>\$\w+|\{[^}]*\})\s*\)\s*"
    r"\{(?P<before>[\w\s]*)minimizedComment\s*\{(?P<fields>[\w\s]*)\}(?P<after>[\w\s]*)\}\s*\}\s*$", re.S)
_ENUM_PAIR = re.compile(r"(\w+)\s*:\s*(" + _VALUE[1:-1] + r"|[A-Z][A-Z_]*)")
_CLASSIFIERS = {"ABUSE", "DUPLICATE", "OFF_TOPIC", "OUTDATED", "RESOLVED", "SPAM"}
_MINIMIZABLE_FIELDS = {"isMinimized", "minimizedReason", "viewerCanMinimize"}
_ADD_DISCUSSION_COMMENT = re.compile(
    r"^\s*mutation\b[^{]*\{\s*addDiscussionComment\s*\(\s*input\s*:\s*(?P<input>\$\w+|\{[^}]*\})\s*\)\s*"
    r"\{\s*comment\s*\{(?P<fields>[\w\s]*)\}\s*\}\s*\}\s*$", re.S)
_DISCUSSION_COMMENTS = re.compile(
    r"^\s*(?:query\b[^{]*)?\{\s*node\s*\(\s*id\s*:\s*" + _VALUE + r"\s*\)\s*\{\s*\.\.\.\s*on\s+Discussion\s*\{"
    r"\s*comments\s*\(\s*last\s*:\s*(?P<last>\d+)\s*\)\s*\{\s*nodes\s*\{(?P<fields>[\w\s]*)\}\s*\}\s*\}\s*\}\s*\}\s*$",
    re.S)
_DISCUSSION_COMMENT_FIELDS = {"id", "databaseId", "body", "viewerDidAuthor"}
_REPOSITORY_DISCUSSION = re.compile(
    r"^\s*(?:query\b[^{]*)?\{\s*repository\s*\(\s*owner\s*:\s*" + _VALUE + r"\s*,\s*name\s*:\s*" + _VALUE
    + r"\s*\)\s*\{\s*discussion\s*\(\s*number\s*:\s*(?P<number>\$\w+|\d+)\s*\)\s*\{(?P<fields>[\w\s]*)\}\s*\}\s*\}\s*$",
    re.S)
_LOCK = re.compile(
    r"^\s*mutation\b[^{]*\{\s*lockLockable\s*\(\s*input\s*:\s*(?P<input>\$\w+|\{[^}]*\})\s*\)\s*"
    r"\{\s*lockedRecord\s*\{(?P<fields>[\w\s]*)\}\s*\}\s*\}\s*$", re.S)
_LOCK_REASONS = {"OFF_TOPIC", "RESOLVED", "SPAM", "TOO_HEATED"}
_LOCKED_FIELDS = {"locked", "activeLockReason"}
_DELETE_DISCUSSION_COMMENT = re.compile(
    r"^\s*mutation\b[^{]*\{\s*deleteDiscussionComment\s*\(\s*input\s*:\s*(?P<input>\$\w+|\{[^}]*\})\s*\)\s*"
    r"\{\s*comment\s*\{(?P<fields>[\w\s]*)\}\s*\}\s*\}\s*$", re.S)

_ADD_REACTION = re.compile(
    r"^\s*mutation\b[^{]*\{\s*addReaction\s*\(\s*input\s*:\s*(?P<input>\$\w+|\{[^}]*\})\s*\)\s*"
    r"\{\s*reaction\s*\{(?P<fields>[\w\s]*)\}\s*\}\s*\}\s*$", re.S)
# GraphQL's ReactionContent and the REST content of the same reaction.
_REACTION_CONTENT = {"THUMBS_UP": "+1", "THUMBS_DOWN": "-1", "LAUGH": "laugh", "HOORAY": "hooray",
                     "CONFUSED": "confused", "HEART": "heart", "ROCKET": "rocket", "EYES": "eyes"}


class _Unsupported(Exception):
    pass


def _value(token: str, variables: dict[str, Any]) -> Any:
    if token.startswith("$"):
        if token[1:] not in variables:
            raise _Unsupported(f"variable {token} is used but not given")
        return variables[token[1:]]
    if token in ("true", "false"):
        return token == "true"
    return token[1:-1].replace('\\"', '"')


def _node(ctx: Ctx, node_id: str) -> tuple[str, Any]:
    """Find an issue, a discussion, a comment on either or a repository by node id: ("issue", (repo,
    number)), ("discussion", (repo, number)), ("comment", (repo, comment)) or ("repo", repo)."""
    for repo in ctx.state.repos.values():
        if repo.data["node_id"] == node_id:
            return "repo", repo
        for number, discussion in repo.discussions.items():
            if discussion["node_id"] == node_id:
                return "discussion", (repo, number)
            for comment in discussion.get("_comments", []):
                if comment["node_id"] == node_id:
                    return "comment", (repo, comment)
        for number, issue in repo.issues.items():
            if issue["node_id"] == node_id:
                return "issue", (repo, number)
            for comment in issue.get("_comments", []):
                if comment["node_id"] == node_id:
                    return "comment", (repo, comment)
    raise NotFound(node_id)


def _error(path: str, kind: str, message: str) -> dict[str, Any]:
    return {"data": {path: None}, "errors": [{"type": kind, "path": [path], "message": message,
                                              "locations": [{"line": 1, "column": 1}]}]}


def _node_of(ctx: Ctx, node_id: str, kind: str) -> Any:
    """The object behind a global node id if it is of `kind`, else None."""
    try:
        found_kind, found = _node(ctx, node_id)
    except NotFound:
        return None
    return found if found_kind == kind else None


def _covered(ctx: Ctx, repo: Any) -> bool:
    return repo.installation_id == ctx.installation_id


def graphql_reply(ctx: Ctx) -> Reply:
    from .server import Reply
    query = ctx.body["query"]
    variables = ctx.body.get("variables") or {}
    try:
        if m := _REPOSITORY.match(query):
            owner, name = _value(m.group(1), variables), _value(m.group(2), variables)
            try:
                repo = ctx.state.repo(f"{owner}/{name}")
            except NotFound:
                repo = None
            if repo is None or not _covered(ctx, repo):
                return Reply(200, _error("repository", "NOT_FOUND",
                                         f"Could not resolve to a Repository with the name '{owner}/{name}'."))
            fields = m.group("fields").split()
            if not fields or set(fields) - _REPOSITORY_FIELDS:
                raise _Unsupported(f"repository selection {sorted(fields)} not supported (only {sorted(_REPOSITORY_FIELDS)})")
            known = {"id": repo.data["node_id"], "isPrivate": bool(repo.data["private"]),
                     "nameWithOwner": repo.data["full_name"]}
            return Reply(200, {"data": {"repository": {f: known[f] for f in fields}}})
        if m := _TRANSFER.match(query):
            return Reply(200, _transfer(ctx, m, variables))
        if m := _MINIMIZE.match(query):
            return Reply(200, _minimize(ctx, m, variables))
        if m := _ADD_DISCUSSION_COMMENT.match(query):
            return Reply(200, _add_discussion_comment(ctx, m, variables))
        if m := _DISCUSSION_COMMENTS.match(query):
            return Reply(200, _discussion_comments(ctx, m, variables))
        if m := _REPOSITORY_DISCUSSION.match(query):
            return Reply(200, _repository_discussion(ctx, m, variables))
        if m := _LOCK.match(query):
            return Reply(200, _lock(ctx, m, variables))
        if m := _DELETE_DISCUSSION_COMMENT.match(query):
            return Reply(200, _delete_discussion_comment(ctx, m, variables))
        if m := _ADD_REACTION.match(query):
            return Reply(200, _add_reaction(ctx, m, variables))
    except _Unsupported as exc:
        return _violation(ctx, str(exc))
    return _violation(ctx, "GraphQL document not understood: the emulator supports only the shapes listed in "
                           "bot/emulator/graphql.py (repository, transferIssue, minimizeComment, "
                           "addDiscussionComment, a discussion's comments, repository.discussion(number:), "
                           "lockLockable, deleteDiscussionComment, addReaction)")


def _violation(ctx: Ctx, reason: str) -> Reply:
    from .server import Reply
    from .state import Violation
    ctx.state.violations.append(Violation("POST", "/graphql", reason))
    return Reply(400, {"message": f"emulator: {reason}"})


def _transfer(ctx: Ctx, m: re.Match[str], variables: dict[str, Any]) -> dict[str, Any]:
    fields = set(m.group("fields").split())
    if not fields or fields - _ISSUE_FIELDS:
        raise _Unsupported(f"transferIssue selection {sorted(fields)} not supported (only {sorted(_ISSUE_FIELDS)})")
    raw = m.group("input")
    if raw.startswith("$"):
        given = _value(raw, variables)
        if not isinstance(given, dict):
            raise _Unsupported(f"{raw} must be an object")
    else:
        given = {k: _value(v, variables) for k, v in _INPUT_PAIR.findall(raw)}
    unknown = set(given) - {"issueId", "repositoryId", "createLabelsIfMissing", "clientMutationId"}
    if unknown or "issueId" not in given or "repositoryId" not in given:
        raise _Unsupported(f"TransferIssueInput needs issueId and repositoryId (unknown: {sorted(unknown)})")
    found, target = _node_of(ctx, given["issueId"], "issue"), _node_of(ctx, given["repositoryId"], "repo")
    for node_id, node in ((given["issueId"], found), (given["repositoryId"], target)):
        if node is None:
            return _error("transferIssue", "NOT_FOUND", f"Could not resolve to a node with the global id of '{node_id}'")
    source, number = found
    if not _covered(ctx, source) or not _covered(ctx, target):
        return _error("transferIssue", "FORBIDDEN", "Resource not accessible by integration")
    if "pull_request" in source.issues[number]:
        return _error("transferIssue", "UNPROCESSABLE", "Pull requests cannot be transferred")
    if given.get("createLabelsIfMissing"):
        for label in source.issues[number]["labels"]:
            ctx.state.ensure_label(target.full_name, label["name"], label["color"], label["description"])
    try:
        issue = ctx.state.transfer_issue(source.full_name, number, target.full_name)
    except Unprocessable as exc:
        return _error("transferIssue", "UNPROCESSABLE", str(exc))
    out = {"number": issue["number"], "url": issue["html_url"], "id": issue["node_id"]}
    return {"data": {"transferIssue": {"issue": {k: v for k, v in out.items() if k in fields}}}}


def _minimize(ctx: Ctx, m: re.Match[str], variables: dict[str, Any]) -> dict[str, Any]:
    fields = set(m.group("fields").split())
    around = set(m.group("before").split()) | set(m.group("after").split())
    if not fields or fields - _MINIMIZABLE_FIELDS or around - {"clientMutationId"}:
        raise _Unsupported(f"minimizeComment selection {sorted(fields | around)} not supported "
                           f"(only {sorted(_MINIMIZABLE_FIELDS)} and clientMutationId)")
    given = _enum_input(m.group("input"), variables, "classifier")
    unknown = set(given) - {"subjectId", "classifier", "clientMutationId"}
    if unknown or "subjectId" not in given or "classifier" not in given:
        raise _Unsupported(f"MinimizeCommentInput needs subjectId and classifier (unknown: {sorted(unknown)})")
    if given["classifier"] not in _CLASSIFIERS:
        raise _Unsupported(f"classifier must be one of {sorted(_CLASSIFIERS)}")
    found = _node_of(ctx, given["subjectId"], "comment")
    if found is None:
        return _error("minimizeComment", "NOT_FOUND",
                      f"Could not resolve to a node with the global id of '{given['subjectId']}'")
    repo, comment = found
    if not _covered(ctx, repo):
        return _error("minimizeComment", "FORBIDDEN", "Resource not accessible by integration")
    reason = ctx.state.minimize_comment(repo.full_name, comment["id"], given["classifier"])
    shown = {"isMinimized": True, "minimizedReason": reason, "viewerCanMinimize": True}
    out: dict[str, Any] = {"minimizedComment": {k: v for k, v in shown.items() if k in fields}}
    if "clientMutationId" in around:
        out["clientMutationId"] = given.get("clientMutationId")
    return {"data": {"minimizeComment": out}}


def _input(raw: str, variables: dict[str, Any]) -> dict[str, Any]:
    if raw.startswith("$"):
        given = _value(raw, variables)
        if not isinstance(given, dict):
            raise _Unsupported(f"{raw} must be an object")
        return given
    return {k: _value(v, variables) for k, v in _INPUT_PAIR.findall(raw)}


def _enum_input(raw: str, variables: dict[str, Any], enum: str) -> dict[str, Any]:
    """An input object whose field `enum` is an enum: written bare in a literal (SPAM; quoted, GitHub
    refuses it), its name in a variable."""
    if raw.startswith("$"):
        return _input(raw, variables)
    given = {}
    for key, token in _ENUM_PAIR.findall(raw):
        if key == enum and token.startswith('"'):
            raise _Unsupported(f"{enum} is an enum: write it bare, not as a string")
        given[key] = token if key == enum and not token.startswith("$") else _value(token, variables)
    return given


def _add_discussion_comment(ctx: Ctx, m: re.Match[str], variables: dict[str, Any]) -> dict[str, Any]:
    fields = set(m.group("fields").split())
    if not fields or fields - _DISCUSSION_COMMENT_FIELDS:
        raise _Unsupported(f"addDiscussionComment selection {sorted(fields)} not supported")
    given = _input(m.group("input"), variables)
    unknown = set(given) - {"discussionId", "body", "replyToId", "clientMutationId"}
    if unknown or not isinstance(given.get("discussionId"), str) or not isinstance(given.get("body"), str):
        raise _Unsupported(f"AddDiscussionCommentInput needs discussionId and body (unknown: {sorted(unknown)})")
    found = _node_of(ctx, given["discussionId"], "discussion")
    if found is None:
        return _error("addDiscussionComment", "NOT_FOUND",
                      f"Could not resolve to a node with the global id of '{given['discussionId']}'")
    repo, number = found
    if not _covered(ctx, repo):
        return _error("addDiscussionComment", "FORBIDDEN", "Resource not accessible by integration")
    if ctx.state.discussion(repo.full_name, number)["locked"]:
        return _error("addDiscussionComment", "UNPROCESSABLE", "Discussion is locked")
    comment = ctx.state.add_discussion_comment(repo.full_name, number, body=given["body"],
                                               user=f"{ctx.state.app_slug}[bot]")
    out = {"id": comment["node_id"], "databaseId": comment["id"], "body": comment["body"], "viewerDidAuthor": True}
    return {"data": {"addDiscussionComment": {"comment": {k: v for k, v in out.items() if k in fields}}}}


def _discussion_comments(ctx: Ctx, m: re.Match[str], variables: dict[str, Any]) -> dict[str, Any]:
    fields = set(m.group("fields").split())
    last = int(m.group("last"))
    if not fields or fields - _DISCUSSION_COMMENT_FIELDS or not 1 <= last <= 100:
        raise _Unsupported(f"discussion comments selection {sorted(fields)} (last: {last}) not supported")
    found = _node_of(ctx, _value(m.group(1), variables), "discussion")
    if found is None or not _covered(ctx, found[0]):
        return {"data": {"node": None}}
    repo, number = found
    me = f"{ctx.state.app_slug}[bot]"
    nodes = [{"id": c["node_id"], "databaseId": c["id"], "body": c["body"],
              "viewerDidAuthor": c["user"]["login"] == me}
             for c in ctx.state.discussion_comments(repo.full_name, number)[-last:]]
    return {"data": {"node": {"comments": {"nodes": [{k: v for k, v in n.items() if k in fields} for n in nodes]}}}}


def _repository_discussion(ctx: Ctx, m: re.Match[str], variables: dict[str, Any]) -> dict[str, Any]:
    fields = set(m.group("fields").split())
    if not fields or fields - {"id", "number"}:
        raise _Unsupported(f"discussion selection {sorted(fields)} not supported (only id, number)")
    owner, name = _value(m.group(1), variables), _value(m.group(2), variables)
    raw = m.group("number")
    number = variables.get(raw[1:]) if raw.startswith("$") else int(raw)
    if not isinstance(number, int) or isinstance(number, bool):
        raise _Unsupported("discussion(number:) takes an Int")
    try:
        repo = ctx.state.repo(f"{owner}/{name}")
    except NotFound:
        repo = None
    if repo is None or not _covered(ctx, repo):
        return _error("repository", "NOT_FOUND", f"Could not resolve to a Repository with the name '{owner}/{name}'.")
    found = repo.discussions.get(number)
    if found is None:
        return {"data": {"repository": {"discussion": None}},
                "errors": [{"type": "NOT_FOUND", "path": ["repository", "discussion"],
                            "message": f"Could not resolve to a Discussion with the number of {number}."}]}
    out = {"id": found["node_id"], "number": number}
    return {"data": {"repository": {"discussion": {k: v for k, v in out.items() if k in fields}}}}


def _lock(ctx: Ctx, m: re.Match[str], variables: dict[str, Any]) -> dict[str, Any]:
    fields = set(m.group("fields").split())
    if not fields or fields - _LOCKED_FIELDS:
        raise _Unsupported(f"lockLockable selection {sorted(fields)} not supported (only {sorted(_LOCKED_FIELDS)})")
    given = _enum_input(m.group("input"), variables, "lockReason")
    unknown = set(given) - {"lockableId", "lockReason", "clientMutationId"}
    if unknown or not isinstance(given.get("lockableId"), str):
        raise _Unsupported(f"LockLockableInput needs lockableId (unknown: {sorted(unknown)})")
    reason = given.get("lockReason")
    if reason is not None and reason not in _LOCK_REASONS:
        raise _Unsupported(f"lockReason must be one of {sorted(_LOCK_REASONS)}")
    try:
        kind, found = _node(ctx, given["lockableId"])
    except NotFound:
        kind, found = "", None
    if kind not in ("issue", "discussion"):
        return _error("lockLockable", "NOT_FOUND", f"Could not resolve to a node with the global id of '{given['lockableId']}'")
    repo, number = found
    if not _covered(ctx, repo):
        return _error("lockLockable", "FORBIDDEN", "Resource not accessible by integration")
    target = repo.discussions[number] if kind == "discussion" else repo.issues[number]
    target.update(locked=True, active_lock_reason=reason.lower() if reason else None)
    out = {"locked": True, "activeLockReason": reason}
    return {"data": {"lockLockable": {"lockedRecord": {k: v for k, v in out.items() if k in fields}}}}


def _delete_discussion_comment(ctx: Ctx, m: re.Match[str], variables: dict[str, Any]) -> dict[str, Any]:
    fields = set(m.group("fields").split())
    if not fields or fields - {"id"}:
        raise _Unsupported(f"deleteDiscussionComment selection {sorted(fields)} not supported (only id)")
    given = _input(m.group("input"), variables)
    unknown = set(given) - {"id", "clientMutationId"}
    if unknown or not isinstance(given.get("id"), str):
        raise _Unsupported(f"DeleteDiscussionCommentInput needs id (unknown: {sorted(unknown)})")
    for repo in ctx.state.repos.values():
        for discussion in repo.discussions.values():
            for comment in discussion.get("_comments", []):
                if comment["node_id"] == given["id"]:
                    if not _covered(ctx, repo):
                        return _error("deleteDiscussionComment", "FORBIDDEN", "Resource not accessible by integration")
                    discussion["_comments"].remove(comment)
                    discussion["comments"] = len(discussion["_comments"])
                    return {"data": {"deleteDiscussionComment": {"comment": {"id": comment["node_id"]}}}}
    return _error("deleteDiscussionComment", "NOT_FOUND", f"Could not resolve to a node with the global id of '{given['id']}'")


def _add_reaction(ctx: Ctx, m: re.Match[str], variables: dict[str, Any]) -> dict[str, Any]:
    fields = set(m.group("fields").split())
    if not fields or fields - {"content", "id"}:
        raise _Unsupported(f"addReaction selection {sorted(fields)} not supported (only content, id)")
    given = _enum_input(m.group("input"), variables, "content")
    unknown = set(given) - {"subjectId", "content", "clientMutationId"}
    if unknown or not isinstance(given.get("subjectId"), str) or given.get("content") not in _REACTION_CONTENT:
        raise _Unsupported(f"AddReactionInput needs subjectId and content, one of {sorted(_REACTION_CONTENT)} "
                           f"(unknown: {sorted(unknown)})")
    try:
        kind, found = _node(ctx, given["subjectId"])
    except NotFound:
        kind, found = "", None
    if kind not in ("issue", "comment", "discussion"):
        return _error("addReaction", "NOT_FOUND", f"Could not resolve to a node with the global id of '{given['subjectId']}'")
    repo, which = found
    if not _covered(ctx, repo):
        return _error("addReaction", "FORBIDDEN", "Resource not accessible by integration")
    subject = which if kind == "comment" else (repo.discussions if kind == "discussion" else repo.issues)[which]
    reaction, _ = ctx.state.add_reaction(subject, _REACTION_CONTENT[given["content"]], f"{ctx.state.app_slug}[bot]")
    out = {"content": given["content"], "id": reaction["node_id"]}
    return {"data": {"addReaction": {"reaction": {k: v for k, v in out.items() if k in fields}}}}
