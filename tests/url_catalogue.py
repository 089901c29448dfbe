"""Every URL the site answers, read from the URL configuration, with its
parameters filled in from a world of test objects.

The permission matrix and the blind-entry sweep walk this list, so a new
URL is in both the moment it is routed (and fails the matrix until someone
writes down who may open it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import LocalePrefixPattern

PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    name: str  # namespaced: "commission:dashboard", "api-results", "admin:auth_user_change"
    pattern: str  # as routed, parameters in angle brackets, no language prefix

    def path(self, values: Mapping[str, str]) -> str:
        """The URL with ``values`` for its parameters (KeyError when one is missing)."""
        return "/" + PARAMETER.sub(lambda match: values[match["name"]], self.pattern)

    @property
    def parameters(self) -> list[str]:
        return [match["name"] for match in PARAMETER.finditer(self.pattern)]


def routes() -> list[Route]:
    return sorted(_walk(get_resolver().url_patterns, "", ()), key=lambda route: route.name)


def _walk(patterns: list[object], prefix: str, namespaces: tuple[str, ...]) -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            # The language prefix of the default language is empty.
            pattern = "" if isinstance(entry.pattern, LocalePrefixPattern) else str(entry.pattern)
            namespace = (entry.namespace,) if entry.namespace else ()
            yield from _walk(entry.url_patterns, prefix + pattern, namespaces + namespace)
        elif isinstance(entry, URLPattern):
            pattern = str(entry.pattern)
            if pattern.startswith("^"):  # a regex route (the admin's app index, say)
                pattern = _regex_as_route(pattern)
            # An unnamed route (a few of the admin's) is known by its pattern.
            name = entry.name or f"<{prefix + pattern}>"
            yield Route(":".join((*namespaces, name)), prefix + pattern)


def _regex_as_route(regex: str) -> str:
    """The admin writes a few routes as regexes: ``^(?P<app_label>auth|...)/$``."""
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", regex)
    return route.lstrip("^").rstrip("$").replace("\\", "")
