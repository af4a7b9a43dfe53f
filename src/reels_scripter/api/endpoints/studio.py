"""The studio: the Russian single-page front end at `/`, its static files, and the two small
API calls it needs besides the job routes (public limits, per-job access tokens).

The page's files live in the package (`reels_scripter/web/static`), are plain ES modules and
CSS with no build step, and are served from a fixed list read at start-up, so no request
path ever reaches the file system (see web.assets: hashed links, gzip, caching).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from reels_scripter.analysis.sniff import MIME_TYPES
from reels_scripter.api.deps import OwnedJobDep, OwnerDep, ServicesDep
from reels_scripter.api.endpoints.uploads import FIELD
from reels_scripter.api.errors import (
    JobNotFoundError,
    NotFoundError,
    UnauthorizedError,
    error_responses,
)
from reels_scripter.api.signed_urls import ACCESS_PARAM
from reels_scripter.texts import STUDIO_PAGE
from reels_scripter.web.assets import PAGE, VERSION_PARAM, load_assets

router = APIRouter()

STATIC_PREFIX = "/studio/"
# What the page lets a person pick; the server still decides by content (see analysis.sniff).
ACCEPTED_EXTENSIONS = (".mp4", ".m4v", ".mov", ".webm", ".mkv")
# The page loads only its own files and is never framed.
_PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; "
    "media-src 'self' blob:; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
}
# A versioned URL (`?v=` the file's hash) never changes meaning; anything else is revalidated.
_FOREVER = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"

STATIC = load_assets(STUDIO_PAGE)


def _accepts_gzip(request: Request) -> bool:
    for part in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*") and params.replace(" ", "") not in (
            "q=0",
            "q=0.0",
        ):
            return True
    return False


def _serve(request: Request, name: str) -> Response:
    item = STATIC.get(name)
    if item is None:
        raise NotFoundError()
    versioned = request.query_params.get(VERSION_PARAM) == item.version
    zipped = item.gzipped is not None and _accepts_gzip(request)
    etag = item.gzip_etag if zipped else item.etag
    headers = {
        **_PAGE_HEADERS,
        "ETag": etag,
        "Cache-Control": _FOREVER if versioned else _REVALIDATE,
        "Vary": "Accept-Encoding",
    }
    asked = [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]
    if etag in asked or "*" in asked:
        return Response(status_code=304, headers=headers)
    if zipped and item.gzipped is not None:
        headers["Content-Encoding"] = "gzip"
        return Response(item.gzipped, media_type=item.media_type, headers=headers)
    return Response(item.body, media_type=item.media_type, headers=headers)


def serve_page(request: Request, name: str) -> Response:
    """One of the packaged pages (the studio, the share page), with the page headers."""
    return _serve(request, name)


@router.get("/", include_in_schema=False)
def studio_page(request: Request) -> Response:
    return _serve(request, PAGE)


@router.get(STATIC_PREFIX + "{name}", include_in_schema=False)
def studio_file(name: str, request: Request) -> Response:
    return _serve(request, name)


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class PublicConfig(_Camel):
    """What a front end needs to know before it talks to the API (no key needed)."""

    max_file_size_mb: int
    max_file_size_bytes: int
    max_video_duration_sec: float
    accepted_types: list[str]
    accepted_extensions: list[str]
    upload_field: str
    api_keys_required: bool
    access_param: str
    access_token_ttl_sec: int


@router.get(
    "/api/config",
    response_model=PublicConfig,
    response_model_by_alias=True,
    tags=["studio"],
    summary="Upload limits and whether API keys are on (public: the page reads it first)",
)
async def public_config(services: ServicesDep) -> PublicConfig:
    settings = services.settings
    return PublicConfig(
        max_file_size_mb=settings.max_file_size_mb,
        max_file_size_bytes=settings.max_file_size_bytes,
        max_video_duration_sec=settings.max_video_duration_sec,
        accepted_types=sorted(set(MIME_TYPES.values())),
        accepted_extensions=list(ACCEPTED_EXTENSIONS),
        upload_field=FIELD,
        api_keys_required=services.api_keys.enabled,
        access_param=ACCESS_PARAM,
        access_token_ttl_sec=services.url_signer.ttl_sec,
    )


class AccessToken(_Camel):
    token: str
    expires_at: int
    param: str


_ACCESS_ERRORS = error_responses(JobNotFoundError, UnauthorizedError)


@router.post(
    "/api/jobs/{job_id}/access",
    response_model=AccessToken,
    response_model_by_alias=True,
    responses=_ACCESS_ERRORS,
    tags=["studio"],
    summary="A short-lived token for reading one job from <img>, <video> and EventSource",
)
def job_access_token(job: OwnedJobDep, owner: OwnerDep, services: ServicesDep) -> AccessToken:
    """Append `?access=<token>` to this job's GET URLs (events, keyframes, video, downloads):
    browsers cannot send the API key header there. Needs the key itself: a token only
    reads, so it cannot mint another."""
    token, expires = services.url_signer.mint(job.id, owner)
    return AccessToken(token=token, expires_at=expires, param=ACCESS_PARAM)
