"""The script of a finished job as the creator edits it: read a version, edit rows in place,
give rows back the AI's texts. Each edit is a new version; version 1 stays the AI's."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel

from reels_scripter.api.deps import CompletedJobDep, ScriptServiceDep, Services, ServicesDep
from reels_scripter.api.errors import (
    JobNotFoundError,
    NotCompletedError,
    ScriptVersionNotFoundError,
    UnauthorizedError,
    error_responses,
)
from reels_scripter.api.schemas import ScriptVersionResponse
from reels_scripter.contract import AnalysisResult
from reels_scripter.jobs import keyframes
from reels_scripter.jobs.script_edit import (
    EmptyEditError,
    RowNotFoundError,
    RowRepeatedError,
    RowUnchangedError,
    ScriptEditError,
    ScriptPatch,
    ScriptRestore,
    TextTooLongError,
)
from reels_scripter.jobs.script_service import ScriptEditConflictError

router = APIRouter(prefix="/api", tags=["script"])

_READ_ERRORS = error_responses(
    JobNotFoundError, UnauthorizedError, NotCompletedError, ScriptVersionNotFoundError
)
_EDIT_ERRORS = error_responses(
    JobNotFoundError,
    UnauthorizedError,
    NotCompletedError,
    ScriptEditConflictError,
    ScriptEditError,
    EmptyEditError,
    RowNotFoundError,
    RowRepeatedError,
    RowUnchangedError,
    TextTooLongError,
)


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its `$defs` written in place, for `openapi_extra` (where
    a `#/$defs/...` reference would point at the OpenAPI document's root)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    result: dict[str, Any] = walk(schema)
    return result


def _body(model: type[BaseModel], required: bool) -> dict[str, Any]:
    # The body is read as plain JSON and checked by the service, which answers every
    # mistake with its own Russian reason; the schema is documented here all the same.
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": _inline(model.model_json_schema())}},
        }
    }


@router.get(
    "/jobs/{job_id}/script",
    response_model=ScriptVersionResponse,
    responses=_READ_ERRORS,
    summary="A version of the script: the current one, or `?version=1` for the AI's",
)
def get_script(
    job: CompletedJobDep,
    scripts: ScriptServiceDep,
    version: Annotated[
        int | None,
        Query(ge=1, le=1_000_000, description="1: the AI's script; left out: the current one."),
    ] = None,
) -> ScriptVersionResponse:
    view = scripts.version(job, version)
    if view is None:
        raise ScriptVersionNotFoundError(params={"version": version})
    return ScriptVersionResponse.model_validate(
        {
            "version": view.version,
            "latestVersion": view.latest_version,
            "edited": view.edited,
            "script": view.script,
        }
    )


@router.patch(
    "/jobs/{job_id}/script",
    response_model=AnalysisResult,
    responses=_EDIT_ERRORS,
    openapi_extra=_body(ScriptPatch, required=True),
    summary="Edit rows of the script (a new version); answers the current result",
)
def patch_script(
    job: CompletedJobDep,
    scripts: ScriptServiceDep,
    services: ServicesDep,
    body: Annotated[Any, Body(include_in_schema=False)] = None,
) -> dict[str, Any]:
    return _new_version(scripts.edit(job, body), job.id, services)


@router.post(
    "/jobs/{job_id}/script/restore",
    response_model=AnalysisResult,
    responses=_EDIT_ERRORS,
    openapi_extra=_body(ScriptRestore, required=False),
    summary="Give rows the AI's texts back (a new version); answers the current result",
)
def restore_script(
    job: CompletedJobDep,
    scripts: ScriptServiceDep,
    services: ServicesDep,
    body: Annotated[Any, Body(include_in_schema=False)] = None,
) -> dict[str, Any]:
    return _new_version(scripts.restore(job, body), job.id, services)


def _new_version(result: dict[str, Any], job_id: str, services: Services) -> dict[str, Any]:
    """The result a new script version made, as the API shows it; the cached status of the
    job is dropped so that a poll sees the new version too."""
    services.status_reader.invalidate(job_id)
    shown = keyframes.with_urls(result, job_id)
    assert shown is not None
    return shown
