"""The classifier's signal tables: what bot/rules/detect.py looks for, and what each finding weighs.

Data, and the two small helpers that write some of the patterns (``_any_of``, ``_CAN``); how the
tables are searched and scored is detect.py's business, and its docstring describes the families.
A signal is ``(name, pattern, vulnerability weight, beg-bounty weight)``; the tables whose
signals never feed the beg-bounty sum (TOPIC, PAYLOAD, PLAIN) leave the second weight out. A
signal's name is the reason it gives, from a fixed vocabulary (``detect.REASON_NAMES``) that never
contains report text. The order of the tables and of their entries is the order signals are
tried and summed in, so keep it when moving things. Changing a table changes verdicts: run
tests/test_detect.py and bench/classify.py after it.

Patterns run on lower-cased, NFKC-folded text. ``\\b`` is Unicode-aware for str patterns; CJK terms
use no ``\\b``.
"""

from __future__ import annotations

import re
from typing import Iterable

# Weakness classes by name (``vuln-term:*``), in several languages.
CLASS: tuple[tuple[str, str, float, float], ...] = (
    ("vuln-term:xss",
     r"(?<!self[- ])(?<!self)\bxss\b(?! ?(?:filter|protection|prevention|sanitiz|clean|escap|library|rule)\w*(?! ?bypass))|(?:attribute|javascript|script|markup) injection|breaks? out of the (?:\w+ )?attribute|execut\w* (?:java)?script (?:for|in|as) (?:other|another|every|any)|cross[- ]?site[- ]scripting|stored xss|reflected xss|dom[- ]based xss"
     r"|secuencias de comandos en sitios cruzados|scripts? entre sites|script intersite"
     r"|跨站脚本|межсайтов\w* скриптинг|クロスサイトスクリプティング",
     3.0, 0.5),
    ("vuln-term:sql-injection",
     r"\bsql[- ]?injection|\bsqli\b|inyecci[oó]n (?:de )?sql|inje[cç][aã]o (?:de )?sql|injection sql"
     r"|sql-injektion|sql注入|sql[- ]?инъекц|sqlインジェクション|union[- ]based|blind sql",
     3.0, 0.3),
    ("vuln-term:command-injection",
     r"(?:os |shell |command |cmd )injection|inyecci[oó]n de comandos|inje[cç][aã]o de comandos"
     r"|injection de commandes?|befehls?-?injektion|kommandoinjektion|命令注入|命令执行漏洞"
     r"|(?:внедрение|инъекци\w*) (?:команд|кода)|コマンドインジェクション|os command",
     3.0, 0.0),
    ("vuln-term:code-injection",
     r"(?:code|template|expression|ognl|el|ldap|xpath|nosql|header|crlf|log|csv|formula|dde|smtp|e-?mail header|mail header) injection|\bssti\b"
     r"|inyecci[oó]n de c[oó]digo|inje[cç][aã]o de c[oó]digo|injection de code|code-injektion"
     r"|代码注入|模板注入|テンプレートインジェクション",
     3.0, 0.0),
    ("vuln-term:rce",
     r"\brce\b|remote code execution|(?:arbitrary|remote) (?:code|command)s? (?:execution|exec)"
     r"|execute arbitrary (?:code|commands?|javascript|python|shell)|run arbitrary (?:code|commands?)"
     r"|code execution|\bruns? (?:arbitrary |attacker'?s? |malicious )?code (?:on|as|in)\b|(?:code|commands?) (?:is |are )?(?:executed|run) (?:by|on) the server|is executed by the server"
     r"|ejecuci[oó]n (?:remota )?de c[oó]digo|execu[cç][aã]o (?:remota )?de c[oó]digo"
     r"|ex[ée]cution (?:de code )?(?:arbitraire|[àa] distance)|ex[ée]cution de code"
     r"|codeausf[üu]hrung|ausf[üu]hrung (?:von )?beliebige\w* (?:code|befehl)"
     r"|执行任意代码|任意代码执行|远程代码执行|代码执行|远程命令执行"
     r"|(?:удал[её]нное )?выполнени\w* (?:произвольного )?кода|исполнени\w* произвольного кода"
     r"|任意のコード(?:を)?実行|リモートコード実行|コード実行",
     3.0, 0.0),
    ("vuln-term:path-traversal",
     r"(?:path|directory|dir) traversal|escapes? (?:the )?(?:workspace|project directory|chroot|upload dir\w*|base dir\w*)|outside (?:the )?(?:project|upload|static|base|target|workspace|attachments?|templates?) (?:dir\w*|folder|root)|\bzip[- ]?slip\b|\blfi\b|local file inclusion"
     r"|arbitrary file (?:read|write|overwrite|deletion|delete|access|download|upload)"
     r"|recorrido de directorios|salto de directorio|travessia de diret[oó]rio|travers[ée]e de r[ée]pertoire"
     r"|(?:pfad|verzeichnis)[- ]?traversal|verzeichnistraversierung|目录遍历|路径穿越|路径遍历|任意文件读取"
     r"|обход (?:каталог|пут|директори)\w*|path[- ]?traversal|ディレクトリトラバーサル|パストラバーサル",
     3.0, 0.0),
    ("vuln-term:ssrf",
     r"\bssrf\b|server[- ]side request forgery|服务端请求伪造|服务器端请求伪造|подделк\w* серверн\w* запрос",
     3.0, 0.0),
    ("vuln-term:xxe",
     r"\bxxe\b|xml external entit|billion laughs|xml bomb|entity expansion",
     3.0, 0.0),
    ("vuln-term:deserialization",
     r"(?:unsafe|insecure|untrusted|arbitrary) (?:de)?serializ|deserialization (?:of untrusted|vuln|attack|gadget)"
     r"|pickle\.loads? (?:on|of) (?:untrusted|user)|yaml\.load\b.{0,40}(?:untrusted|unsafe)|gadget chain"
     r"|deserializaci[oó]n insegura|desserializa[cç][aã]o insegura|d[ée]s[ée]rialisation non s[ée]curis[ée]e"
     r"|unsichere deserialisierung|反序列化漏洞|不安全的反序列化|небезопасн\w* десериализац|安全でないデシリアライズ",
     3.0, 0.0),
    ("vuln-term:prototype-pollution",
     r"prototype pollution|原型链污染|загрязнени\w* прототип|プロトタイプ汚染",
     3.0, 0.0),
    ("vuln-term:redos",
     r"\bredos\b|regular expression denial of service|catastrophic backtracking|regex denial of service|backtracks? exponentially|exponential backtracking|exponential time (?:on|for) (?:\w+ )?input",
     2.8, 0.0),
    ("vuln-term:open-redirect",
     r"open[- ]redirect|unvalidated redirect|redirecci[oó]n abierta|redirecionamento aberto|开放重定向|任意url跳转"
     r"|открыт\w* редирект|オープンリダイレクト",
     2.4, 0.8),
    ("vuln-term:auth-bypass",
     r"(?:authentication|auth|authori[sz]ation|login|2fa|mfa|signature|access control|acl|permission) (?:check )?bypass"
     r"|bypass(?:es|ed|ing)? (?:the )?(?:authentication|authori[sz]ation|auth|login|2fa|mfa|access control|permission checks?|signature verification)"
     r"|(?:2fa|mfa|otp|totp|authentication|login|password check|auth check) (?:step )?(?:can be|is) (?:skipped|bypassed|circumvented)|provides? no protection against"
     r"|broken access control|missing authori[sz]ation|unauthenticated access to|without (?:any )?authentication"
     r"|omisi[oó]n de (?:la )?autenticaci[oó]n|bypass de autentica[cç][aã]o|contorno d[ae] autentica[cç][aã]o"
     r"|contournement de l'authentification|umgehung der (?:authentifizierung|authentisierung|zugriffskontrolle)"
     r"|认证绕过|绕过认证|绕过身份验证|未授权访问|越权|обход (?:аутентификац|авторизац)\w*|認証(?:回避|バイパス)",
     3.0, 0.0),
    ("vuln-term:privilege-escalation",
     r"privilege escalation|escalat\w* (?:of )?privileges?|elevation of privilege|gain (?:root|admin)"
     r"|escalada de privilegios|escalonamento de privil[eé]gios|[ée]l[ée]vation de privil[eè]ges"
     r"|rechteausweitung|privilegienerweiterung|权限提升|提权|повышени\w* привилеги\w*|権限昇格",
     3.0, 0.0),
    ("vuln-term:idor",
     r"\bidor\b|insecure direct object reference|(?:access|delete|modify|edit|read|view|download|change) (?:any|other|another) users?'? (?:\w+ )?(?:data|files?|records?|accounts?|comments?|posts?|invoices?|messages?|emails?|passwords?|profiles?)"
     r"|other tenants?'?|another tenant|cross[- ]tenant (?:access|leak|read)|no tenant check|visible to (?:anonymous|unauthenticated|other) users?"
     r"|private (?:repos?|repositories|projects?|data|files?|issues?|messages?)\b.{0,40}\b(?:visible|exposed|readable|accessible|leaked|shown) to"
     r"|checks? authentication but not (?:authori[sz]ation|ownership|authorship)|(?:does not|doesn't|without) check(?:ing)? (?:that )?(?:the )?\w+ belongs to|not scoped to the (?:user|account|tenant)",
     3.0, 0.0),
    ("vuln-term:csrf",
     r"\bcsrf\b|\bxsrf\b|\bget request changes state|state[- ]changing get|cross[- ]site request forgery|falsificaci[oó]n de petici[oó]n|跨站请求伪造",
     2.6, 0.6),
    ("vuln-term:request-smuggling",
     r"request smuggling|response splitting|cache poisoning|http desync|\bcl\.te\b|\bte\.cl\b|\bdesync\b|both `?content-length`? and `?transfer-encoding",
     3.0, 0.0),
    ("vuln-term:memory-corruption",
     r"heap[- ]?(?:based )?(?:buffer )?overflow|stack[- ]based (?:buffer )?overflow|buffer overflow|buffer overrun"
     r"|use[- ]after[- ]free|double[- ]free|out[- ]of[- ]bounds (?:write|read)|memory corruption|format string vuln"
     r"|arbitrary (?:memory )?write|\bwrites? (?:\w+ ){0,3}past (?:the |its )?end\b|\breads? (?:\w+ ){0,2}outside the buffer|\bbounds check (?:\w+ )?pass(?:es|ed)\b|\bskips? the bounds check"
     r"|sobrescrever a pilha|[ée]craser la pile|desbordamiento de b[uú]fer|estouro de buffer|d[ée]passement de tampon"
     r"|puffer[üu]berlauf|缓冲区溢出|堆溢出|释放后使用|переполнени\w* буфера|バッファオーバーフロー|ヒープオーバーフロー",
     2.6, 0.0),
    ("vuln-term:secrets-exposure",
     r"(?:leaks?|leaking|leaked|expos\w+|logs?|logged|logging|printed|writes?|stored) (?:the |a |an |all |my |user |users' )?"
     r"(?:plain[- ]?text |cleartext |clear[- ]text )?(?:passwords?|credentials|api[- ]?keys?|access tokens?|secret keys?|private keys?|session tokens?|tokens|secrets)"
     r"(?! manager)|(?:passwords?|credentials|api[- ]?keys?|tokens?|secrets?) (?:are |is )?(?:logged|leaked|exposed|written to (?:the )?logs?|in (?:the )?logs|in plain ?text|in clear ?text|visible in)"
     r"|hard[- ]?coded (?:\w+ )?(?:credentials|passwords?|secret|keys?)|information disclosure|sensitive (?:data|information) (?:exposure|disclosure|leak)"
     r"|fuga de (?:credenciales|informaci[oó]n|datos)|vazamento de (?:credenciais|dados|informa[cç][oõ]es)"
     r"|fuite (?:de |des )?(?:donn[ée]es|identifiants|informations)|(?:datenleck|informationsleck|offenlegung von (?:zugangsdaten|passw[öo]rtern))"
     r"|expos\w* (?:\w+ ){0,3}(?:secret_key|environment variables|env vars)"
     r"|(?:contrase[ñn]as?|credenciales) (?:\w+ ){0,4}(?:en texto plano|en (?:los )?logs)|(?:senhas?|credenciais) (?:\w+ ){0,4}(?:em texto (?:puro|claro)|nos logs)"
     r"|mots? de passe (?:\w+ ){0,4}en clair|(?:passw[öo]rt\w*|zugangsdaten|kennw[öo]rt\w*) (?:\w+ ){0,4}(?:im klartext|protokolliert|ins log)"
     r"|明文(?:密码|存储|记录)|密码明文|пароли? (?:\w+ ){0,4}в открытом виде|パスワード(?:が|を)?平文"
     r"|信息泄露|敏感信息泄露|凭据泄露|утечк\w* (?:данных|учетных|паролей|токен\w*|информации)|情報漏え?洩|資格情報の漏洩",
     2.6, 0.3),
    ("vuln-term:sandbox-escape",
     r"sandbox (?:escape|bypass|breakout)|\bescape\b.{0,60}\bsandbox\b|\bsandbox\b.{0,60}\bescape\b|escape (?:the |from the )?sandbox|container escape|jail ?break out of",
     3.0, 0.0),
    ("vuln-term:verification-bypass",
     r"signature (?:verification|check) (?:is )?(?:bypass\w*|broken|skipped|ineffective)|\bforge (?:\w+ )?(?:events?|requests?|tokens?|cookies?|signatures?|deliveries|sessions?)|skip(?:s|ped)? (?:the )?(?:signature |token |hmac )?verification|\bunsigned (?:payloads?|requests?|tokens?|updates?|cookies?|images?|firmware|binar(?:y|ies))|\bonly checks? the (?:crc\w*|checksum|md5)\b|不校验签名|只校验 ?md5|verif\w* against the (?:public )?key (?:embedded|included|shipped) in"
     r"|accepts? any (?:key|signature|certificate)|(?:certificate|hostname|tls) (?:verification|validation) (?:is )?(?:disabled|skipped) by default|ship a malicious update",
     2.8, 0.0),
    ("vuln-term:denial-of-service",
     r"denial[- ]of[- ]service|hash (?:collision|flooding) (?:dos|attack)|take (?:down|out) the (?:whole |entire )?(?:server|service)|takes? the (?:whole |entire )?(?:server|service|worker|process|api|cluster|node) down|hang the (?:server|renderer|worker)|\bdos (?:attack|vulnerab)|zip bomb|decompression bomb|resource exhaustion|algorithmic complexity"
     r"|denegaci[oó]n de servicio|nega[cç][aã]o de servi[cç]o|d[ée]ni de service|dienstverweigerung|拒绝服务|отказ\w* в обслуживании|サービス拒否",
     1.8, 0.2),
    ("vuln-term:origin-bypass",
     r"same[- ]origin (?:policy )?(?:bypass|violation)|bypass(?:es)? (?:the )?same[- ]origin|cross[- ]origin (?:leak|read|access)"
     r"|origin bypass|dns[- ]rebinding|without (?:checking|validating|verifying) (?:the )?\W?(?:event\.)?origin|universal xss|\buxss\b|address bar spoof|url spoof|origin spoof",
     3.0, 0.0),
    ("vuln-term:session",
     r"session fixation|session hijack|account takeover|timing attack|signature forgery|jwt (?:none|alg)|alg(?:orithm)? ?none"
     r"|insecure (?:randomness|random number)|predictable (?:tokens?|session)|toctou|symlink attack"
     r"|nonce reuse|reuses? the (?:same )?(?:nonce|iv)\b|same (?:nonce|iv) for every|padding oracle|bleichenbacher|forge (?:arbitrary )?(?:messages|signatures)|verif\w* for (?:arbitrary|any) messages?|before the (?:auth(?:entication)? )?tag is (?:verified|checked)"
     r"|double[- ]spend|reutiliza(?:ción)? (?:del |o )?nonce|r[ée]utilisation (?:du )?nonce|nonce-wiederverwendung|nonce重用|повторн\w* использовани\w* nonce",
     2.6, 0.3),
)


# Report wording: vulnerability, exploit, attacker framing, proof of concept, severity, disclosure, CVE ids.
REPORT: tuple[tuple[str, str, float, float], ...] = (
    ("report:vulnerability",
     r"vulnerabilit|\bvulnerable\b|security (?:vulnerabilit|issue|flaw|bug|hole|problem|weakness|defect|concern|risk|breach)"
     r"|vulnerabilidad|vulnerabilidade|vuln[ée]rabilit[ée]|faille de s[ée]curit[ée]|sicherheitsl[üu]cke|schwachstelle"
     r"|sicherheitsproblem|fallo de seguridad|falla de seguridad|problema de seguridad|falha de seguran[cç]a"
     r"|brecha de seguran[cç]a|problema de seguran[cç]a|漏洞|安全问题|安全隐患|уязвим\w*|брешь в безопасности"
     r"|проблем\w* безопасности|脆弱性|セキュリティ(?:上の)?(?:問題|ホール)",
     1.6, 1.0),
    ("report:exploit", r"\bexploit(?:s|ed|able|ation|ing)?\b|\bweaponi[sz]|explotar|explorar a falha|explorável|ausnutzbar|利用此漏洞|эксплуатац|エクスプロイト",
     1.0, 0.3),
    ("attacker-framing",
     r"\battackers?\b|\bmalicious\b|\badversar(?:y|ies)\b|\battacker[- ]controlled|\buntrusted (?:input|user|data|content|source)"
     r"|\b(?:specially )?crafted\b|\bvictim'?s?\b|\bhijack|\bunauthenticated\b|\bremote(?:ly)?,? (?:exploitable|attacker)"
     r"|\bany (?:visitor|anonymous user|logged-in user|registered user|user who can)|\bany (?:anonymous|unauthenticated|remote) (?:user|client|visitor|attacker|peer)|\bany (?:website|web ?page|site|page) (?:the user visits|can)|\bwithout (?:a )?(?:login|session)\b"
     r"|atacante|malicios[oa]|attaquant|malveillant|angreifer|b[öo]sartig|攻击者|恶意|злоумышленни|атакующ|вредоносн|攻撃者|悪意",
     1.5, 0.3),
    ("report:proof-of-concept",
     r"proof[- ]of[- ]concept|\bpoc\b|prueba de concepto|prova de conceito|preuve de concept|概念验证|доказательств\w* концепции",
     1.0, 0.3),
    ("report:severity",
     r"\bcvss\b|\bcwe-\d+|severity:? ?(?:critical|high)|cvss:3|av:n/ac:l|(?:critical|high)[- ]severity|\bcve request|request(?:ing)? a cve|assign (?:a )?cve",
     1.4, 0.5),
    ("report:disclosure",
     r"responsible(?:ly)? disclos|coordinated disclosure|disclose (?:this )?(?:privately|responsibly)|report(?:ing)? (?:this )?privately"
     r"|private (?:security )?advisory|security advisory for|embargo|\bghsa\b request|divulgaci[oó]n responsable|divulga[cç][aã]o respons[aá]vel",
     1.0, 0.8),
    ("cve-id", r"\bcve-\d{4}-\d{3,}", 0.8, 0.2),
)


# Words merely about security (``security-topic:*``); detect.py caps their sum.
TOPIC: tuple[tuple[str, str, float], ...] = (
    ("security-topic:security", r"\bsecurity\b|\bseguridad\b|\bseguran[cç]a\b|s[ée]curit[ée]|sicherheit|安全|безопасност|セキュリティ", 0.8),
    ("security-topic:credentials", r"\bpasswords?\b|\bcredentials?\b|\bpasswd\b|\bapi[- ]?keys?\b|\bsecret\b|\btokens?\b", 0.5),
    ("security-topic:access-control", r"\bprivileg\w*|\bunauthori[sz]ed\b|\bauthori[sz]ation\b|\baccess control|\bpermissions?\b|\bgrant(?:ed)?\b|\brevok\w*|\bsecure (?:cluster|mode|connection)|\bkeystore|\btruststore|\bssh\b", 0.6),
    ("security-topic:authentication", r"\bauthenticat\w*|\bkerberos\b|\bldap\b|\bkeytab|\bsso\b|\bsaml\b|\boauth", 0.4),
    ("security-topic:crypto", r"\bencrypt\w*|\bdecrypt\w*|\bssl\b|\btls\b|\bcertificates?\b|\bhttps\b|\bcipher|\bmd5\b|\bsha-?1\b", 0.4),
    ("security-topic:security-manager", r"security ?manager|securityexception|accesscontrolexception|doprivileged|\bjava\.security|policy file", 0.9),
    ("security-topic:web-boundary", r"cross[- ]origin|same[- ]origin|\bcors\b|mixed content|\bspoof\w*|\bphishing|\bmalware|\bsandbox|\bsanitiz\w*|\binsecure\b|\bunsafe\b|\bbypass\w*|\bescape ?html|\bescaping\b|\bleaks?\b|\bpopup blocker|\bclickjack", 0.8),
    ("security-topic:memory", r"estouro de inteiro|d[ée]passement d.entier|desbordamiento de entero|ganzzahl(?:ig)?[üu]berlauf|整数溢出|целочисленн\w* переполнени|整数オーバーフロー|정수 오버플로|\binteger overflow|\boverflow|\bunderflow|\bout of bounds|\bwild pointer|\bdangling|\bheap\b|\bmemory exhaustion", 0.5),
    ("security-topic:title-prefix", r"^\s*\[?security\]?\s*[:\-\]]|^\s*\[sec\]", 0.9),
)


# Beg bounty: scanner findings, asking for money, the framing of unsolicited reports.
BEG: tuple[tuple[str, str, float, float], ...] = (
    ("scanner-finding:missing-header",
     r"(?:missing|absent|not set|lack of|no|without)\W+(?:\w+\W+){0,3}(?:security headers?|x-frame-options|content[- ]security[- ]policy|\bcsp\b header|hsts|strict-transport-security|x-content-type-options|x-xss-protection|referrer-policy|permissions-policy)"
     r"|(?:x-frame-options|strict-transport-security|x-content-type-options|x-xss-protection|referrer-policy|permissions-policy|security) headers? (?:is |are )?(?:missing|not (?:set|present|implemented|configured))"
     r"|(?:x-frame-options|strict-transport-security|content-security-policy) (?:\w+ )?(?:est |is |ist )?(?:absent|manquant|fehlt)|(?:缺少|没有) ?(?:x-frame-options|hsts|安全头)|(?:hsts|csp|x-frame-options|セキュリティ)ヘッダー(?:が|は)?(?:設定されていません|ありません|ない)"
     r"|cabeceras? de seguridad|cabe[cç]alhos? de seguran[cç]a|en-t[êe]tes? de s[ée]curit[ée]|sicherheitsheader|安全响应头|安全头"
     r"|(?:hsts|x-frame-options|strict-transport-security|x-content-type-options|content-security-policy|referrer-policy|permissions-policy|expect-ct|feature-policy)\W+(?:\w+\W+){0,3}?(?:is |are )?(?:not (?:enabled|set|there|present|returned|sent|configured|implemented|used)|absent|missing)"
     r"|(?:not|without) (?:using|sending|returning|setting|including) (?:the |any |an? )?(?:\w+\W+){0,3}?(?:hsts|x-frame-options|strict-transport-security|x-content-type-options|content-security-policy|referrer-policy|permissions-policy|security headers?)"
     r"|(?:insecure|misconfigured) (?:http )?(?:response )?(?:security )?headers"
     + r"|(?:не|немає|відсутн\w*|нет|отсутств\w*|brak\w*|eksik|thiếu|tidak ada|ไม่มี|ندارد|لا يحتوي|नहीं)\W+(?:\w+\W+){0,3}?(?:strict-transport-security|x-frame-options|x-content-type-options|content-security-policy|hsts)"
     + r"|(?:nepos[íi]l[áa]|saknar|mangler|puuttuu|chyb[íi]|hi[áa]nyzik|lipse[șs]te|липсва|λείπει|לא שולח|חסר|tiada|walang|haipo|موجود نہیں|no envia|nedostaje|ne šalje)\W+(?:\w+\W+){0,3}?(?:strict-transport-security|x-frame-options|x-content-type-options|content-security-policy|hsts)",
     -1.0, 3.0),
    ("scanner-finding:email-auth",
     r"(?<![a-z])(?:spf|dmarc|dkim)(?![a-z])|e-?mail spoofing|mail spoofing|spoof(?:ed)? (?:e-?mails?|mails?) (?:from|as)|(?:e-?mails?|mails?) (?:\w+ ){0,4}(?:can|could) be (?:spoofed|forged)",
     -1.5, 3.0),
    ("scanner-finding:clickjacking", r"click-?jacking|ui redress|frame(?:d|able)? in an? iframe|can be (?:loaded|embedded) in an? iframe", -1.5, 3.0),
    ("scanner-finding:version-disclosure",
     r"version (?:disclosure|leak|exposed|number (?:is )?(?:disclosed|exposed|visible))|(?:server|x-powered-by) (?:header|banner)|banner grabbing|discloses? (?:the )?(?:server|nginx|apache|php) version"
     r"|banner (?:\w+ ){0,4}(?:reveals|discloses|shows|leaks|exposes)|(?:reveals?|discloses?|shows?|displays?|leaks?|exposes?) (?:the )?(?:full |exact )?(?:\w+ )?(?:server|nginx|apache|php|iis|tomcat|express|openssh|vsftpd|wordpress) (?:and \w+ )?version"
     r"|(?:server|nginx|apache|php|iis|tomcat) version (?:\w+ ){0,3}(?:visible|shown|displayed|disclosed)"
     + r"|\b(?:nginx|apache|php|iis|openssh|openresty)/\d[\d.]*[^.\n]{0,20}?header|เปิดเผยเวอร์ชัน|افشای (?:نسخه|ورژن)|संस्करण का खुलासा|lộ phiên bản|versi server (?:terlihat|terekspos)|розкриття версії|раскрытие версии"
     + r"|(?:header|κεφαλίδα|hlavička|cabecera|en-tête|kopfzeile)\W+server\W+(?:\w+\W+){0,2}?(?:nginx|apache|php|iis)/\d",
     -1.0, 2.8),
    ("scanner-finding:self-xss", r"self[- ]?xss|(?:in|into) my own (?:browser(?:'s)? )?(?:console|devtools)|\bonly i can see it", -3.5, 3.0),
    ("scanner-finding:rate-limit",
     r"(?:no|missing|lack of|without)\W+(?:\w+\W+){0,2}rate[- ]?limit|rate[- ]?limit(?:ing)? (?:is )?(?:missing|not (?:implemented|enforced|present))|(?:unlimited|no) (?:otp|login|password reset|contact form|newsletter) (?:attempts|requests|submissions)|\bno captcha\b|missing captcha|\bunlimited (?:\w+ )?attempts|\bnever blocked me|\btried \d+ (?:wrong )?passwords"
     r"|\bno (?:brute[- ]?force protection|(?:account )?lockout)|without (?:any )?(?:lockout|captcha)|without being (?:blocked|locked out|rate[- ]limited)|\bnot rate[- ]limited"
     r"|sin l[ií]mite de (?:intentos|peticiones|solicitudes)|sem limite de (?:tentativas|requisi[cç][oõ]es)|(?:pas|aucune) (?:de )?limit(?:e|ation) (?:de |des )?(?:tentatives|requ[êe]tes)"
     r"|keine (?:begrenzung|ratenbegrenzung)|kein rate[- ]?limit|没有(?:频率|速率|次数)限制|无(?:频率|速率)限制|нет ограничени\w* (?:на )?(?:количеств\w* )?(?:попыток|запросов)|レート制限(?:が)?(?:ない|ありません)"
     + r"|f[ăa]r[ăa] (?:nicio )?(?:blocare|limit[ăa])|zonder (?:blokkering|limiet)|utan (?:begränsning|blockering)|bez (?:omezení|blokace|blokování|ograničenja)|korlátozás nélkül|χωρίς (?:περιορισμό|μπλοκάρισμα)|ללא הגבלה|tanpa had|walang limit|bila kikomo|sense l[íi]mit",
     -1.0, 2.6),
    ("scanner-finding:cookie-flags",
     r"cookies? (?:\S+ ){0,6}(?:without|missing|lacks?|lack|with no) (?:the )?(?:secure|httponly|samesite)|(?:secure|httponly|samesite) (?:flag|attribute) (?:is )?(?:not set|missing|absent)|missing (?:secure|httponly|samesite) (?:flag|attribute)"
     r"|cookies? (?:\w+ ){0,6}(?:sans|sin|sem|ohne) (?:l'attribut |el atributo |o atributo |(?:das )?attribut |(?:la |el |o )?(?:flag|bandera|drapeau) )?(?:secure|httponly|samesite)"
     + r"|(?:flag\w*|atrybut\w*|attribut\w*|bayra\w*|cờ) (?:secure|httponly|samesite)|\b(?:secure|httponly) (?:ani|ou|oder|o|veya|nor|or|hay|atau) (?:secure|httponly)\b"
     + r"|(?:bendera|vlag|flagga|flaget?|lipp|příznak\w*|σημαία) (?:secure|httponly|samesite)",
     -1.0, 3.0),
    # The finding, not the feature: "FTP directory listing shows the wrong year" is an ordinary bug.
    ("scanner-finding:directory-listing",
     r"directory listing (?:is |was )?(?:enabled|on\b|exposed|allowed|turned on|vulnerab)|(?:enabled|exposed|open|public) directory listing|index of /"
     r"|\(directory listing\)|فهرست (?:فایل|پوشه)|liệt kê thư mục|daftar direktori|รายการไดเรกทอรี|список файлів|листинг директори|निर्देशिका सूची|directory browsing|directory indexing", -1.0, 2.6),
    ("scanner-finding:tabnabbing", r"tab-?nabbing|target=.?_blank.{0,40}noopener|rel=.?noopener", -1.5, 2.8),
    ("scanner-finding:weak-tls", r"tlsv? ?1\.[01]\b|weak (?:ssl|tls )?cipher|sslv3|ssl labs|\bbeast\b|\bpoodle\b|\bsweet32\b|\b3des\b|cbc ciphers", -0.6, 2.6),
    ("scanner-finding:autocomplete", r"autocomplete[^.\n]{0,30}?(?:चालू|bật|aktif|เปิด|فعال|مفعل|включ|увімкн)|(?:पासवर्ड|mật khẩu|kata sandi|รหัสผ่าน|رمز عبور|كلمة المرور|пароль)[^.\n]{0,30}?autocomplete|autocomplete(?:=\"?on\"?| (?:is )?enabled| not disabled) (?:on|for) (?:the )?password|password (?:field|input|box)s? (?:\w+ ){0,4}autocomplete|password autocomplete", -1.5, 2.8),
    ("scanner-finding:logout-csrf", r"(?:logout|log out|sign[- ]?out) csrf|csrf (?:on|in) (?:the )?(?:logout|log out|sign[- ]?out)", -3.0, 3.0),
    ("scanner-finding:content-spoofing", r"content spoofing|text injection|html injection in (?:the )?(?:404|error)|broken link hijack", -1.5, 2.6),
    ("scanner-finding:user-enumeration", r"\be-?mail (?:is |was )?not registered|kay[ıi]tl[ıi] (?:de[ğg]il|e-postalar)|kullan[ıi]c[ıi] ad[ıi] tespit|(?:user(?:name)?|account|email) enumeration|enumera[çc][aã]o de (?:usu[aá]rios|contas|e-?mails)|enumeraci[oó]n de (?:usuarios|cuentas)|[ée]num[ée]ration (?:des )?(?:utilisateurs|comptes)|benutzer-?enumeration|用户枚举|ユーザー列挙|перечислени\w* (?:пользовател|учетн)|enumerate (?:valid )?(?:users|usernames|emails|accounts)", -1.0, 2.6),
    ("scanner-finding:host-header", r"host header (?:injection|poisoning attack on your)", -1.0, 2.4),
    ("scanner-finding:exposed-files", r"\.git (?:folder|directory|repository) (?:is )?(?:exposed|accessible|public)|exposed \.git|\.ds_store|/\.git/? (?:is )?(?:exposed|accessible)", -0.8, 2.4),
    ("scanner-finding:cors-wildcard", r"cors misconfiguration|access-control-allow-origin: ?\*", -0.8, 2.4),
    ("scanner-finding:recon",
     r"robots\.txt|robots\.txt (?:\w+ ){0,4}(?:reveals|discloses|contains|exposes|shows)|\bopen ports?\b|\bports? \d+ (?:and \d+ )?(?:is |are )?open\b|(?:found|scanned) with nmap"
     r"|github pages 404|(?:might|may|can|could) be taken over|\bhttp trace\b|\btrace (?:method|requests?)|cross[- ]site tracing", -0.8, 2.4),
    ("scanner-finding:weak-password-policy", r"weak password policy|no password (?:complexity|policy)|password policy (?:is )?weak", -1.0, 2.6),
    ("scanner-finding:outdated-library",
     r"\b(?:outdated|old|vulnerable|deprecated) (?:version of )?(?:jquery|bootstrap|angularjs|moment\.js|lodash)|\bjquery (?:v?\d[\d.]*) (?:\w+ ){0,3}(?:known|vulnerab)|\bhas known (?:cves?|vulnerabilities)\b",
     -0.8, 2.4),
    # Asking to be paid. Words of money that ordinary issues use too (pay, paid, payment, PayPal,
    # appreciation: a checkout that fails, a paid plan) count only in the shape of an ask; bounty,
    # reward (not a shop's "reward points"), compensation and the like count alone.
    ("payment-ask",
     r"bug ?bount|\bbount(?:y|ies)\b|\breward(?!s? points?\b)|\bcompensat\w*|\bhonorarium|\bswag\b|monetary|\bpayout\b"
     r"|\bpay(?:s|ing)? (?:me|us|researchers|hunters|for (?:valid |security |such )?(?:bugs|reports|findings|issues|vulnerabilit\w*))\b"
     r"|\b(?:do|will|would|can|could|that|if|whether) you (?:\w+ ){0,2}pay\b|\bhow much (?:\w+ ){0,3}pay|\b(?:get|be|being|getting) paid\b|\bpaid (?:bounty|bounties|program|disclosure)"
     r"|\bpayment (?:terms|details|for (?:the |my |this |a |each )?(?:report|finding|bug|work|research|disclosure|vulnerabilit\w*))|\bpaypal\.me|\b(?:my|accept|via|through) paypal\b(?! (?:checkout|button|sdk|integration))|\bpaypal(?: id| email| address)?\s*[:=]"
     r"|\btoken of (?:my |your )?appreciation|\b(?:some|any|an?) (?:\w+ )?appreciation\b|\bappreciation (?:for|of) (?:my|our|the) (?:work|effort|time|report|finding)"
     r"|recompensa|r[ée]compense|belohnung|prämie|ricompensa|\bödül|beloning|nagrod\w*|赏金|奖励|вознагражден|報奨金|バウンティ|포상금|보상금|\bpag(?:an|am)\b|\bpayez\b|\busdt\b|\bbtc\b|bitcoin|\bhall of fame\b"
     + r"|รางวัล|مكافأة|مكافآت|مكافأ|पुरस्कार|इनाम|винагород\w*|پاداش|(?:tiền |được |nhận )thưởng|\bhadiah\b|\bimbalan\b"
     + r"|bel[öo]ning|belønning|dusør|palkkio|odm[ěe]n\w*|jutal(?:om|mat)|recompens\w*|възнаграждение|αμοιβ[ήη]|ανταμοιβ|תגמול|পুরস্কার|ganjaran|gantimpala|zawadi|انعام|nagrad\w*",
     0.0, 2.2),
    ("beg-framing",
     r"\byour (?:website|web ?site|domain|site|web application|organi[sz]ation)\b|\b(?:i am|i'm) an? (?:independent |ethical |certified )?(?:security researcher|ethical hacker|bug hunter|white ?hat|pentester|penetration tester)"
     r"|\bethical hack|\bwhite ?hat|\bbefore (?:i|we) (?:share|disclose|send|provide) (?:the )?(?:details|full report|poc)|\bwill share (?:the )?details (?:after|once|if)"
     r"|\bbefore (?:i |we )?(?:share|disclose|send|provide|giv)\w* (?:\w+ ){0,2}(?:details|information|report|poc)|\b(?:disclose|share|send) (?:it|them|the details) (?:after|once) (?:we agree|you (?:confirm|tell|pay))"
     r"|\b(?:first|before that) i (?:would|'d) like to know (?:whether|if) you (?:reward|pay)|\bdiscuss the (?:bounty|reward|compensation) before"
     r"|\b(?:discovered|found|identified) an? (?:serious|critical|high severity|severe) (?:issue|vulnerability|bug|flaw) (?:affecting|in|on) your"
     r"|vulnerabilit[àa] nel vostro sito|web sitenizde|(?:vulnerabilidad|falla|fallo) en su (?:p[áa]gina|sitio)|falha no site|faille sur votre site|sicherheitsl[üu]cke auf ihrer"
     r"|你们的网站上?发现|御社のウェブサイト|уязвимость на вашем сайте",
     -0.4, 1.4),
    ("scanner-output", r"\bnikto\b|\bburp(?: suite)?\b|\bzap scan|\bowasp zap\b|\bacunetix\b|\bnessus\b|\bqualys\b|securityheaders\.com|\bmxtoolbox\b", -0.3, 1.0),
)


# Negatives: what makes security words something other than a report.
NEGATIVE: tuple[tuple[str, str, float, float], ...] = (
    ("negative:dependency-bump",
     r"\bbump(?:s|ed|ing)?\b|\bupgrade (?:\S+ ){0,2}(?:to|from) v?\d|\bupdate (?:\S+ ){0,2}(?:to|from) v?\d|\bupgrad\w* (?:the )?(?:dependenc|package|transitive|library)"
     r"|\b(?:from|to) v?\d+\.\d+(?:\.\d+)? to v?\d+\.\d+|\btransitive(?:ly)? dependenc|\bdependabot|\brenovate(?:bot)?\b|\bsnyk (?:has|bot)|\bnpm audit|\byarn audit"
     r"|\bvendored (?:copy|version|library)|\b(?:bundled|vendored) \S+ is (?:outdated|old)|\bis outdated\b|\b(?:fixed|released) upstream|\bupstream (?:fixed|released)|\bpip-audit|\bcargo audit|\bbundle audit|\bosv-scanner|\bpinned? (?:version|to)|\brelease notes|\bchangelog|\bcommits?\b.{0,20}\bcompare\b"
     r"|actualizar (?:la )?dependencia|atualizar (?:a )?depend[eê]ncia|mettre [àa] jour (?:la )?d[ée]pendance|abh[äa]ngigkeit (?:aktualisieren|auf)|升级依赖|更新依赖|обновить зависимост|依存関係(?:を)?更新",
     -3.0, -2.5),
    ("negative:declines-payment",
     r"(?:don't|do not|dont|won't) (?:need|want|expect|ask for) (?:a |any )?(?:bounty|reward|payment|compensation)|\bnot (?:asking|looking) for (?:a |any )?(?:bounty|reward|money|payment)"
     r"|\bno (?:bounty|reward|payment) (?:needed|required|expected|necessary)",
     0.0, -3.0),
    ("negative:bot-author", r"dependabot\[bot\]|renovate\[bot\]|snyk-bot|github-actions\[bot\]|this pr was (?:automatically )?(?:created|generated)|automated pull request", -2.5, -2.5),
    ("negative:scanner-false-positive",
     r"false[- ]positive|false alarm|not (?:actually )?exploitable|\b(?:we|i|you|users?|it|this|the project|our \w+) (?:are|is|am|'re|'m)(?:n't| not) (?:actually |really )?(?:affected|vulnerable)\b|does(?:n't| not) (?:affect|apply to) (?:us|this|our)|not applicable"
     r"|\btrivy\b|\bgrype\b|\bclair\b|\bdependency[- ]check\b|(?:scanner|scan) (?:flags?|reports?|complains?)|code path is (?:never|not) (?:reached|used)|unreachable"
     r"|falso positivo|faux positif|fehlalarm|falsch[- ]positiv|误报|ложн\w* срабатывани|誤検知",
     -3.2, -2.0),
    ("negative:feature-request",
     r"feature request|\bwould (?:be )?(?:nice|great|useful|helpful|awesome)|\bplease (?:add|support|consider|implement)|\badd(?:ing)? (?:support|an option|a setting|a way|optional)"
     r"|\bsupport for\b|\bcould you (?:add|support)|\bcould (?:\w+ ){1,3}be added\b|\bis it possible to (?:add|support|configure)|\benhancement\b|\bproposal\b|\bnice to have|\bfeature\]"
     r"|ser[ií]a (?:genial|bueno|[uú]til)|soporte para|suporte (?:a|para)|seria (?:[óo]timo|bom|legal)|ajouter (?:le )?support|serait (?:bien|utile|g[ée]nial)"
     r"|unterst[üu]tzung f[üu]r|w[äa]re (?:sch[öo]n|toll|gut)|希望(?:能)?支持|建议(?:增加|添加)|добавить поддержку|было бы (?:здорово|удобно|неплохо)|サポートして(?:ほしい|欲しい)|対応してほしい",
     -2.0, -1.5),
    ("negative:policy-question",
     r"how (?:do|can|should) (?:i|we|one) (?:report|disclose|contact)|where (?:do|should|can) (?:i|we) (?:report|send|disclose)|security\.md|security policy"
     r"|security contact|private vulnerability reporting|security\.txt|(?:enable|turn on) (?:private )?(?:vulnerability )?reporting|who (?:do|should) i contact"
     r"|c[oó]mo (?:reporto|reportar|informo)|como (?:reportar|relatar)|comment signaler|wie melde ich|如何报告|如何提交漏洞|как сообщить|どこに報告",
     -2.6, -1.0),
    ("negative:how-to-question",
     r"\bdoes\b[^.?\n]{0,40}\b(?:protect|prevent|guard|defend)\w* against|\bis (?:it|this) safe (?:to|against)|\bhow (?:do|can|should) (?:i|we|you) (?:prevent|protect|avoid|sanitize|escape|mitigate|secure|harden|store)"
     r"|\bbest practices?\b|\bis there a way to (?:prevent|protect|secure)|\bdocs? (?:should|could) (?:mention|explain|warn)|\bquestion\]|\bhardening guide",
     -2.0, -1.0),
    ("negative:not-security",
     r"\b(?:not|isn't|is not|don't think (?:it|this) is|don't think it's) (?:a |really )?security[- ]?(?:relevant|issue|problem|bug|related|sensitive|thing)|\bnot a (?:security )?vulnerability"
     r"|\bno security impact|\bnever (?:on|from) (?:user|untrusted|external) (?:input|data)|\bfil(?:e|ing) (?:it |this )?as a (?:normal|regular) bug|\bnot security[- ]relevant",
     -3.0, -2.0),
    ("negative:defensive-context",
     r"\b(?:to )?(?:avoid|prevent|preventing|protect(?:s|ing)? (?:users )?(?:against|from)|guard against|defen[cs]e[- ]in[- ]depth|defeats the purpose)\b",
     -1.0, -0.5),
    ("negative:hearsay",
     r"\bis (?:this|that|it) (?:accurate|true|real|correct|legit)\b|\b(?:blog|post|forum|article|tweet|someone|a user) (?:\w+ ){0,3}(?:claims?|wrote|says|alleges?)\b",
     -3.0, -1.5),
    # Deliberately vulnerable apps (training labs, CTFs, scanner test targets): their issues name
    # weaknesses that are there on purpose.
    ("negative:vulnerable-on-purpose",
     r"\b(?:intentionally|deliberately|purposely|purposefully|on purpose|by design) (?:\w+ ){0,2}?(?:vulnerable|insecure|exploitable|broken)|\b(?:vulnerable|insecure) (?:by design|on purpose)"
     r"|\b(?:training|practice|security|hacking|pentest\w*|ctf) (?:app|lab|labs|exercise|challenge|playground|range|environment)s?\b|\b(?:lab|exercise|challenge|level) (?:\w+ ){0,4}?(?:is |are )?(?:supposed|meant|expected) to be (?:exploitable|vulnerable|hackable)"
     r"|\bctf (?:challenge|task)|\bdvwa\b|\bjuice shop\b|\bwebgoat\b|\bvulnhub\b|\bhackthebox\b"
     r"|intencionalmente vulner|deliberadamente (?:vulner|insegur)|volontairement vuln[ée]rable|absichtlich (?:verwundbar|unsicher)|故意(?:留有)?漏洞|靶场|намеренно уязвим|意図的に脆弱",
     -3.0, -1.0),
    ("negative:question-title", r"^(?:how|does|do|is|are|can|could|should|what|which|where|why|when|will)\b[^\n]*\?[ \t]*(?:\n|$)", -1.2, -0.8),
    ("negative:crash-framing",
     r"\bsegfault|segmentation fault|\bpanic(?:ked|s)?\b|\bcrash(?:es|ed|ing)?\b|\btraceback\b|\bstack ?trace\b|\bnullpointerexception|\bnull pointer dereference|\bregression\b|\bhangs?\b|\bfreez\w+|\boom[- ]?kill",
     -1.0, -0.8),
    ("negative:domain-vocabulary",
     r"dependency[- ]injection|\bdi container|\binject(?:ed|s|ing)? (?:the |a |an )?(?:service|dependency|dependencies|bean|provider|repository|logger|config)|\binjectable\b|@inject\b"
     r"|insulin|\bsyringe|\bdosage|\bvaccine|fuel injection|injection mou?ld|\bspeed ?run|\bglitch|\bcheat code|\bboss fight|\bplayers?\b|\bgameplay|\bnpc\b|\blevel \d|\bchess\b|\bengine's? attack|\bpawns?\b|\bbishop|\brocket|\bsatellite"
     r"|\borbit|\bchemical|\breagent|\bmolecul|\btitration|\bbuffer (?:solution|capacity)|\bph buffer|\bjson payload|\brequest payload|\bwebhook payload|\bresponse payload|\bpayload (?:size|schema|format|field)"
     r"|\bmedication|\bpatients?\b|\bclinical",
     -2.4, -2.0),
    ("negative:test-or-docs",
     r"\btypo\b|\bbroken link in (?:the )?docs|\bflaky test|\b(?:unit )?tests?(?: suite)? (?:fails?|failing)|only a test problem|\bin the readme\b|\bdocs? example|\b(?:update|switch|fix) the docs|\bthe docs (?:show|use|say)|\bci (?:is )?(?:failing|red|broken)|\bdocumentation (?:is )?(?:wrong|outdated|unclear)",
     -1.5, -0.8),
)


# Payload shapes, looked for in code blocks and inline code as well as prose.
PAYLOAD: tuple[tuple[str, str, float], ...] = (
    ("payload:script", r"<script\b|onerror\s*=|onload\s*=|javascript:alert|alert\(\s*(?:1|document\.(?:domain|cookie)|origin)\s*\)|<svg[^>]{0,40}onload|<img[^>]{0,60}onerror", 1.2),
    ("payload:sql", r"'\s*or\s*'?1'?\s*=\s*'?1|\bunion\s+(?:all\s+)?select\b|;\s*drop\s+table|sleep\(\s*\d+\s*\)--|' ?--\s|waitfor delay", 1.2),
    ("payload:traversal", r"\.\./\.\./|\.\.\\\.\.\\|%2e%2e%2f|/etc/passwd|/etc/shadow|c:\\windows\\win\.ini", 1.2),
    ("payload:command", r"\$\((?:id|whoami|curl|wget|touch|cat)\b|`(?:id|whoami|touch [^`]*)`|;\s*(?:id|whoami|cat /etc)\b|\|\s*(?:sh|bash)\b|&&\s*(?:id|whoami)\b|/bin/sh\s+-c|os\.system\(|subprocess\.\w+\([^)]{0,80}shell\s*=\s*true|__import__\(['\"]os", 1.0),
    ("payload:ip-spoof", r"x-forwarded-for:\s*['\"]?(?:127\.0\.0\.1|localhost|::1|10\.\d)|x-real-ip:\s*['\"]?127\.|x-original-url:\s*/(?:admin|internal)", 1.2),
    ("payload:template", r"\{\{\s*7\s*\*\s*7\s*\}\}|\$\{\s*7\s*\*\s*7\s*\}|\{\{\s*(?:config|self|request)\.|__class__\.__mro__|\$\{(?:jndi|script|env|sys|ctx):|#\{7\*7\}", 1.3),
    ("payload:prototype", r"__proto__|constructor\.prototype|constructor\[.prototype", 1.0),
    ("payload:ssrf", r"169\.254\.169\.254|metadata\.google\.internal|file:///|gopher://|dict://|localhost:\d+/admin|127\.0\.0\.1:\d+", 1.0),
    ("payload:xxe", r"<!entity|<!doctype [^>]{0,60}\[|system \"file:", 1.2),
    ("payload:deserialization", r"!!python/object|pickle\.loads|__reduce__|marshal\.loads|objectinputstream|readobject\(|yaml\.load\(|unserialize\(|binaryformatter|ysoserial|rO0AB", 1.0),
    ("payload:workflow-expression", r"\$\{\{\s*github\.event\.(?:issue|pull_request|comment|review|discussion|head_commit|pages)\.[\w.]*?(?:title|body|ref|message|label|name)\b", 1.2),
    ("payload:crlf", r"%0d%0a|\\r\\n(?:set-cookie|location|content-length|bcc:|cc:|to:)", 1.0),
    ("payload:sanitizer-report", r"addresssanitizer|heap-buffer-overflow|stack-buffer-overflow|heap-use-after-free|global-buffer-overflow|\bubsan\b|memorysanitizer|valgrind.{0,40}invalid (?:write|read)", 1.6),
)


def _any_of(heads: Iterable[str], tail: str = "") -> str:
    """``h1TAIL|h2TAIL|...``: one top-level branch per head, so that each keeps its own literal."""
    return "|".join(h + tail for h in heads)



# Plain-language capability signals: what someone other than the author can do, or whose data is
# exposed, described without the weakness's jargon name. Each weighs at most ~2, so one phrase
# alone stays under the default threshold; two families together (a subject that is someone else
# plus a capability, a stale credential plus a replay, a secret plus a response) reach it.
_CAN = r"\b[^.\n?!]{0,50}?\b(?:can(?!'t| ?not)|could|is able to|are able to|gets?|got|sees?|receives?|will be able)\b"
PLAIN: tuple[tuple[str, str, float], ...] = (
    ("plain:anyone-can",
     _any_of((r"\banyone", r"\banybody", r"\bwhoever", r"\bsomeone (?:else|who)", r"\bany (?:\w+[- ]?){0,2}?(?:users?|accounts?|members?|visitors?|guests?|customers?|tenants?)",
              r"\bany (?:web ?)?(?:page|website|site)", r"\bany (?:other )?(?:apps?|peers?|clients?|process(?:es)?)\b", r"\bother apps\b", r"\bevery (?:\w+ )?user", r"\b(?:normal|plain|regular|read-only|guest) (?:\w+ )?(?:users?|accounts?|members?|role|tokens?)",
              r"\b(?:viewers?|guests?|team admins?|non-admins?|deactivated (?:users?|accounts?)|removed (?:users?|members?)|suspended (?:users?|accounts?)|low-privileged (?:users?|accounts?))"), _CAN)
     + r"|\blets? (?:anyone|anybody|everyone|any user|other users|guests) (?:\w+ ){0,2}?(?:join|see|read|access|download|post|log in|list|change|delete|take)|\bthe next (?:visitor|person|user) sees|\bguests? who (?:is|are) not|\bi'?m not a member|\bas a normal user"
     r"|cualquier(?:a| usuario| persona) (?:\w+ )?pued|quien tenga|qualquer (?:pessoa|usu[aá]rio) (?:\w+ )?(?:consegue|pode)|n'importe qu(?:i|el utilisateur)"
     r"|\bjeder (?:angemeldete )?(?:benutzer|nutzer)? ?kann|\b(?:gastbenutzer|g[äa]ste|gast) (?:\w+ ){0,3}k[öo]nn(?:en|te)|\bwer (?:\w+ ){1,4}hat, kann|chiunque|qualsiasi utente (?:\w+ )?pu[oò]|un utente normale (?:\w+ )?(?:pu[oò]|scarica|vede|legge)|\biedere?(?: ingelogde)? gebruiker kan|\biedereen kan"
     r"|ka[żz]dy(?: zalogowany)?(?: u[żz]ytkownik)? (?:\w+ )?mo[żz]e|ka[żz]dy, kto|herhangi bir kullan[ıi]c[ıi]|bilen herkes|herkes (?:\w+ ){0,3}(?:g[öo]nderebilir|g[öo]rebilir|okuyabilir)"
     r"|任何(?:登录)?用户|任何人|普通(?:用户|账号)|誰でも|누구나|любой(?: пользователь)?(?:,| может| кто)|кто угодно"
     + r"|bất kỳ ai|ai cũng (?:có thể|xem|đọc)|siapa (?:saja|pun) (?:bisa|dapat)|semua orang bisa|ใครก็(?:ได้|สามารถ)|будь-хто|будь-який (?:користувач|под)|любой под|любое приложение|هر (?:کسی|کاربری|برنامه‌ای|برنامه ای)|أي (?:شخص|مستخدم)|لأي (?:شخص|مستخدم)|कोई भी|किसी का भी|n'importe qui|qualunque (?:utente|persona)|qualquer usu[aá]rio"
     + r"|vem som helst|hvem som helst|kuka tahansa|kdokoliv?|ktokoľvek|\bbárki\b|\boricine\b|всеки (?:\w+ )?може|οποιοσδήποτε|όποιος (?:\w+ ){0,4}μπορεί|כל אחד|כל משתמש|যে কেউ|யார் வேண்டுமானாலும்|\bsesiapa\b|kahit sino|mtu yeyote|کوئی بھی|qualsevol (?:persona|usuari)|\bsvatko\b|bilo tko",
     1.5),
    ("plain:other-party-data",
     _any_of((r"\bsomeone else'?s?", r"\bsomebody else'?s?", r"\bother (?:people|persons?|users?|customers?|clients?|members?|tenants?|organi[sz]ations?|compan(?:y|ies)|accounts?)(?:'s?|s'|s)?",
              r"\banother (?:user|customer|client|company|organi[sz]ation|tenant|account|person|member)(?:'s)?"),
             r" (?:\w+ ){0,2}?(?:invoices?|data|files?|documents?|orders?|messages?|drafts?|posts?|comments?|profiles?|records?|rows|emails?|addresses|customer list|spreadsheets?|attachments?|account|dashboard|roles?|page|keys?|tokens?|repos?|repositories|projects?|builds?)\b")
     + r"|\bprivate (?:repos?|repositories|projects?|channels?|events?|fields?|messages?|files?|notes?|posts?|entries|boards?|documents?|pages?)\b|\bmarked (?:as )?'?(?:only me|private|hidden)|\bdirect messages between|\b(?:every|all) (?:other )?(?:members|users|customers|tenants)'|\bevery (?:other )?(?:member|user|customer|tenant)'s\b|\ball of the team'?s|\balle (?:\w+ )?des (?:teams|unternehmens)|\b(?:which|that) the owner never shared"
     r"|de otr[oa]s? (?:clientes?|usuarios?|empresas?|personas?|cuentas?)|de outr[oa]s? (?:usu[aá]rios?|contas?|pessoas?|clientes?)|d'un autre (?:compte|utilisateur|client)|des autres (?:utilisateurs|clients|comptes)"
     r"|\bfremde[nrs]? |eines anderen (?:kunden|benutzers|nutzers)|anderer (?:kunden|benutzer|nutzer)|degli altri|di un altro (?:cliente|utente)|\baltrui\b|van (?:andere|een andere) (?:klant|gebruiker)"
     r"|innych (?:klient[óo]w|u[żz]ytkownik[óo]w)|innej firmy|innego (?:u[żz]ytkownika|klienta)|ba[şs]ka (?:bir )?(?:m[üu][şs]teri|kullan[ıi]c[ıi])|di[ğg]er kullan[ıi]c[ıi]"
     r"|di altri (?:utenti|clienti)|别人的|其他用户的|他人的|其他人的|所有用户的|他のユーザー|別の(?:顧客|ユーザー|会社|テナント)|他のテナント|他社の|他人の|다른 (?:사용자|사람|고객|회사)|타인의|чуж(?:ой|ие|ую|их|ое)|друг(?:ого|их) (?:клиент|пользовател)"
     + r"|\b(?:orders?|invoices?|data|files?|messages?|records?|photos?|pictures?|reports?|bookings?|reservations?|chats?|receipts?) (?:from|of|belonging to) (?:other|another|different) \w+|ajen[oa]s?\b|de todo mundo|d'autres (?:utilisateurs|clients|personnes)|cudz\w+|чуж\w+|інш\w+ (?:користувач|клієнт|людей)|чужі|чужих|của (?:người|khách hàng|thành viên) khác|người dùng khác|orang lain|pengguna lain|nasabah lain|ของ(?:คน|ผู้ใช้|ลูกค้า|คนไข้)(?:คน)?อื่น|ผู้ใช้อื่น|کاربران دیگر|دیگران|شخص دیگر|کاربر دیگر|الآخرين|مستخدم آخر|شخص آخر|حساب آخر|مستخدمين آخرين|दूसरे (?:यूज़र|उपयोगकर्ता|लोगों|ग्राहक)|किसी और (?:की|का|के)|别的(?:店铺|用户|公司|租户)|自分が参加していない|다른 회원"
     + r"|medestudenten|andermans|van andere (?:studenten|klanten|gebruikers|collega)|\bandras\b|andra (?:användares|kunders|anställdas|patienters)|någon annans|\bandres\b|andre (?:brugeres|brukeres|kunders)|en an(?:den|nen) (?:brugers|brukers|kundes)|\btoisten\b|muiden (?:käyttäjien|asiakkaiden|potilaiden)|toisen (?:käyttäjän|asiakkaan)|jiných (?:firem|uživatelů|zákazníků|pacientů)|jiné (?:firmy|osoby)|jiného (?:uživatele|zákazníka)|\bcizí|iných (?:používateľov|zákazníkov|firiem)|iného (?:používateľa|zákazníka)|más (?:betegek|felhasználók|ügyfelek|cégek)|\bmások\b|másik (?:felhasználó|ügyfél)|altui (?:utilizator|client)|altor (?:utilizatori|clien[țt]i|firme|pacien[țt]i)|altcuiva|на други (?:потребители|клиенти)|други потребители|на друг потребител|άλλων (?:χρηστών|πελατών|ασθενών)|άλλου (?:χρήστη|πελάτη)|של (?:משתמשים|אנשים|לקוחות) אחרים|של משתמש אחר|অন্য (?:ব্যবহারকারীর|কারো|গ্রাহকের)|অন্যদের|வேறு ஒருவரின்|மற்ற (?:பயனர்|வாடிக்கையாளர்)|ng ibang (?:user|tao|customer|gumagamit)|za watu wengine|ya watumiaji wengine|ya mtu mwingine|دوسرے (?:صارفین|لوگوں|صارف)|کسی اور (?:کی|کا|کے)|d'altres (?:usuaris|clients|persones)|d'un altre usuari|drugih (?:korisnika|kupaca|tvrtki|pacijenata)|tuđ\w+",
     1.5),
    ("plain:id-swap",
     r"\b(?:ids?|numbers|tokens?|identifiers) (?:are |is )?(?:just )?(?:sequential|incrementing|predictable|guessable)|\bsequential (?:ids?|numbers)|\bincrementing numbers"
     r"|\bchang(?:e|es|ed|ing) (?:the |that )?(?:\w+ )?(?:number|id|identifier)\b|\b(?:tokens?|codes?|ids?|links?) (?:are|is) (?:only |just )?\d+ (?:digits|characters)|\bcan be (?:tried|guessed|brute[- ]?forced|enumerated)|\ball of them can be tried|\bno limit on (?:attempts|tries|guesses)|\bchang(?:e|ing) (?:it )?to \d+\b|\b(?:change|changing|replace|replacing) \S+ (?:to|with) \S+ (?:and|you)|\bfor any (?:id|comment id|number)\b|\bworks for any id"
     r"|cambiando el (?:n[uú]mero|id)|\bpongo \d+|trocando o (?:n[uú]mero|id)|en changeant l'identifiant|changer le num[ée]ro|die nummer zu [äa]ndern|nummer [äa]ndern|cambiando (?:l'id|il numero|in \d+)"
     r"|het nummer (?:\w+ ){0,4}te veranderen|zmieni[ćc] numer|zmieniaj[ąa]c numer|numaray[ıi] (?:\d+ yap|de[ğg]i[şs]tir)|改成 ?/|修改url中的id|番号を変え|idを変え|id를 바꾸|を \d+ に変え|번호(?:만)? 바꾸|으로 바꾸면|(?:поменяв|заменить|изменив) (?:номер|id)"
     + r"|\bedit(?:s|ed|ing)? the (?:\w+ )?(?:id|number)\b|\bnumber at the end\b|\bcounting\b[^.\n]{0,20}?\b(?:see|get|download)|\bcontando\b|basta contare|nummer [äa]nder|改成别(?:的|人)|数字を変え|번호를 (?:\S+ )?바꿔|перебор\w*|перебира\w*|змін\w+ (?:номер|id)|đổi số|thay số|đổi id|ubah (?:nomor|id|angka)|mengganti (?:nomor|id)|เปลี่ยนเลข|เปลี่ยนหมายเลข|تغییر شماره|با تغییر (?:شماره|عدد|آیدی|id)|غيرت الرقم|تغيير الرقم|بتغيير الرقم|(?:id|नंबर|संख्या) बदल|из \d+ цифр|(?<!\d)\d+ (?:цифр|अंकों|chữ số|digit angka|หลัก|桁)|از \d+ رقم|من \d+ (?:أرقام|خانات)|(?<!\d)\d+位(?:数字|数)|(?<!\d)\d+자리|числ\w* попыток не ограничен|не ограничен\w* по числу попыток|कोई रोक नहीं|không giới hạn số lần|tanpa batas percobaan|ไม่จำกัดจำนวนครั้ง|بدون حد للمحاولات|sin l[ií]mite de intentos|sem limite de tentativas|deneme s[ıi]n[ıi]r[ıi] yok|bez limitu pr[óo]b|回数制限(?:が)?(?:ない|なし)|次数限制|횟수 제한(?:이)? 없"
     + r"|nummer (?:\w+ ){0,2}aanpas|(?:byta|byter|ändra|ändrar) (?:ut )?(?:\w+ )?numret|(?:ændre|ændrer|endre|endrer|bytte|bytter) (?:\w+ )?nummeret|vaihtamalla (?:\w+ )?numeron|muuttamalla (?:\w+ )?numeroa|změním (?:parametr|číslo|id)|změnou (?:čísla|id)|zmením (?:číslo|parameter|id)|zmenou čísla|számot (?:növelve|átírva|megváltoztatva)|átírom a számot|schimb(?:ând|and)? (?:\w+ )?num[ăa]rul|modific (?:num[ăa]rul|id)|(?:смен|промен)\w+ (?:номера|id)|αλλάζοντας (?:τον αριθμό|το id)|αλλάξω τον αριθμό|משנים את המספר|שיניתי את המספר|לשנות את המספר|(?:নম্বর|আইডি) (?:বদলালে|পরিবর্তন)|எண்ணை மாற்றி|(?:tukar|menukar) (?:nombor|id)|pinalitan ko ang (?:numero|id)|palitan ang numero|binago ko ang (?:numero|id)|(?:nilibadilisha|kubadilisha) (?:namba|nambari|id)|نمبر (?:بدلنے|تبدیل)|canviant el n[úu]mero|canvio el n[úu]mero|promij?en\w+ (?:broj|id)|mijenjaju[ćc]i broj",
     1.5),
    ("plain:no-ownership-check",
     r"\b(?:no|without|never|doesn't|does not|don't) (?:\w+ ){0,2}(?:check\w*|verif\w*|compar\w*) (?:\w+ ){0,3}?(?:owner\w*|belongs|visibility|membership|the state|the role)|\bnot (?:just|only) (?:your|their|his|her) own|\bonly (?:hidden|hides? them|hides? it) in the (?:ui|menu|frontend|web ui)|\bonly the (?:web )?ui hides|\bin the ui\b[^.\n]{0,60}?\bbut\b|\bthe ui only\b|\bis only hidden"
     r"|sin comprobar el propietario|sem verificar o dono|keine pr[üu]fung des (?:besitzers|eigent[üu]mers)|nessun controllo sul proprietario|sahiplik kontrol[üu] yok|没有检查.{0,12}属于|所有者のチェックがありません|絞り込みがされていない|소유자 확인이 없|проверки владельца нет"
     + r"|\bonly checks? (?:that )?(?:you(?:'re| are) logged in|it looks|the code|the token|the key)|\bchecks? (?:\w+ ){0,4}but not (?:which|whose|who|that it|the owner)|\b(?:is|are) checked but not\b|\bdoesn't check (?:who|whose|which|that (?:it|you))|no comprueba (?:de qui[ée]n|si|el)|n[aã]o (?:confere|verifica) (?:de quem|se|o dono)|ne v[ée]rifie pas (?:que|qui|le)|pr[üu]ft nicht|senza controllo|kontrol etmiyor|nie sprawdza|не проверя\w+|не перевіря\w+|без перевірки|不检查|没有(?:检查|校验)|不校验|チェックされていない|確認していない|확인하지 않|검사하지 않|không có kiểm tra|không kiểm tra|tidak (?:ada )?(?:cek|pengecekan|pemeriksaan)|tidak memeriksa|ไม่มีการตรวจสอบ|ไม่ต้องเป็นแอดมิน|بررسی نمی|چک نمی|لا يتحقق|دون التحقق|بدون التحقق|कोई जा[ँं]च नहीं|जा[ँं]च नहीं"
     + r"|ingen kontroll? a[fv]|tjekker ikke|sjekker ikke|ei tarkista|nekontroluje|nem ellenőrzi|nu verific[ăa]|не проверява|δεν ελέγχει|לא בודק|אין בדיקה|যাচাই করে না|tidak menyemak|hindi sinusuri|haikagui|(?:چیک|جانچ) نہیں|no comprova|ne provjerava",
     1.5),
    ("plain:stale-credential",
     r"\b(?:still|keeps?|kept|continues? to|remains?) (?:\w+ ){0,3}?(?:works?|working|valid|active|usable|accepted|returns? my|lets? me|logged in|could list|list)\b[^.\n]{0,80}?\bafter\b|\bafter (?:i |you |they |the user )?(?:log(?:ged|ging)? ?out|sign(?:ed|ing)? ?out|changing (?:\w+ )?password|(?:the )?password (?:was |is )?changed|i removed|removing|removed|being removed|it was used|deleting|deleted|revoking|revoked)\b[^.\n]{0,80}?\b(?:still|keeps?|kept|continues?)\b"
     r"|\bkeeps? working (?:\w+ ){0,6}?(?:after|for (?:days|weeks|months)|forever)|\bafter (?:i|we|they|he|she) (?:was|were|got) (?:removed|deactivated|kicked)\b[^.\n]{0,80}?\bstill\b|\b(?:deactivated|removed|deleted|disabled|suspended|banned|former|expired|revoked) (?:\w+ ){0,2}?(?:users?|accounts?|members?|tokens?|keys?|employees?|projects?) (?:\w+ ){0,4}?(?:can |could )?still\b|\bstill (?:\w+ ){0,2}?(?:works?|accepts?|valid)\b[^.\n]{0,40}?\b(?:today|days later|weeks later)|\b(?:never|not|isn't|aren't|doesn't|don't|does not|do not) (?:\w+ ){0,2}?(?:invalidat\w*|revok\w*|destroy\w*|forgets? the|terminat\w*|bound to|expire)\b|\bonly deletes the cookie|\bstays? logged in"
     r"|sigue (?:funcionando|siendo v[aá]lid)|restent? valides? apr[eè]s|continue (?:[àa] )?fonctionner|continua (?:v[aá]lid|funcionando)|(?:reste|toujours) valide|fonctionne toujours apr[eè]s|bleibt nach (?:\w+ ){0,3}g[üu]ltig|funktioniert (?:\w+ ){0,3}weiter|weiterhin g[üu]ltig"
     r"|funziona ancora dopo|rest[ae] valid|blijft geldig|werkt (?:\w+ ){0,3}nog steeds|dzia[łl]a nadal|nadal dzia[łl]a|(?:hâlâ|hala) (?:ge[çc]erli|a[çc][ıi]l[ıi]yor)|sonland[ıi]r[ıi]lm[ıi]yor"
     r"|仍然有效|依然有效|(?:取り消し|取り消した|削除した|無効化した|退職した)(?:後|あと)(?:でも|も)|仍然可以访问|没有销毁会话|有効なまま|破棄されていません|계속 작동|여전히 유효|оста[её]тся активн|по-прежнему работает|не завершает сессию|no invalida la sesi[oó]n|n[aã]o invalida a sess[aã]o|niet be[ëe]indigd"
     + r"|\bnever expires?\b|\b(?:still|also) (?:works?|accepted|valid) (?:\w+ ){0,3}after|fonctionne encore|funciona ainda|ログアウト(?:した)?(?:後|あと)も|ログアウト後も|ログアウトしても|nie wygasa|no caduca|n[aã]o expira|n'expire (?:jamais|pas)|l[äa]uft nie ab|non scade mai|s[üu]resi dolmuyor|不会过期|永不过期|期限切れにならない|만료되지 않|не истекает|не закінчується|không hết hạn|tidak (?:pernah )?kedaluwarsa|ไม่หมดอายุ|منقضی نمی|لا تنتهي صلاحي|समाप्त नहीं|vẫn (?:dùng được|hoạt động|còn hiệu lực)|masih (?:bisa dipakai|berlaku|aktif)|ยังใช้ได้|همچنان (?:کار|معتبر)|لا يزال (?:يعمل|صالح)|ما زال (?:يعمل|صالح)|अब भी काम|стар\w+ пароль (?:\w+ ){0,3}работает|старий пароль",
     2.0),
    ("plain:signature-unchecked",
     r"\b(?:signatures?|hmac|checksums?|x-signature|x-hub-signature|signature header|stripe-signature)\b[^.\n]{0,40}?\b(?:(?:is|are|was|were)(?:n't| not| never)|never|not|aren't|isn't)\b (?:\w+ ){0,2}?(?:checked|verified|validated|compared|looked at)"
     r"|\b(?:never|doesn't|does not|don't|do not|without|nothing) (?:\w+ ){0,2}?(?:checks?|checking|verif\w*|validat\w*|compar\w*|looks? at) (?:\w+ ){0,3}?(?:signatures?|checksums?|hmac|x-signature|signature header|stripe-signature)"
     r"|\b(?:aren't|isn't|not|never) (?:\w+ )?signed\b|\b(?:accepts?|trusts?) (?:any|all) (?:\w+ )?(?:certificates?|certs?)|\bcertificate (?:validation|verification|checks?) (?:is )?(?:disabled|turned off|skipped)|\bverify\s*=\s*false|\binsecureskipverify|\brejectunauthorized\W{0,3}false|\bwithout (?:a |any )?(?:checksum|signature)|\b(?:state|nonce) (?:parameter |value )?(?:is )?(?:never|not) (?:checked|compared|verified)|\baccepts any (?:state|nonce)|\bnever compares `?(?:state|nonce)|alg\W{0,4}none\b|\bdrop (?:the )?signature"
     r"|firmas? no (?:se )?verifica|no se verifica (?:la|las) firmas?|assinaturas? n[aã]o (?:[ée]|s[aã]o) verificad|signatures? (?:\w+ ){0,4}ne sont pas v[ée]rifi[ée]es|ne contr[ôo]le jamais (?:\w+ ){0,3}signature|sans v[ée]rifier la signature"
     r"|signatur\w* (?:wird|werden) nicht (?:gepr[üu]ft|[üu]berpr[üu]ft)|firma non (?:viene )?verificata|handtekening\w* (?:wordt|worden) niet (?:gecontroleerd|geverifieerd)|podpis\w* nie (?:jest|s[ąa]) weryfikowan"
     r"|imzalar[ıi] do[ğg]rulanm[ıi]yor|imza ba[şs]l[ıi][ğg][ıi]n[ıi] hi[çc] kontrol etmiyor|签名未校验|没有校验签名|不校验签名|署名(?:を)?検証していない|署名が検証されない|서명(?:을)? 검증하지 않|подпись (?:\w+ )?не проверяется|не смотрит на заголовок подписи",
     2.0),
    ("plain:forged-input",
     r"\bfake (?:\w+ ){0,2}(?:events?|payments?|requests?|deliveries|webhooks?)|\bsign (?:their|his|her) own (?:session|token|cookie)|\bmarked as paid|\bswap the binary|\bpush(?:es)? code to every"
     r"|falsos? eventos|faux [ée]v[ée]nements|gef[äa]lschte ereignisse|eventi falsi|sahte (?:\w+ )?olay|поддельн\w* событ|фальшив\w* событ|伪造事件|偽のイベント|가짜 이벤트",
     1.5),
    ("plain:outside-folder",
     r"\boutside (?:the |of the |its )?(?:\w+ ){0,2}?(?:folder|directory|dir|root|data dir|import folder)|\b(?:named|called|entry|name)\W{0,3}(?:\.\./|\.\.\\)|\bextracted (?:to|without checking) (?:that )?path|\bwritten to that path|\bwrite files anywhere|\b(?:from )?anywhere on (?:the )?(?:disk|server|filesystem|host)|\bany file on the (?:disk|server|host|filesystem)|\bfollows? the (?:sym)?link"
     r"|fuera de la carpeta|fora da pasta|en dehors du (?:dossier|r[ée]pertoire)|au[ßs]erhalb des (?:ordners|verzeichnisses)|al di fuori della cartella|buiten de (?:\w+ )?map|poza (?:folderem|katalogiem)|klas[öo]r[üu]n d[ıi][şs][ıi]nda|目录之外|文件夹外|フォルダの外|폴더 밖|вне (?:папки|каталога)"
     + r"|\boutside (?:the |of the )?(?:bucket|prefix|upload dir\w*|sandbox)|\bfollows? (?:sym)?links\b|\bsymlinks? (?:inside|in) (?:the |an? )?(?:archive|tarball|zip)|\bwrites? into /etc\b",
     1.8),
    ("plain:server-fetch",
     r"\b(?:make|makes|making|let|lets) (?:the )?(?:server|backend|app|service) (?:to )?(?:fetch|request|download|load|call|connect)|\bthe server (?:\w+ ){0,2}?(?:fetches|downloads|requests) (?:any|anything|it|whatever)|\bfetch anything\b|\b(?:fetched|downloaded|requested|loaded) by the server|\bthe server downloads\b|\binternal (?:hosts?|services?|network|addresses|ips?)\b"
     r"|\bservers?'? (?:passwd|hostname|files?)\b|\bshows? the server'?s\b|\bread (?:local |server )?files? (?:on|from) the server"
     r"|va chercher n'importe quelle url|services internes|ruft beliebige urls ab|interne adressen|内网|内部ネットワーク|내부 (?:네트워크|서비스)|внутренн\w+ (?:сервис|адрес|сет)",
     2.0),
    ("plain:secret-exposed",
     r"(?:password[_ ]?hash(?:es)?|hash(?:ed)? passwords?|secret[_ ]key|api[_ ]?keys?|bot token|\btoken\b|refresh token|passwords?|credentials|private keys?|card numbers?|\bcvc\b|twofactorsecret|2fa secret|session (?:id|cookie|token)|deploy key|db_password|database password|(?:smtp|ldap|mail|admin|root|service account) password|aws_secret\w*|datasource\.password|environment variables|env vars|backups?|database dumps?|\.sql(?:\.gz)?)"
     r"[^.\n]{0,60}?\b(?:returned|included|shown|listed|displayed|exposed|printed|visible|revealed|logged|readable|served|ends? up in|sent to (?:an? |the )?(?:third[- ]part\w*|other|another|external|analytics|telemetry|tracking|remote|attacker|every|all|anyone)|in (?:the )?(?:response|json|url|query string|access log|log aggregator|ps(?: aux)?)\b|in clear|in full|serves? (?:it |them )?to)"
     r"|\b(?:returns?|includes?|including|shows?|lists?|displays?|exposes?|prints?|reveals?|contains?|sees?|logged|logs|writes?) [^.\n]{0,60}?(?:password[_ ]?hash|the hash of|secret[_ ]key|api key|the full (?:slack |bot )?token|full card number|deploy key|the database password|(?:smtp|ldap|mail|admin|root) password|the full (?:\w+[- ])?(?:api[- ])?key|db_password|aws_secret\w*|datasource\.password|environment variables|session cookie|card numbers?)"
     r"|\bsends? (?:the |their |my )?(?:password|session cookie|cookie|token)s? to\b|\b(?:password|contrase[ñn]a|senha|passwort|wachtwoord|has[łl]o|[şs]ifre|密码|パスワード|비밀번호|пароль)\w* (?:\w+ ){0,3}(?:en claro|in chiaro|im klartext|en clair|평문|明文)"
     r"|passwort-hash|password_hash|contrase[ñn]a de la base de datos|password del database|비밀번호가 (?:\w+ )?(?:표시|보입|노출)|db 비밀번호"
     + r"|(?:password|token|key|secret|credential)s?\b[^.\n]{0,80}?\b(?:in plain ?text|plaintext|in ps(?: aux)?|with ps aux|con ps aux|at (?:info|debug) level|to (?:the |your |our )?telemetry)|\b(?:the |an? )?(?:admin'?s?|user'?s?|their|someone'?s?|other user'?s?) (?:password )?hash(?:es)?\b",
     2.0),
    ("plain:world-readable",
     r"\bworld[- ](?:readable|writable|writeable)|\breadable (?:and writable )?by (?:everyone|all|any|other)|\bmode 0?6[46][46]\b|\b0666\b|\bevery other account can read|czyteln\w* dla wszystkich|herkes taraf[ıi]ndan okunabilir|\bsees? the database password in\b|\bany local user\b",
     2.0),
    ("plain:no-login",
     r"\bwithout (?:any |being |a |ever )?(?:login|logging in|logged in|signing in|authentication|a token|a session|any token|any session|session|token|entering the code)\b|\bno login (?:required|needed)|\bno (?:token|auth\w*|login|session)(?: check)? (?:required|needed)\b|\byou don't need to be logged in|\bdoesn't require (?:login|auth\w*)"
     r"|\bno token\b|\b(?:answers|responds|works|open|reachable|accessible) (?:\w+ ){0,2}without|\bnot logged in\b"
     r"|sin (?:iniciar )?sesi[oó]n|sin autenticaci[oó]n|sem (?:estar )?logad|sem login|sem autentica[cç][aã]o|sans (?:[êe]tre )?(?:connect[ée]|authentification)|ohne (?:anmeldung|login|authentifizierung)"
     r"|senza (?:login|autenticazione)|zonder (?:in te loggen|inloggen|authenticatie)|bez (?:logowania|uwierzytelniania)|giri[şs] yapmadan|oturum a[çc]madan|无需登录|不需要登录|未登录|ログインせずに|ログインなしで|認証なしで|로그인하지 않아도|로그인 없이|인증 없이|без (?:авторизации|входа|аутентификации)"
     + r"|\bwithout (?:a |any |entering (?:a |the )?)?password\b|\bno (?:pairing|password) or (?:password|pairing)|\bwith no (?:pairing|password|pin)\b|без (?:авторизації|входу|автентифікації|пароля)|не потрібно входити|không cần (?:đăng nhập|mật khẩu)|mà không (?:cần )?đăng nhập|chưa đăng nhập|tanpa (?:login|masuk|autentikasi|kata sandi)|โดยไม่ต้อง(?:ล็อกอิน|เข้าสู่ระบบ|ใส่รหัส)|ไม่ต้องใส่รหัส|بدون (?:ورود|احراز هویت|رمز|نیاز به ورود)|بدون (?:تسجيل|مصادقة|كلمة (?:مرور|سر))|دون تسجيل الدخول|बिना (?:लॉगिन|पासवर्ड)|लॉगिन के बिना|sin contrase[ñn]a|sem senha|sans mot de passe|ohne passwort|senza password|bez has[łl]a|[şs]ifresiz|パスワードなしで|비밀번호 없이"
     + r"|utan (?:att )?(?:logga in|inloggning)|uden (?:at )?logge ind|uden login|uten (?:å )?logge inn|uten innlogging|kirjautumatta|ilman kirjautumista|bez přihlášení|bez prihlásenia|bejelentkezés nélkül|fără (?:autentificare|logare)|без (?:вход|влизане|автентикация)|χωρίς (?:σύνδεση|είσοδο|πιστοποίηση)|בלי (?:להתחבר|התחברות)|ללא (?:התחברות|הזדהות)|লগইন (?:ছাড়া|না করে)|உள்நுழையாமல்|tanpa log masuk|kahit hindi naka-login|nang hindi nagla-login|bila kuingia|لاگ ان کے بغیر|بغیر لاگ ان|sense (?:iniciar sessió|autenticaci[óo])|bez prijave",
     1.5),
    ("plain:debug-exposure",
     r"/actuator/(?:env|heapdump|configprops|mappings|beans)|\bdebug ?=? ?true\b|\bdebug (?:page|toolbar|endpoint|route)\b|\bphpinfo\b|/\.env\b|/\.git/|\bheapdump\b|\bshows? the full settings|/debug\b",
     1.2),
    ("plain:everyone-affected",
     r"\b(?:for|to) everyone\b|\bfor all (?:users|visitors)|\beveryone else|\bnobody else|\bserves? nobody|\btakes? (?:the )?(?:site|server|service|api|instance) down|\b(?:site|server|service) (?:stops|goes) (?:down|answering)|\bstops? answering\b|\bwhole process (?:exits|dies|crashes)|\bthe whole process exits"
     r"|deja de responder a todos|para todos|f[üu]r alle|per tutti|voor iedereen|dla wszystkich|herkes i[çc]in|所有人|全員|모든 사용자|для всех",
     1.4),
    ("plain:resource-blowup",
     r"\b(?:takes?|took|spins?|hangs?|blocks?|stuck|freez\w*|locks?) (?:\w+ ){0,5}?(?:minutes|hours|forever|100% cpu)|\b100% cpu\b|\ballocates? (?:about )?\d+ ?gb\b|\brecursion limit|\bgets? killed\b"
     r"|tarda minutos|se queda colgad|leva minutos|prend des minutes|dauert minuten|impiega minuti|duurt minuten|trwa minuty|dakikalarca|需要几分钟|数分かかる|몇 분|занимает минуты"
     + r"|\ballocat\w+ (?:about |several |many |\d+ )?(?:gb|gigabytes)|\boom[- ]?kill\w*|\bpins? (?:a |the )?(?:worker|cpu|core)",
     1.2),
    ("plain:input-from-anyone",
     r"\b(?:public|signup|sign-up|registration|login) (?:form|page|endpoint)\b|\bany public endpoint|\ba handful of (?:such )?requests|\bfew (?:such )?requests|\bcan do this repeatedly|\bupload an avatar|\bfrom the public|formulario p[uú]blico|formul[aá]rio p[uú]blico",
     1.0),
    ("plain:code-from-input",
     r"(?:yaml\.load|pickle\.loads?|\bunpickl\w*|marshal\.loads|\beval\(|\bexec\(|\beval\b|os\.system|os\.popen|shell=true|\bsh -c\b|child_process|runtime\.exec|unserialize)"
     r"[^.\n]{0,80}?(?:upload\w*|user input|\{name\}|user[- ]supplied|request\.(?:files|form|args|body|data|get|post)|whatever the user|cookie|\bcell\b|\bfield\b|file name|filename|string|column)"
     r"|(?:upload\w*|user input|user[- ]supplied|whatever the user|cookie|formula|column|field|file name|filename|name|manifest|string|postinstall)[^.\n]{0,80}?(?:yaml\.load|pickle\.loads?|\bunpickl\w*|\beval\(\)|\beval\b|os\.system|shell=true|\bsh -c\b|through `?sh\b)"
     r"|\b(?:file ?name|user input|input|text|value|string) (?:\w+ ){0,3}?(?:to|into|in) the (?:shell|command line|sql query|query)\b|\bstraight into the (?:sql|query|shell)|\b(?:pasted|inserted|concatenated|put|copied) (?:\w+ ){0,2}?into the (?:where clause|query|sql|command)|\brun (?:your own|arbitrary|any) (?:sql|quer(?:y|ies)|commands?)\b|\bpassed to (?:python )?`?eval|\bpassed to the shell|\brun with the shell|\bthrough the shell|\brenders? (?:\w+ ){0,3}?as a (?:jinja )?template|\bshows? the app config|\bruns? (?:that|the|this|any) (?:\w+ )?command on the server|\bruns? (?:on|during) (?:the server|unpickling)|\brun code on the server|\bruns? (?:arbitrary |any |their |untrusted )?code on (?:our|the|that|this) (?:\w+ )?(?:runner|build machine|ci machine|build server)|\bexfiltrate (?:the |our )?(?:\w+ )?(?:tokens?|secrets?)|pull_request_target\W[^\n]{0,120}?(?:checks? out|head\.sha|head\.ref)|\brun anything on|\bcan run anything|\bis unpickled|\brequire\('child_process'\)|\bnodeintegration"
     + r"|__globals__|__subclasses__|__builtins__|\bfrom_string\(|render_template_string|\b(?:unpickl\w*|pickle\.loads?|torch\.load)\b[^.\n]{0,80}?\b(?:models?|checkpoints?|archives?|hub|backups?|\.pt|\.pkl)\b|\bruns? (?:arbitrary |any |their |untrusted |its )?code on (?:our|the|that|this|your) (?:\w+ )?(?:servers?|machines?|hosts?|workers?|nodes?)|\b(?:its|the model'?s?) author run"
     + r"|\bruns? (?:its |the |their )?(?:`?\w+`? )?command without asking|\brun whatever (?:its|the|their) (?:author|owner)|\bevaluates? (?:\w+ ){0,4}as python",
     2.2),
    ("plain:self-promotion",
     r"\bcan set `?(?:is_?admin|role|email_verified|verified)|\"?(?:is_?admin|is_?staff|is_superuser|email_verified|verified)\"?\s*:\s*true\b|\"role\"\s*:\s*\"(?:owner|admin)\"|\bmade my (?:\w+ )?account (?:an )?(?:admin\w*|owner)|\bchanged my (?:own )?role|\brole\s*=\s*'admin'|\bi'?m admin\b|\bbecome (?:an? )?(?:admin|owner|root)|\b(?:gets?|gives?|grants?|binds?|binding) (?:\w+ ){0,3}?cluster-admin\b|\bget (?:a )?root shell|\bgets? a root shell"
     r"|\bchange other (?:people|users)'?s? roles|\bremove the real owners|\bpromote themselves|\bmake themselves (?:\w+ )?(?:owner|admin)|\bis_admin\"?: ?true|变成了管理员|passa a ser administrador|virar administrador|管理者になれ|관리자가 됩니다|станов\w+ администратор",
     2.5),
    ("plain:takeover",
     r"\btake (?:over )?(?:the |their |any |an |someone'?s? |other )?accounts?\b|\btake over\b|\btake the account|\blogged in as (?:them|any|another|other|that)|\blog in as (?:any|another|other|them)|\bis logged in as them|\bimpersonat\w+|\bthen reset the password"
     r"|puede entrar en la cuenta|tomar la cuenta|assumir a conta|prendre (?:le contr[ôo]le du|l')compte|konto [üu]bernehmen|prendere l'account|account overnemen|przej[ąa][ćc] konto|hesab[ıi] ele ge[çc]ir|接管账号|接管账户|アカウントを乗っ取|계정을 가져갈|захватить аккаунт"
     + r"|\blog (?:in|into) (?:\w+ ){0,3}?as anyone|\bas anyone\b|\bbecame another user|\bbecome another user|chiếm (?:quyền )?tài khoản|mengambil alih akun|ยึดบัญชี|захопити (?:акаунт|обліковий)|забрати (?:будь-який )?(?:акаунт|обліковий)|забрать (?:любой )?аккаунт|угнать аккаунт|تصاحب حساب|کنترل حساب|السيطرة على الحساب|الاستيلاء على الحساب|إعادة تعيين كلمة المرور|खाता खुल जाता|खाते पर कब्ज़ा|拿到 ?root|乗っ取",
     1.6),
    ("plain:other-site-request",
     r"\b(?:any|another|other|third[- ]party) (?:web ?)?(?:site|page|website|origin)s?\b[^.\n]{0,60}?\b(?:can|could|will)\b[^.\n]{0,40}?\b(?:read|submit|post|change|create|send|call|dump|make requests)|\bno csrf token|\bwithout (?:a |any )?csrf token|\bhas no (?:csrf )?token|samesite=none|\bcookies are sent cross-site"
     r"|\breflects? (?:\w+ ){0,3}origin|access-control-allow-credentials: ?true|\bcopies (?:\w+ ){0,3}`?origin|\bwithout checking where the message came from|\bauto-submit a form|\ba hidden form on any"
     r"|qualquer site (?:\w+ ){0,5}pode|n'importe quel site (?:\w+ ){0,5}peut|cualquier (?:sitio|p[áa]gina) (?:\w+ ){0,5}puede|任何网站都(?:可以|能)|любой сайт (?:\w+ ){0,3}может"
     + r"|\bany (?:web ?site|page|site|dapp) (?:\w+ ){0,3}?can (?:get|steal|grab|obtain|read)|\bwebview\b[^.\n]{0,80}?\b(?:bridge|javascriptinterface|exposes)",
     1.8),
    ("plain:redirect-anywhere",
     r"\b(?:redirect\w*|sends? (?:people|users|you)|goes (?:straight )?to|lands? on) (?:\w+ ){0,3}?(?:to )?(?:any|arbitrary|whatever|an external|any external) (?:url|site|domain|website|page|host)s?\b|\b(?:redirects|redirected) there after|\bphishing (?:mails?|emails?|links?|pages?)|\bcopy of our login page|\bcollect passwords"
     + r"|\b(?:authorization )?code (?:then )?goes to (?:that|the attacker'?s?|their|another) host|\bstartswith\b[^.\n]{0,60}?\bpasses\b",
     1.8),
    ("plain:cache-crossover",
     r"\bcached (?:\w+ ){0,4}without `?vary|\bprevious (?:person|user|visitor)'?s? (?:account|page|dashboard|data)|\bcached at the cdn",
     1.5),
    ("plain:credential-replay",
     r"\b(?:old|same|copied|previous|stale|earlier) (?:session )?(?:cookie|token|link|reset link|session)|\breplay(?:ed)? (?:a |the )?request|\bsession cookie|\breset link|\bapi (?:tokens?|keys?)\b|\bapp(?:-specific)? passwords?|\bingest key|jetons? d'api|api-schl[üu]ssel|\breset tokens?\b"
     r"|cookie (?:antigu[oa]|antig[oa])|enlace (?:para restablecer|de restablecimiento)|link de (?:reset|redefini[cç][aã]o)|cookie de sess(?:ion|[aã]o)|alte[nrs]? (?:cookie|link)|sitzungs-?cookie|link zum zur[üu]cksetzen"
     r"|vecchio link|link di reset|oude (?:sessie)?cookie|sessiecookie|stary link|link do resetu|eski [çc]erez|oturum [çc]erezi|旧的 ?cookie|会话 ?cookie|古いcookie|セッションcookie|예전 (?:재설정 )?링크|재설정 링크|세션 쿠키|стар\w+ cookie|сесси",
     1.0),
    ("plain:exposed-to-others",
     r"\b(?:visible|shown|readable|accessible|exposed|available|served|serves?|leaked|appears?|show(?:s|n)? up|included|downloadable) (?:it )?(?:\w+ ){0,2}?(?:to|for|in|by) (?:anyone|anybody|everyone|everybody|the public|public|other (?:users|people|members|tenants)|guests?|anonymous|all (?:users|members)|any(?:one| user| member| visitor)|the internet|every(?:one| user))"
     r"|\b(?:marked|set to) (?:as )?(?:private|hidden)\b[^.\n]{0,80}?\b(?:public|includes?|shows?|visible)|\bfor (?:whoever|anyone who|everyone who) (?:opens|clicks|views|visits)|\bpublic (?:ci |build )?logs\b|publieke (?:ci-)?logs|\bto (?:anyone|anybody) (?:who|on the internet)|\banybody on the internet|\bi received another|\brows of both|\b(?:you're|you are|i'm|i am) not (?:a )?member|\bnot a member of|\beven for users who|\bnever shared\b|\bwasn't shared|\b(?:of|for) (?:every|all|any) (?:other )?(?:~?[\d,]+ )?(?:users?|members?|customers?|accounts?|ids?|organi[sz]ations?|tenants?|orgs?|teams?)\b|全ユーザーの|すべてのユーザーの|모든 사용자의|всех пользователей"
     + r"|siapa saja bisa melihat|halaman publik|ai cũng xem được|ใครก็ดูได้|будь-хто може побачити|هر کسی می‌تواند ببیند|يمكن لأي شخص رؤية|कोई भी देख सकता"
     + r"|\b(?:spaces?|projects?|repos?|documents?|folders?|channels?) (?:i|we|they|users?) (?:have|has) no access to",
     1.5),
    ("plain:script-runs",
     r"\b(?:alert|script|javascript|the code) (?:\w+ ){0,3}?(?:pops|runs|executes|fires)|\bthe alert pops|\bruns? in the (?:admin'?s?|other|their|victim'?s?) browser|\bin the admin'?s browser|\brenders? as a live link|\brendered (?:unescaped|as html|raw)|\bwhoever (?:clicks|opens|views)|\bwhen an admin opens|\bruns? with the (?:app|site|application)'?s? cookies|\bserved inline\b|\bruns? (?:that|the|this) script\b"
     r"|스크립트가 (?:\w+ )?실행|スクリプトが実行|脚本(?:会)?被?执行|скрипт выполняется|le script s.ex[ée]cute|o script (?:é )?executado|el script se ejecuta",
     1.8),
    ("plain:host-header",
     r"\b(?:uses|taken from|built from|trusts?) the `?host`? header|\bhost: ?evil|\bfrom the host header",
     1.6),
    ("plain:step-skip",
     r"\b(?:2fa|two-factor|second factor|otp|mfa|verification|payment|login|password) (?:step |page |check )?(?:\w+ ){0,3}?(?:can be |is )?skipped|\bskip (?:the )?(?:2fa|second factor|otp|login|payment|verification)|\bgoing straight to\b|\btyping /\w+ in the address bar|\bwithout ever entering",
     1.8),
    ("plain:weak-password-storage",
     r"\bunsalted\b|\bwithout (?:a )?salt|\bno salt\b|\bmd5\(password|\bpasswords? (?:are |is )?stored (?:as|in|with) (?:plain|clear|md5|sha-?1|unsalted|reversible)|\bstores? (?:\w+ ){0,2}passwords? in (?:plain|clear)",
     2.6),
    ("plain:xml-entity",
     r"\bdoctype (?:\w+ ){0,4}?(?:entity|declares)|\bdeclares an entity|\bentity pointing to|\bexternal entit"
     + r"|\bnested entit|\bentity (?:references|expansion)|billion laughs|encj\w+ wskazuj|rozwi[ąa]zuje encje|entit[ée]s? externes?|externe entit|entidades? externas?",
     1.5),
    ("plain:runs-on-others",
     r"\bon (?:the )?(?:recipient|victim|other (?:user|person))'?s? (?:computer|machine|browser)|\bon every (?:user's )?(?:machine|computer|desktop client)|\bon the server\b|\bas root\b|\bsetuid\b"
     r"|en el servidor|no servidor|sur le serveur|auf dem server|sul server|op de server|na serwerze|sunucuda|在服务器上|サーバー上で|서버에서|на сервере",
     0.8),
    ("plain:forbidden-succeeds",
     r"\b(?:and )?it succeeds\b|\bis accepted\b|\bwas accepted|\bstill succeeds|\banswers 20[0-9]\b|\bcan call `?(?:delete|put|patch|post)\b",
     1.2),
    ("plain:regex-on-input",
     r"\b(?:regex|regexp|regular expression|route pattern)\b|expresi[oó]n regular|express[aã]o regular|regul[äa]re[rn]? ausdruck|espressione regolare|正则|正規表現|정규식|регулярн",
     0.8),
    ("plain:personal-data",
     r"\bemail addresses\b|\bphone numbers?\b|\bhome address|\blast 4 digits|\bcard last 4|\bcustomer (?:list|data)|\bevery (?:member|user)'?s (?:email|phone|address)"
     r"|correos electr[oó]nicos|n[uú]meros de tel[ée]fono|telefone|adresses e-mail|e-mail-adressen|telefonnummern|手机号|邮箱|顧客データ|メールアドレス|전화번호|이메일 주소|номера телефонов",
     0.8),
    ("plain:secret-multilingual",
     _any_of((r"contrase[ñn]a", r"credenciales", r"clave de api", r"senha", r"credenciais", r"chave de api", r"mot de passe", r"identifiants", r"jetons?", r"cl[ée] d'api",
              r"passw[öo]rt", r"zugangsdaten", r"api-schl[üu]ssel", r"credenziali", r"chiave api", r"wachtwoord", r"api-sleutel", r"has[łl]o", r"klucz api", r"[şs]ifre", r"api anahtar",
              r"密码", r"令牌", r"密钥", r"パスワード", r"トークン", r"apiキー", r"비밀번호", r"토큰", r"api 키", r"пароль", r"токен", r"ключ api"),
             r"[^.\n。]{0,40}?(?:en (?:los )?logs|en texto plano|nos logs|em texto|dans les (?:logs|journaux)|en clair|im log|im klartext|sichtbar|nei log|in chiaro|in de (?:\w+ )?logs|leesbaar|zichtbaar|w logach|jawnym tekstem|loglarda|a[çc][ıi]k metin|日志|明文|ログに|平文|로그에|평문|в логах|в открытом виде)")
     + r"|(?:mật khẩu|khóa api|kata sandi|token api|รหัสผ่าน|โทเค็น|пароль|токен|ключ|رمز عبور|کلید|عبارت بازیابی|كلمة المرور|مفتاح|पासवर्ड|टोकन|password)[^.\n。]{0,60}?(?:dạng chữ thường|không (?:được )?mã ho[áa]|trong (?:file )?log|tanpa enkripsi|di log|di source|teks biasa|ไม่ได้เข้ารหัส|ในล็อก|у логах|у відкритому вигляді|در فایل|به صورت متن ساده|در لاگ|debug\.log|في السجل|بدون تشفير|كنص واضح|लॉग में|बिना एन्क्रिप्शन|ps aux)"
     + r"|(?:l[öo]senord|adgangskode|passord|salasana|heslo|jelsz[óo]|parola|парола|κωδικ[όοός]|סיסמ[הא]|পাসওয়ার্ড|kata laluan|nenosiri|پاس ورڈ|contrasenya|lozinka)[^.\n。]{0,60}?(?:klartext|klartekst|vanlig tekstfil|tekstfil|selkokiel|čiteln|otevřeném textu|nyílt szöveg|text simplu|în clar|открит текст|απλό κείμενο|χωρίς κρυπτογράφηση|μέσω http\b|ללא הצפנה|טקסט גלוי|এনক্রিপশন ছাড়া|tanpa penyulitan|walang encryption|bila usimbaji|بغیر انکرپشن|text pla|otvorenom tekstu|čistom tekstu|via http\b|over http\b)",
     1.8),
    ("plain:role-exceeded",
     r"\b(?:view[- ]only|read[- ]only|viewer'?s?|guests?)\b[^.\n]{0,80}?\b(?:could|can(?!'t| ?not)|still|was able to|is able to)\b[^.\n]{0,30}?\b(?:edit|rename|delete|change|modify|write|saves?|create|invite|remove)"
     r"|\b(?:i'?m|i am) not an? (?:admin|administrator|owner|maintainer)\b[^.\n]{0,10}\bbut\b"
     + r"|\blets? (?:a |an |any )?(?:read-only|view-only|viewer|guest|normal|regular|non-admin)\b[^.\n]{0,30}?\b(?:add|edit|delete|change|create|invite|remove)",
     1.8),
    ("plain:double-spend",
     r"\b(?:applied|redeemed|credited|paid|charged|withdrawn|used|accepted) (?:it )?(?:\d+|twice|many|several|multiple) times\b|\bonly (?:goes down|drops|is deducted|decreases|went down) once|\breceive (?:the \w+ )?twice\b|\bspend (?:the same \w+ )?twice|\bat the same (?:time|moment)\b[^.\n]{0,80}?\b(?:both|twice|each) (?:pass|succeed|go through|applied)|\bboth pass\b"
     r"|d[ée]penser deux fois|passent toutes les deux|gastar (?:\w+ ){0,3}dos veces|gastar (?:\w+ ){0,3}duas vezes|zweimal (?:ausgeben|abgebucht|ausgezahlt)|两次(?:提现|扣款)|дважды (?:потратить|списа)"
     + r"|\bin parallel\b[^.\n]{0,60}?\b(?:all|both|each)\b[^.\n]{0,20}?\bsucceed|\ball \d+ succeed",
     2.0),
    ("plain:price-tamper",
     r"\bthe price is (?:a hidden|taken from)|\btakes the price from|\bbuy (?:\w+ ){0,4}for 0\.01|\bchanging it in devtools"
     + r"|\b(?:price|amount|score|total|balance|quantity)\b[^.\n]{0,40}?\b(?:in a hidden field|from the (?:client|browser)|the client sends)|\bhidden field\b|\bstores? (?:whatever|any) (?:\w+ ){0,2}the (?:client|browser|app) sends|\bnegative (?:amount|value|quantity|number|price)|jadi negatif|số âm|負の(?:金額|値)|음수|отрицательн\w+ (?:сумм|значени)|منفی|سالب|ऋणात्मक|importo negativo|valor negativo|betrag negativ|montant n[ée]gatif",
     2.6),
    ("plain:hidden-in-response",
     r"\b(?:just|only) (?:not )?(?:shown|rendered|displayed)\b|\bnot rendered\b|\b(?:open|in|check) (?:the )?(?:devtools|network tab|page source)|\bview-source\b|\bthe (?:page'?s? |api )?(?:json|response) (?:also )?(?:contains|includes)",
     1.5),
    ("plain:two-accounts",
     r"\b(?:with|using|on|between) (?:my )?(?:own )?two (?:\w+ )?accounts|\btwo (?:of my |own |test )(?:\w+ )?accounts|\bsecond (?:test )?account|\bfrom a second account|\buser a\b[^\n]{0,200}?\b(?:user |account )?b'?s\b"
     r"|dos cuentas|duas contas|deux comptes|zwei (?:eigenen |test)?\w*konten|due account|dw[óo]ch kont|dwa konta|iki (?:test )?hesap|两个(?:测试)?账号|2つのアカウント|두 (?:개의 )?계정|два (?:\w+ )?аккаунт|друг\w+ аккаунт|двома (?:\w+ )?акаунт|hai tài khoản|dua akun|สองบัญชี|حسابین|حسابين|दो खातों|दो अकाउंट",
     1.5),
    ("plain:timing-compare",
     r"\bcompar\w+ (?:\w+ ){0,4}?with `?==|`?==`? on (?:the )?strings|\bresponse times? (?:differ|vary|depend)|\bbyte[- ]by[- ]byte\b|\bper (?:matching )?byte\b|\bcompare_digest\b|\bconstant[- ]time\b",
     1.8),
    ("plain:downgrade",
     r"\bsignature but not (?:the )?version|\bolder? signed (?:firmware|image|release|build|package)s?|\bdowngrade (?:attack|to an? (?:old|vulnerable))|\broll(?:s|ed)? back to an? (?:old|vulnerable)",
     1.8),
    ("plain:memory-overrun",
     r"\bwraps? (?:around )?to \d|\bwrap(?:s|ped)? around\b|\bcomputed in u?int\d+|\bcopies \w+ bytes into a \d+-byte|\binto a \d+-byte buffer|\bpast the end of (?:the )?(?:buffer|array|allocation)|\bheap-buffer-overflow|\bstack-buffer-overflow|\buse-after-free|\bout-of-bounds (?:read|write)"
     + r"|\boutside (?:the |its |the guest'?s? )?(?:\w+ )?(?:memory|buffer|bounds)\b|\bbounds checks? (?:are |is )?(?:off|disabled|skipped)",
     1.8),
    ("plain:silent-approval",
     r"\bauto-?approv\w+|\bwithout (?:a |any )?(?:prompt|confirmation|asking the user)\b|\bdrain\w* (?:the |approved |their |all |any )?(?:tokens|funds|wallets?|balances?)|\bsilently (?:sign|approve|send|upload)"
     + r"|\bwithout the user (?:noticing|knowing|seeing)|\binvisible (?:i?frames?|forms?)|\bzero-size (?:i?frames?)",
     1.8),
    ("plain:node-escape",
     r"\bhostpath\b[^.\n]{0,80}?\b(?:privileged|any|tenant|user)|\bprivileged pod|\bthe node'?s? (?:filesystem|root|disk)|\bany (?:pod|tenant|namespace user)\b[^.\n]{0,60}?\b(?:can|could|reads?)",
     1.8),
    ("plain:default-credentials",
     r"\badmin[:/]admin\b|\broot[:/]root\b|\bships? (?:with )?(?:a )?(?:default|hard-?coded|fixed|same) (?:admin )?(?:password|credentials|key)|\b(?:setup )?wizard can be skipped|默认(?:密码|是 ?admin)|\(?默认是 ?admin|기본 비밀번호|пароль по умолчанию",
     1.8),
    ("plain:legacy-path",
     r"\b(?:old|older|legacy|v1|previous) (?:api |rest )?(?:endpoints?|versions?|routes?)\b[^.\n]{0,60}?\b(?:still|lets?|allows?|skips?|without)",
     1.2),
)


# First-person, question and inability framings that turn plain capability words into an ordinary
# support request ("I can't see other users' posts", "how can I expose /actuator/health without login?").
PLAIN_NEGATIVE: tuple[tuple[str, str, float, float], ...] = (
    ("negative:inability",
     r"\b(?:can't|cannot|can not|unable to|couldn't|don't|doesn't|do not|does not|isn't|aren't|won't) (?:\w+ ){0,2}?(?:see|view|access|download|load|show up|appear|show|reach|find|get)\b|\bmissing from (?:the )?(?:search|list|feed)"
     r"|\bgets? (?:a |an )?(?:401|403|404|5\d\d|permission denied|error|blank page|exception)|\bpermission denied\b|\beacces\b|\bfails? with\b|\brejected with"
     r"|no puedo (?:ver|iniciar)|no aparecen|n[aã]o consigo (?:ver|entrar)|n[aã]o aparecem|impossible de voir|kann (?:\w+ )?nicht sehen|non riesco|kan niet|nie mog[ęe]|g[öo]remiyorum|看不到|見えない|볼 수 없|не вижу|не могу",
     -2.0, -1.0),
    ("negative:own-account",
     r"\bi (?:probably |must have )?mistyped|\bmy own (?:password|\.env|config|file|rules?|regex|machine|repositor\w+|repos?)|\b(?:i|we) (?:accidentally|mistakenly)|\bby mistake\b|\bon my (?:local|own) machine|\bin my own\b|\bmy own\b[^.\n]{0,30}\b(?:to a public|by mistake)"
     r"|\bmy own (?:client|app|script|integration)\b|\block(?:ed)? myself out|\bi (?:\w+ ){0,3}forgot (?:it|my|the)\b|\b(?:in )?our own (?:service|app|code|deployment|config\w*|server|instance)\b|\bsee my (?:private|own)\b|\bla escrib[ií] mal|\btypfout van mij|опечатал",
     -1.6, -0.8),
    ("negative:regression",
     r"\b(?:it |this )?worked (?:fine |well )?(?:in|before|with|until) |\bsince (?:upgrading|the upgrade|the update)\b|\bafter (?:upgrading|updating) to\b|\bused to work\b",
     -1.2, -0.6),
    ("negative:audit-question",
     r"\bcan you confirm\b|\bvendor (?:review|assessment|questionnaire)|\bsecurity (?:questionnaire|review|assessment)\b|\bour security team (?:is|asks|wants|needs)|\bcompliance (?:review|audit|questionnaire)"
     r"|\bdo(?:es)? (?:you|the app|it) (?:store|log|encrypt|hash|keep)\b|\b(?:are|is)(?:n't| not) (?:logged|exposed|returned|shown|visible|readable|stored in plain)\b|\bwhich (?:library|version|setting|option)\b|\bwill (?:they|others|guests|contractors?|members) be able to",
     -2.0, -1.0),
    ("negative:user-question",
     r"\bhow (?:can|do|should) (?:i|we)\b|\bis there (?:a|an|any) (?:way|setting|option|lighter)|\bwhere (?:is|do i|can i|should i)\b|\bwhat(?:'s| is) the (?:minimum|recommended|right)|\bwhich role\b|\bwhat (?:owner|mode|role|permission)"
     r"|\bis (?:it|this|that) (?:expected|intended|normal|a problem|the intended)\b|\bnot sure (?:this|it|if) (?:matters|is a problem)|\bam i (?:doing|setting)|\bis there a setting|\bcould (?:it|you|the \w+) (?:be|use|last|keep|add)|\b(?:we|i)'d (?:like|prefer)|\b(?:i|we) (?:want|would like) to (?:move|give|share|let|see)"
     r"|c[oó]mo la restablezco|\bcomo (?:eu )?(?:fa[çc]o|desativo|desabilito|configuro|ativo)\b|\bc[oó]mo (?:configuro|desactivo|desactivar|activo|hago)\b|\bcomment (?:d[ée]sactiver|configurer|faire)\b|\bwie (?:deaktiviere|konfiguriere)|\bкак (?:отключить|настроить|указать)|faut-il|wie (?:kann|stelle) ich|wo stelle ich|hoe reset ik|[èe] voluto\?|仕様でしょうか|如何|어떻게|как сбросить|czy mo[żz]na|est-ce possible",
     -1.5, -0.8),
)


# Derived signals, not tied to one regex.
DERIVED = (
    "poc-steps",              # steps to reproduce + a payload shape + report wording
    "beg:ask-about-finding",  # a payment ask together with any security finding or report wording
    "link:advisory",          # a link to a CVE / advisory database
    "link:bounty-platform",   # a link to a disclosure platform report
    "negative:third-party-advisory",  # advisory link or CVE id together with bump/upgrade wording
    "stacktrace-in-code",     # a stack trace inside a code block, with no attacker framing
    "quoted-only",            # the report words occur only inside quotes
    "truncated",              # body longer than MAX_TOTAL_CHARS; the rest was not read
    "windowed",               # body longer than MAX_BODY_CHARS, read in overlapping windows
    "learned-only",           # the learned model's score, capped: no claim the rules could name
    "phishing:alert-wording",  # "security vulnerability detected", "your repository has been flagged"
    "phishing:external-link",  # a link off GitHub
    "phishing:mass-mentions",  # three or more @mentions
    "phishing:urgency",        # "within 24 hours", "immediate action", "suspended"
    "phishing:impersonation",  # signed as GitHub's security / trust & safety team
    "status-ping:follow-up",   # "any news on my report?"
    "status-ping:private-channel",  # "please enable private vulnerability reporting"
    "plain:internal-target",  # the server is made to fetch a metadata, loopback or private address
)

# plain:internal-target: a server-side fetch that points at a metadata, loopback or private address.
INTERNAL_TARGET = re.compile(r"169\.254\.169\.254|metadata\.google|localhost:\d+|127\.0\.0\.1|\b10\.\d+\.\d+\.\d+|\b192\.168\.\d+|内网|内部")

# Weak negatives only offset claims; they never push mere topic words below zero.
WEAK_NEGATIVES = (
    "negative:crash-framing", "negative:test-or-docs", "negative:defensive-context", "negative:question-title",
    "negative:feature-request", "negative:how-to-question", "stacktrace-in-code",
    "negative:inability", "negative:own-account", "negative:user-question", "negative:regression", "negative:audit-question",
)

# The languages a ``lang:*`` reason can name (English gives none).
LANGS = ("es", "pt", "fr", "de", "it", "nl", "pl", "tr", "zh", "ru", "ja", "ko")

# link:advisory and link:bounty-platform: where a link in the text points.
ADVISORY_URL = re.compile(
    r"nvd\.nist\.gov|cve\.mitre\.org|cve\.org|github\.com/advisories|/security/advisories/ghsa|osv\.dev|snyk\.io/vuln|security\.snyk\.io"
    r"|security-tracker\.debian|ubuntu\.com/security|access\.redhat\.com/security|rustsec\.org|pyup\.io|vuldb"
)
BOUNTY_URL = re.compile(r"huntr\.(?:dev|com)|hackerone\.com/reports|bugcrowd\.com|intigriti|openbugbounty|yeswehack")

# poc-steps: steps to reproduce, in several languages; stacktrace-in-code: the shapes of a stack trace.
STEPS = re.compile(r"steps to reproduce|to reproduce|reproduction|\brepro\b|pasos para reproducir|passos para reproduzir|[ée]tapes pour reproduire|schritte zur reproduktion|复现步骤|重现步骤|шаги воспроизведения|再現手順|^\s*1[.)]\s", re.M)
STACKTRACE = re.compile(
    r"traceback \(most recent call last\)|^\s+at [\w$.<>]+\(|\bexception in thread\b|goroutine \d+ \[|thread '[^']*' panicked|^#\d+\s+0x[0-9a-f]+|\bsegmentation fault\b|\bcore dumped\b|\w+error: ",
    re.M,
)
# The same test, faster (`detect._is_stacktrace`): each shape on its own, run only when a literal
# every match of it contains occurs (one alternation runs every branch at every position: 2.7 ms
# on an 8 KB code block). `\w+error: ` matches where `\werror: ` does, so the shorter is searched.
STACKTRACE_PARTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (literal, re.compile(branch, re.M)) for literal, branch in (
        ("traceback (most recent call last)", r"traceback \(most recent call last\)"),
        ("at ", r"^\s+at [\w$.<>]+\("),
        ("exception in thread", r"\bexception in thread\b"),
        ("goroutine ", r"goroutine \d+ \["),
        ("' panicked", r"thread '[^']*' panicked"),
        ("0x", r"^#\d+\s+0x[0-9a-f]+"),
        ("segmentation fault", r"\bsegmentation fault\b"),
        ("core dumped", r"\bcore dumped\b"),
        ("error: ", r"\werror: "),
    ))


# Language hints, for the ``lang:*`` reason: each language's common words, and letters English does not use.
STOP_WORD_PATTERNS: dict[str, re.Pattern[str]] = {
    "es": re.compile(r"\b(?:el|los|las|que|una|por|para|con|del|es|est[aá]|pero|cuando|puede|c[oó]mo|tambi[eé]n)\b"),
    "pt": re.compile(r"\b(?:o|os|as|que|uma|para|com|do|da|n[aã]o|[ée]|est[aá]|quando|pode|tamb[eé]m|voc[eê])\b"),
    "fr": re.compile(r"\b(?:le|les|des|est|une|dans|pour|que|pas|sur|avec|cette|peut|nous|vous|aussi)\b"),
    "de": re.compile(r"\b(?:der|die|das|und|ist|nicht|mit|ein|eine|auf|wird|kann|wenn|auch|beim|dass|im|f[üu]r|k[öo]nnen|werden|sind)\b"),
    "it": re.compile(r"\b(?:il|gli|della|degli|che|non|per|con|una|sono|anche|quando|pu[oò]|ancora|dopo|chiunque)\b"),
    "nl": re.compile(r"\b(?:het|een|van|niet|voor|met|ook|wordt|zijn|kan|bij|naar|nog|maar|na)\b"),
    "pl": re.compile(r"\b(?:nie|jest|się|oraz|dla|przez|tylko|może|że|po|już|czy|aby|są)\b"),
    "tr": re.compile(r"\b(?:ve|bir|bu|için|ile|değil|hiç|çok|gibi|sonra|ama|olan)\b"),
    "en": re.compile(r"\b(?:the|and|is|are|with|this|that|when|can|not|for|from|have|it)\b"),
}


LETTERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("tr", re.compile(r"[ığş]")),
    ("it", re.compile(r"[òì]|\b(?:degli|della|nell'|gli)\b")),
    ("pl", re.compile(r"[ąęłńśźż]")),
    ("de", re.compile(r"[äöüß]")),
    ("pt", re.compile(r"[ãõ]|ção")),
    ("es", re.compile(r"[ñ¿¡]|ción")),
    ("fr", re.compile(r"[èêëàâîôûœ]|é[a-z]* (?:de|du|la|le)\b")),
)


# Phishing: fake "security alert" campaigns (the 2024 "Security Vulnerability Detected ...
# github-scanner" wave and its kin). detect.py needs the alert wording, a link off GitHub, and two
# of: mass mentions, urgency, impersonation of GitHub.
PHISH_ALERT = re.compile(
    r"\b(?:security )?vulnerabilit(?:y|ies) (?:was |were |has been |have been )?(?:detected|found|identified) in your (?:repository|project|account)"
    r"|\bwe (?:have )?detected an? (?:security )?(?:vulnerability|issue|threat|unusual|suspicious)"
    r"|\b(?:security )?vulnerability (?:was |has been )?detected"
    r"|\byour (?:repository|account|project) (?:has been|was|is) (?:flagged|compromised|reported|suspended)"
    r"|\bsuspicious activity\b|\bunusual (?:access|activity|sign-?in|login)"
    r"|\bsecurity alert\b")
PHISH_URGENCY = re.compile(
    r"\bwithin (?:\d+|twenty-four|forty-eight) ?(?:hours|h|days)\b|\bimmediate(?:ly)? (?:action|attention)|\burgent\w*"
    r"|\b(?:will|may) be (?:suspended|restricted|deleted|removed|locked)|\bsuspension\b|\bfailure to (?:act|comply|respond)"
    r"|\bverify your (?:identity|account)")
PHISH_IMPERSONATION = re.compile(
    r"\bgit ?hub (?:security|trust ?(?:&|and) ?safety|support|staff|team)\b|\bsecurity team\b.{0,40}\bgit ?hub"
    r"|\bgithub[- ]?scanner|\bauthori[sz]e the (?:security )?(?:scanner|app)")
PHISH_TRUSTED_HOST = re.compile(
    r"(?:https?://)?(?:[\w-]+\.)*(?:github\.com|githubusercontent\.com|github\.io|githubassets\.com)(?:[/:?#]|$)")
MENTION = re.compile(r"(?<![\w@/])@([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\b")

# Status pings: asking after a report, or for a private channel, without describing a weakness.
STATUS_FOLLOW_UP = re.compile(
    r"\bany (?:update|news|progress|word)s?\b|\bfollow(?:ing)?[- ]up\b|\bheard back\b|\bhaven'?t heard\b|\bno (?:response|reply|answer)\b"
    r"|\bis (?:anyone|someone|somebody) looking\b|\bconfirm (?:it was|that you|you)? ?(?:received|got)\b|\bstatus of my\b")
STATUS_ABOUT_REPORT = re.compile(
    r"\bmy (?:security |vulnerability )?(?:report|submission|email|advisory)\b|\bthe (?:security |vulnerability )?report i\b"
    r"|\b(?:vulnerability|security) (?:report|issue|advisory|problem) i (?:sent|submitted|emailed|filed|reported)"
    r"|\b(?:reported|sent|submitted) (?:it )?(?:privately|via|through|by email|to security)|\bemailed security\b|\bsecurity@")
STATUS_ENABLE_PRIVATE = re.compile(
    r"\b(?:enable|turn on|activate|set up) (?:the )?private (?:vulnerability |security )?reporting\b"
    r"|\b(?:is there|do you have|where is) (?:a |an )?(?:private|secure|confidential) (?:way|channel|email|address) to report\b")
