"""Share links: the owner makes, sees and revokes `/s/<token>`; anyone with it reads the result.

- `POST /api/jobs/{id}/share` (owner; optional `{"expiresInHours": n}`) -> the link;
- `GET /api/jobs/{id}/share` (owner) -> the live link, or null;
- `DELETE /api/jobs/{id}/share` (owner) -> 204, the link stops working at once;
- `GET /s/<token>` -> the read-only result page (no key needed), or a Russian 404 page;
- `GET /api/shared/<token>` -> what that page reads: the job and a short-lived access token
  for that one job (GET only, `?access=`), so every keyframe, video and download request of the
  page is bound to the shared job.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from reels_scripter.api.deps import OwnedJobDep, OwnerDep, Services, ServicesDep
from reels_scripter.api.endpoints.studio import serve_page
from reels_scripter.api.errors import (
    ApiError,
    JobNotFoundError,
    NotCompletedError,
    UnauthorizedError,
    error_responses,
)
from reels_scripter.api.schemas import JobDetail
from reels_scripter.api.signed_urls import ACCESS_PARAM, UrlSigner, signing_secret
from reels_scripter.shares.models import Share
from reels_scripter.shares.service import MAX_EXPIRY_HOURS, ShareService
from reels_scripter.texts import SHARE_GONE_PAGE

router = APIRouter(tags=["shares"])

SHARE_PAGE = "share.html"
# An open share page renews its access token this often (it reads /api/shared/<token> again),
# so a revoked link stops reading within this time even in a tab left open.
SHARE_ACCESS_TTL_SEC = 5 * 60


class ShareNotFoundError(ApiError, code="share_not_found", http_status=404):
    """No live share link: revoked, expired, never made, or its job is gone."""


class InvalidShareRequestError(ApiError, code="validation_error", http_status=422):
    """The body is not `{"expiresInHours": n}` with 0 < n <= 8760."""


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ShareRequest(_Camel):
    expires_in_hours: float | None = Field(None, gt=0, le=MAX_EXPIRY_HOURS)


class ShareLink(_Camel):
    token: str
    path: str = Field(description="/s/<token>: the read-only result page.")
    url: str = Field(description="The same, absolute (PUBLIC_URL or the request's address).")
    created_at: datetime
    expires_at: datetime | None = Field(None, description="null: until revoked.")


class SharedAccess(_Camel):
    token: str
    expires_at: int
    param: str


class SharedView(_Camel):
    job: dict[str, Any] = Field(description="The job as GET /api/jobs/{id} shows it.")
    access: SharedAccess | None = Field(
        None, description="null when the server has no API keys (every read is open then)."
    )


def _link(share: Share, request: Request, services: Services) -> ShareLink:
    base = (services.settings.public_url or str(request.base_url)).rstrip("/")
    path = f"/s/{share.token}"
    return ShareLink(
        token=share.token,
        path=path,
        url=f"{base}{path}",
        created_at=share.created_at,
        expires_at=share.expires_at,
    )


_OWNER_ERRORS = error_responses(JobNotFoundError, UnauthorizedError, ShareNotFoundError)


@router.post(
    "/api/jobs/{job_id}/share",
    response_model=ShareLink,
    response_model_by_alias=True,
    responses=error_responses(
        JobNotFoundError, UnauthorizedError, NotCompletedError, InvalidShareRequestError
    ),
    summary="Make (or show) the read-only share link of a finished job",
)
async def create_share(
    request: Request, job: OwnedJobDep, owner: OwnerDep, services: ServicesDep
) -> ShareLink:
    """Optional JSON body `{"expiresInHours": n}`; without it the link lives until revoked.
    One live link per job: asking again returns it (or replaces it when an expiry is given)."""
    wanted = await _share_request(request)
    if job.state != "completed" or job.result is None:
        raise NotCompletedError()
    with services.sessions() as session:
        share = ShareService(session).create(job, owner, wanted.expires_in_hours)
        return _link(share, request, services)


async def _share_request(request: Request) -> ShareRequest:
    body = await request.body()
    if not body.strip():
        return ShareRequest()
    try:
        return ShareRequest.model_validate(json.loads(body))
    except (ValueError, ValidationError):
        raise InvalidShareRequestError() from None


@router.get(
    "/api/jobs/{job_id}/share",
    response_model=ShareLink | None,
    response_model_by_alias=True,
    responses=error_responses(JobNotFoundError, UnauthorizedError),
    summary="The job's live share link (null when it has none)",
)
def get_share(
    request: Request, job: OwnedJobDep, owner: OwnerDep, services: ServicesDep
) -> ShareLink | None:
    with services.sessions() as session:
        share = ShareService(session).current(job.id, owner)
        return _link(share, request, services) if share is not None else None


@router.delete(
    "/api/jobs/{job_id}/share",
    status_code=204,
    responses=_OWNER_ERRORS,
    summary="Revoke the job's share link (it answers 404 from now on)",
)
def revoke_share(job: OwnedJobDep, owner: OwnerDep, services: ServicesDep) -> Response:
    with services.sessions() as session:
        if not ShareService(session).revoke(job.id, owner):
            raise ShareNotFoundError()
    return Response(status_code=204)


@router.get(
    "/api/shared/{token}",
    response_model=SharedView,
    response_model_by_alias=True,
    responses=error_responses(ShareNotFoundError),
    summary="A shared result, read with its link's token (no API key)",
)
def read_shared(token: str, services: ServicesDep) -> SharedView:
    with services.sessions() as session:
        opened = ShareService(session).open(token)
        if opened is None:
            raise ShareNotFoundError()
        job = opened.job
        # the current result: the creator's newest script, as the owner sees it
        current = services.script_service(session).current(job)
        detail = JobDetail.with_result(job, services.settings.target_language, current)
    # the owner's webhook and history are not the visitor's business
    body = detail.model_dump(by_alias=True, mode="json", exclude={"webhook"})
    access = None
    if services.api_keys.enabled:
        signer = UrlSigner(signing_secret(services.settings), ttl_sec=SHARE_ACCESS_TTL_SEC)
        signed, expires = signer.mint(job.id, job.owner)
        access = SharedAccess(token=signed, expires_at=expires, param=ACCESS_PARAM)
    return SharedView(job=body, access=access)


@router.get("/s/{token}", include_in_schema=False)
def share_page(token: str, request: Request, services: ServicesDep) -> Response:
    """The result page, read-only; a Russian 404 page once the link is revoked or expired."""
    with services.sessions() as session:
        opened = ShareService(session).open(token)
    if opened is None:
        return _gone_page()
    response = serve_page(request, SHARE_PAGE)
    # the address holds the secret: never cached by a shared cache, never sent as a Referer
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _gone_page() -> Response:
    t = {key: html.escape(value) for key, value in SHARE_GONE_PAGE.items()}
    body = (
        '<!doctype html><html lang="ru"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{t['title']}</title>"
        '<link rel="stylesheet" href="/studio/app.css"></head>'
        '<body><main id="main" class="main"><section class="panel">'
        f"<h1>{t['heading']}</h1><p>{t['text']}</p>"
        "</section></main></body></html>"
    )
    return Response(
        body,
        status_code=404,
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
