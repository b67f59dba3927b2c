"""Reading Trainy's configuration from the environment.

Every value comes from an environment variable; every secret may instead come from a file named
by ``<NAME>_FILE`` (how Kubernetes mounts secrets). A missing or malformed value stops start-up
with one line that names the variable, never a traceback: settings are read by every entry
point (manage.py, gunicorn, celery), and a stack trace there hides the one thing an operator
needs to know.

Built on django-environ (pinned) for what it provides: ``_FILE`` indirection (its
``FileAwareMapping``) and database URLs (``environ.Env.db_url_config``, in settings.py); dropping
it would mean parsing DATABASE_URL by hand (percent-encoded passwords, socket directories, query
options such as sslmode), which leaves more hand-written code, not less. What stays here is what
environ.Env does not do, which is why its typed getters (``Env.bool``, ``Env.int``, ``Env.url``,
...) are deliberately not used:
- they raise ImproperlyConfigured or ValueError (a traceback) without the variable's name;
- ``Env.bool`` reads any unknown word as False (``DEBUG=ture`` would turn DEBUG off quietly);
- ``Env`` reads a value starting with ``$`` as the name of another variable, which would break
  a password or secret key that starts with one;
- an empty value is only treated as unset when the default is None;
- nothing checks a URL's scheme, host or port, or keeps a password out of the message;
- its email and cache URLs mean other things than ours (its ``smtps`` is STARTTLS, ours TLS on
  port 465; it knows no ``unix://`` cache), so EMAIL_URL and REDIS_URL stay read here.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import overload
from urllib.parse import SplitResult, urlsplit

from environ.fileaware_mapping import FileAwareMapping

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class ConfigurationError(SystemExit):
    """A configuration value is missing or malformed; the message names the variable.

    A SystemExit, so that raising it while settings are imported ends the process with exit
    status 1 and this one line on stderr, and no ``except Exception`` on the way swallows it.
    """

    def __init__(self, message: str) -> None:
        super().__init__(f"trainy: configuration error: {message}")
        self.message = message


class Environment:
    """Typed access to environment variables, with ``_FILE`` indirection for every name."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        # Reads NAME_FILE's file in place of NAME when NAME_FILE is set (and not empty).
        self.environ = FileAwareMapping(os.environ if environ is None else environ, cache=False)

    def raw(self, name: str) -> str | None:
        """The value, or None when it is unset or empty."""
        try:
            value = self.environ.get(name)
        except OSError as exc:
            raise ConfigurationError(
                f"{name}_FILE points to {exc.filename!r}, which cannot be read ({exc.strerror})"
            ) from None
        if value and self.environ.env.get(f"{name}_FILE"):
            # Files written by `echo` or editors end with a newline that is not part of the secret.
            value = value.rstrip("\r\n")
        return value or None

    @overload
    def string(self, name: str) -> str | None: ...

    @overload
    def string(self, name: str, default: str) -> str: ...

    def string(self, name: str, default: str | None = None) -> str | None:
        value = self.raw(name)
        return default if value is None else value

    def required(self, name: str, why: str) -> str:
        value = self.raw(name)
        if value is None:
            raise ConfigurationError(f"{name} is required {why} (set {name} or {name}_FILE)")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ConfigurationError(
            f"{name} must be true or false (or 1/0, yes/no, on/off), got {value!r}"
        )

    def integer(self, name: str, default: int, *, minimum: int | None = None) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value.strip())
        except ValueError:
            raise ConfigurationError(f"{name} must be a whole number, got {value!r}") from None
        if minimum is not None and number < minimum:
            raise ConfigurationError(f"{name} must be at least {minimum}, got {number}")
        return number

    def strings(self, name: str, default: list[str] | None = None) -> list[str]:
        value = self.raw(name)
        if value is None:
            return list(default or [])
        return [item.strip() for item in value.split(",") if item.strip()]

    def networks(self, name: str) -> list[str]:
        """Comma-separated IP addresses or CIDR networks, normalised (``10.0.0.0/8``)."""
        networks = []
        for item in self.strings(name):
            try:
                networks.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError:
                raise ConfigurationError(
                    f"{name} must be comma-separated IP addresses or networks, e.g. "
                    f"'10.0.0.0/8,192.0.2.7'; got {item!r}"
                ) from None
        return networks

    def named_urls(self, name: str, *, schemes: tuple[str, ...], example: str) -> dict[str, str]:
        """``key=URL`` pairs, comma-separated (e.g. one realtime source per feed)."""
        pairs: dict[str, str] = {}
        for item in self.strings(name):
            key, equals, value = item.partition("=")
            if not equals or not key.strip() or not value.strip():
                raise ConfigurationError(
                    f"{name} must be comma-separated name=URL pairs, e.g. {example!r}; "
                    f"got {redact(item)!r}"
                )
            pairs[key.strip()] = parse_url(name, value.strip(), schemes=schemes,
                                           example=example.partition("=")[2]).geturl()  # fmt: skip
        return pairs

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.raw(name)
        if value is None:
            return default
        word = value.strip().lower()
        if word not in choices:
            raise ConfigurationError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return word

    def url(self, name: str, *, schemes: tuple[str, ...], example: str) -> SplitResult | None:
        """Parse a service URL, or None when unset; malformed URLs name the variable."""
        value = self.raw(name)
        if value is None:
            return None
        return parse_url(name, value, schemes=schemes, example=example)


def redact(url: str) -> str:
    """The URL with its password replaced, so an error message never prints a secret."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable>"
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def parse_url(name: str, value: str, *, schemes: tuple[str, ...], example: str) -> SplitResult:
    def malformed(reason: str) -> ConfigurationError:
        return ConfigurationError(
            f"{name} is not a valid URL ({reason}): "
            f"got {redact(value)!r}, expected e.g. {example!r}"
        )

    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 -- reading it raises ValueError for a bad port
    except ValueError as exc:
        raise malformed(str(exc)) from None
    if parts.scheme not in schemes:
        scheme = parts.scheme or "none"
        raise malformed(f"scheme {scheme!r} is not one of {', '.join(schemes)}")
    if parts.scheme != "sqlite" and not parts.hostname:
        raise malformed("no host")
    return parts
