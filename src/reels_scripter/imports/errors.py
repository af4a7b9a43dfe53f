"""Why a link could not be imported. Each code is stable; what a person reads is in `texts`.

Refusals of the link itself (its form, where it points) are 422 at `POST /api/import`; the
rest happen in the worker, where they fail the job with the same codes.
"""

from __future__ import annotations

from reels_scripter.errors import AppError


class LinkError(AppError, code="link_unsupported", http_status=422):
    """A link we cannot import; retrying the same link will not help unless `transient`."""


class LinkInvalidError(LinkError, code="link_invalid"):
    """Not an http(s) URL with a host (file://, javascript:, garbage)."""


class LinkForbiddenError(LinkError, code="link_forbidden"):
    """The link (or a redirect) leads to a loopback, private, link-local or reserved address."""


class LinkUnsupportedError(LinkError, code="link_unsupported"):
    """No video the downloader can take at that address."""


class LinkLoginRequiredError(LinkError, code="link_login_required"):
    """Private, age-gated, or the site wants a login (IMPORT_COOKIES_FILE helps operators)."""


class LinkNotFoundError(LinkError, code="link_not_found"): ...


class LinkTooLongError(LinkError, code="link_too_long"): ...


class LinkTooLargeError(LinkError, code="link_too_large", http_status=413): ...


class LinkTimeoutError(LinkError, code="link_timeout", transient=True): ...


class LinkUnreachableError(LinkError, code="link_unreachable", transient=True):
    """The site does not resolve, refuses the connection, or answers with a server error."""


LINK_ERRORS: tuple[type[LinkError], ...] = (
    LinkInvalidError,
    LinkForbiddenError,
    LinkUnsupportedError,
    LinkLoginRequiredError,
    LinkNotFoundError,
    LinkTooLongError,
    LinkTooLargeError,
    LinkTimeoutError,
    LinkUnreachableError,
)
