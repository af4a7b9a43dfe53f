"""Why a link could not be imported. Each code is stable; what a person reads is in `texts`.

Refusals of the link itself (its form, where it points) are 422 at `POST /api/import`; the
rest happen in the worker, where they fail the job with the same codes.
"""

from __future__ import annotations

from reels_scripter.errors import AppError


class LinkError(AppError):
    """A link we cannot import; retrying the same link will not help unless `transient`."""

    code = "link_unsupported"
    http_status = 422


class LinkInvalidError(LinkError):
    """Not an http(s) URL with a host (file://, javascript:, garbage)."""

    code = "link_invalid"


class LinkForbiddenError(LinkError):
    """The link (or a redirect) leads to a loopback, private, link-local or reserved address."""

    code = "link_forbidden"


class LinkUnsupportedError(LinkError):
    """No video the downloader can take at that address."""

    code = "link_unsupported"


class LinkLoginRequiredError(LinkError):
    """Private, age-gated, or the site wants a login (IMPORT_COOKIES_FILE helps operators)."""

    code = "link_login_required"


class LinkNotFoundError(LinkError):
    code = "link_not_found"


class LinkTooLongError(LinkError):
    code = "link_too_long"


class LinkTooLargeError(LinkError):
    code = "link_too_large"
    http_status = 413


class LinkTimeoutError(LinkError):
    code = "link_timeout"
    transient = True


class LinkUnreachableError(LinkError):
    """The site does not resolve, refuses the connection, or answers with a server error."""

    code = "link_unreachable"
    transient = True


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
