"""Which CMS family built a page (fingerprints from the profiles' [detect] tables), and whether the page
is no article at all: empty, a login form, a bot wall or challenge, a JavaScript-only shell.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from .profiles import GENERIC, Profile, load_profiles, select_all

GENERATOR_WEIGHT = 3
# Fingerprints are looked for in the head and the first part of the page, and in the scripts' src.
SCAN_CHARS = 400_000

_LOGIN_WORDS = re.compile(r"(?i)đăng nhập|dang nhap|login|log in|sign in|signin|xác thực|authenticate")
_LOGIN_URL = re.compile(r"(?i)(?:/|[?&](?:page|op|nv|action)=)(?:login|dang-?nhap|signin|sign-in|auth)\b|/users?/login")
# A bot wall names itself; these strings do not occur on article pages.
_CHALLENGE_STRONG = re.compile(
    r"(?i)Request unsuccessful\. Incapsula incident|_Incapsula_Resource|Incapsula incident ID|"
    r"cf-browser-verification|cf_chl_opt|challenge-platform|Attention Required! \| Cloudflare|"
    r"<title>\s*Just a moment\.\.\.\s*</title>|Checking your browser before accessing|"
    r"DDoS protection by|Access denied \| [\w.-]+ used Cloudflare|/_guard/|robot(?:s)? challenge|"
    r"Please enable JavaScript and cookies to continue|Vui lòng bật JavaScript"
)
# Cookies of a wall in front of real pages too (moit.gov.vn): a challenge only when the page says nothing.
_CHALLENGE_WEAK = re.compile(r"(?i)incap_ses|visid_incap|___utmvc|__cf_bm|cf_clearance|ROBOTS_CHALLENGE")
# A captcha where the article should be (a rate limiter's "are you human" page). Article pages carry
# captchas too, in their comment forms: only a page that says little besides is a challenge.
_CAPTCHA = re.compile(r"(?i)g-recaptcha|recaptcha/api|h-captcha|hcaptcha\.com|cf-turnstile|captcha")
_HUMAN_CHECK = re.compile(
    r"(?i)not a robot|verify (?:that )?you are (?:a )?human|không phải (?:là )?người máy|"
    r"xác (?:minh|nhận) (?:rằng )?bạn (?:là|không phải)|truy cập bất thường|unusual traffic"
)
CAPTCHA_MAX_TEXT = 600
_SPA_ROOT = re.compile(
    r"""(?i)<(?:div|main)\s+id=["'](?:root|app|__next|__nuxt)["'][^>]*>\s*</(?:div|main)>|<app-root\b"""
)
CHALLENGE_MAX_TEXT = 1500
WEAK_CHALLENGE_MAX_TEXT = 300
SHELL_MAX_TEXT = 200


def detect_family(doc: Any, html: str, url: str | None = None) -> str | None:
    """The best-scoring family above its threshold, or None."""
    generator = " ".join(
        str(value) for value in doc.xpath('//meta[translate(@name,"GENERATOR","generator")="generator"]/@content')
    )
    head = html[:SCAN_CHARS]
    best: tuple[int, bool, str] | None = None
    for profile in load_profiles().values():
        if profile.family == GENERIC:
            continue
        score = _score(profile, doc, head, generator, url or "")
        if score < profile.detect.threshold:
            continue
        # On equal scores the more specific family (one with `require` fingerprints) wins.
        candidate = (score, bool(profile.detect.require), profile.family)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best[2] if best else None


def _score(profile: Profile, doc: Any, head: str, generator: str, url: str) -> int:
    rules = profile.detect
    if rules.require and not any(_regex(p).search(head) for p in rules.require):
        return 0
    score = GENERATOR_WEIGHT * sum(1 for p in rules.generator if generator and _regex(p).search(generator))
    score += sum(1 for p in rules.html if _regex(p).search(head))
    score += sum(1 for s in rules.selectors if select_all(doc, s))
    score += sum(1 for p in rules.url if url and _regex(p).search(url))
    return score


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error:
        return re.compile(r"(?!x)x")  # a bad pattern in a profile matches nothing


_INVISIBLE_TAGS = frozenset({"script", "style", "noscript", "template"})


def visible_text_length(doc: Any, limit: int | None = None) -> int:
    """Characters of text in the body (stripped per text node); with `limit`, counting stops once it is
    reached (the answer is then some number >= limit)."""
    body = doc.find("body")
    root = body if body is not None else doc
    total = 0
    for node in root.iter():
        if not isinstance(node.tag, str) or node.tag in _INVISIBLE_TAGS:
            total += len((node.tail or "").strip())
            continue
        total += len((node.text or "").strip()) + len((node.tail or "").strip())
        if limit is not None and total >= limit:
            break
    return total


# Every wall and shell says less than this: a page with more visible text skips the scans (they cost more
# than the rest of the extraction).
WALL_MAX_TEXT = max(CHALLENGE_MAX_TEXT, WEAK_CHALLENGE_MAX_TEXT, CAPTCHA_MAX_TEXT, SHELL_MAX_TEXT)


def page_problem(doc: Any | None, html: str, headers: dict | None = None) -> str | None:
    """A reason when the page is no article before any extraction: empty, challenge, js-shell."""
    if not html.strip() or doc is None:
        return "empty"
    text_length = visible_text_length(doc, limit=WALL_MAX_TEXT)  # only "less than WALL_MAX_TEXT" and 0 matter
    if text_length < WALL_MAX_TEXT:
        problem = _wall_or_shell(html[:SCAN_CHARS], headers, text_length)
        if problem:
            return problem
    if text_length == 0 and not doc.xpath("//img"):
        return "empty"
    return None


def _wall_or_shell(head: str, headers: dict | None, text_length: int) -> str | None:
    header_text = " ".join(f"{k}: {v}" for k, v in (headers or {}).items()) if headers else ""
    if _CHALLENGE_STRONG.search(head) and text_length < CHALLENGE_MAX_TEXT:
        return "challenge"
    if (_CHALLENGE_WEAK.search(head) or _CHALLENGE_WEAK.search(header_text)) and text_length < WEAK_CHALLENGE_MAX_TEXT:
        return "challenge"
    if _CAPTCHA.search(head) and (
        text_length < CAPTCHA_MAX_TEXT or (_HUMAN_CHECK.search(head) and text_length < CHALLENGE_MAX_TEXT)
    ):
        return "challenge"
    if _SPA_ROOT.search(head) and text_length < SHELL_MAX_TEXT:
        return "js-shell"
    return None


def has_password_field(doc: Any) -> bool:
    return bool(doc.xpath('//input[translate(@type,"PASWORD","pasword")="password"]'))


def looks_like_login(doc: Any, url: str | None, title: str | None) -> bool:
    """A page whose purpose is a login form: a password field and a login title, heading or URL.

    Many portals show a small login box beside every article, so the field alone is not enough.
    """
    if not has_password_field(doc):
        return False
    if url and _LOGIN_URL.search(url):
        return True
    headings = " ".join(" ".join(node.itertext()) for node in doc.xpath("//title | //h1 | //h2 | //legend")[:6])
    return bool(_LOGIN_WORDS.search(f"{title or ''} {headings}"))
