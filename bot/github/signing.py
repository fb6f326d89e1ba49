"""The App's JWTs: the private key parsed, claims signed RS256 (cryptography and PyJWT).

Imported only where JWTs are signed: by `secbot serve` without worker processes, by the demo and
the tests, and, with worker processes, by a short-lived process per JWT (`python -m
bot.github.signing`, see `bot.github.client.sign_apart`), so that the two libraries, about 10 MB,
stay out of the long-running processes. That process imports this module alone: the key and the
claims as JSON on its standard input, the JWT on its standard output, exit code 3 for a key that
cannot be parsed (never echoing the key or the library's message about it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

BAD_KEY = "the GitHub App private key could not be parsed as an unencrypted PEM key"
BAD_KEY_EXIT = 3


def load_private_key(pem: str) -> Any:
    """The App's private key, parsed; ValueError if it cannot be (never echoing the key or the
    library's message about it)."""
    from cryptography.hazmat.primitives import serialization

    try:
        return serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError(BAD_KEY) from None


def sign(key: Any, claims: Mapping[str, Any]) -> str:
    """A JWT of `claims`, signed RS256 with the parsed `key`."""
    import jwt as pyjwt

    return pyjwt.encode(dict(claims), key, algorithm="RS256")


def main() -> int:
    pem, claims = json.loads(sys.stdin.read())
    try:
        key = load_private_key(pem)
    except ValueError:
        return BAD_KEY_EXIT
    sys.stdout.write(sign(key, claims))
    return 0


if __name__ == "__main__":
    sys.exit(main())
