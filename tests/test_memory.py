"""The per-repository memory of maintainers' answers (bot/rules/memory.py): pure, bounded."""

from __future__ import annotations

from bot.rules import memory
from bot.rules.commands import is_command_comment
from bot.rules.detect import REASON_NAMES, features
from bot.rules.memory import CONFIRMED, FALSE_ALARM, MAX_EXAMPLES, MAX_SHIFT, Example, adjust

FALSE_ALARM_TEXT = ("Question about CVE-2024-1234 in lodash", "Our scanner says lodash 4.17.20 has a prototype "
                    "pollution CVE. Do you plan to bump it? We are blocked by our audit.")
OTHER_TEXT = ("Admin page reachable without login", "Opening /admin/export while logged out downloads every "
              "customer's invoices as CSV; no session cookie is needed.")


def test_a_text_like_a_past_false_alarm_scores_lower_and_says_so() -> None:
    past = Example(FALSE_ALARM, features(*FALSE_ALARM_TEXT))
    adj = adjust(0.45, features(*FALSE_ALARM_TEXT), [past])
    assert adj.score < 0.45 and adj.shift == -min(MAX_SHIFT, memory.STEP) and adj.reason == "memory:like-false-alarms"
    assert adjust(0.45, features(*OTHER_TEXT), [past]).shift == 0  # unlike it: untouched


def test_a_text_like_a_past_confirmed_report_scores_higher() -> None:
    past = Example(CONFIRMED, features(*OTHER_TEXT))
    adj = adjust(0.42, features(*OTHER_TEXT), [past])
    assert adj.score > 0.42 and adj.reason == "memory:like-confirmed-reports"


def test_the_shift_is_bounded_and_only_the_newest_examples_are_read() -> None:
    same = features(*FALSE_ALARM_TEXT)
    many = [Example(FALSE_ALARM, same)] * 10_000
    adj = adjust(0.5, same, many)
    assert adj.shift == -MAX_SHIFT and adj.alike == MAX_EXAMPLES
    confirmed_later = [Example(CONFIRMED, same)] * (MAX_EXAMPLES // 2) + [Example(FALSE_ALARM, same)] * MAX_EXAMPLES
    assert adjust(0.5, same, confirmed_later).shift == 0  # half and half of the newest: they cancel out


def test_memory_is_only_read_near_a_threshold() -> None:
    assert memory.worth_asking(0.45, (0.5, 0.4)) and not memory.worth_asking(0.02, (0.5, 0.4))


def test_features_are_names_never_words() -> None:
    found = features(*OTHER_TEXT)
    assert found and all(f in REASON_NAMES or f.startswith(("h:", "lang:")) for f in found)
    assert not any(word in " ".join(found) for word in ("admin", "invoices", "customer"))
    assert len([f for f in found if f.startswith("h:")]) <= 512
    assert memory.feature_names({"a": 1.0, "b": 0.0}) == frozenset({"a"})


def test_a_command_comment_starts_with_a_command_and_security_is_no_command() -> None:
    assert is_command_comment("/sec hide")
    assert is_command_comment("\n\n  /sec not-security\nthanks")
    assert not is_command_comment("/security issue: the upload endpoint allows ../ in names")
    assert not is_command_comment("Report below.\n/sec hide")  # a report with a command further down is read too
    assert not is_command_comment(None)


async def test_a_repositorys_examples_are_read_once_a_while_and_an_answer_here_is_seen_at_once(store) -> None:
    # The memory is asked for most texts near a threshold: one query per repository per
    # EXAMPLES_TTL seconds, not per text; an answer recorded by this process drops what it kept.
    from bot.store.feedback import Feedback

    fb = Feedback(store)
    queries = 0
    real_all = store.all

    async def counted(stmt):  # type: ignore[no-untyped-def]
        nonlocal queries
        queries += 1
        return await real_all(stmt)

    store.all = counted  # type: ignore[method-assign]
    assert await fb.examples("Octo/Repo") == [] and await fb.examples("octo/repo") == []
    assert queries == 1
    answer = dict(now=1.0, report_id=None, source="issue", verdict="possible", score=0.5, reasons=[],
                  title=None, body=None, actor="maint")
    assert await fb.record(key="k1", repo="octo/repo", label=FALSE_ALARM, features=["a", "b"], **answer)
    assert [e.label for e in await fb.examples("octo/repo")] == [FALSE_ALARM] and queries == 2
    assert await Feedback(store).record(key="k2", repo="octo/repo", label=CONFIRMED, features=["c"], **answer)
    assert len(await fb.examples("octo/repo")) == 1  # another process's answer: seen within EXAMPLES_TTL
    fb._examples.clear()  # (as when EXAMPLES_TTL has passed)
    assert [e.label for e in await fb.examples("octo/repo")] == [CONFIRMED, FALSE_ALARM]
