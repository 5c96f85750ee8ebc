"""POST /graphql with multipart/form-data: the GraphQL multipart request spec, streamed.

https://github.com/jaydenseric/graphql-multipart-request-spec: the `operations` field (the
request's JSON), then `map` (file field → variable paths), then the files. Each file is piped
from the request body into a STAGING object of the caller's organization while it is hashed and
sampled (constant memory, no temporary file); the operation then runs with each `Upload`
variable set to the `NewContent` describing the staged file. Use cases promote what they keep;
whatever is still in staging after the operation is deleted before the response goes out.

Limits: a file may not pass the organization's per-document limit (the stream is cut as soon
as it does), the body may not pass that limit plus `max_request_bytes` (for operations, map and
framing), and `map` may name at most `max_upload_files` files (each is staged with an fsync):
PAYLOAD_TOO_LARGE, 413, nothing left in storage.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from cross_web import HTTPException
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData

from ..errors import PayloadTooLarge, Unauthenticated
from ..http.multipart import BodyTooLarge, MalformedBody, MultipartReader
from ..http.responses import error_response
from ..process import Services
from ..services.content import NewContent, content_policy, discard_staged, stage_stream
from ..services.validation import declared_content_type
from ..storage import StorageError
from .context import Context

log = logging.getLogger("docgraph.uploads")


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


async def handle_multipart(view: GraphQL[Context, None], services: Services, scope: Any, receive: Any,
                           send: Any) -> None:
    request = Request(scope, receive)
    sub_response = await view.get_sub_response(request)
    context = None
    staged: list[NewContent] = []
    try:
        context = await view.get_context(request, sub_response)
        request_data = await _receive(services, request, context, staged, view.decode_json)
        response = await _execute(view, request, request_data, context, sub_response)
    except _Refused as refusal:
        response = refusal.response
    except ClientDisconnect:  # nobody to answer; the partial file is gone with the failed write
        return
    except Exception:
        log.exception("multipart request failed (request %s)", getattr(context, "request_id", None))
        response = error_response(500, "INTERNAL_SERVER_ERROR", "Internal server error",
                                  requestId=getattr(context, "request_id", None))
    finally:
        # Shielded: a client that hangs up must not leave staged files behind.
        await asyncio.shield(discard_staged(services.storage, *staged))
    await response(scope, receive, send)


async def _receive(services: Services, request: Request, context: Context, staged: list[NewContent],
                   decode_json: Callable[[bytes], Any]) -> GraphQLRequestData:
    principal = context.principal_or_none
    if principal is None or principal.organization_id is None:
        error = context.auth_error or Unauthenticated("Uploads need an access token for an organization")
        if not isinstance(error, Unauthenticated):  # e.g. the database is down: the token may be fine
            raise _Refused(error_response(503, error.code, error.message))
        raise _Refused(error_response(401, error.code, error.message, headers={"WWW-Authenticate": "Bearer"}))
    try:
        policy = await content_policy(services.db, principal.organization_id)
    except (SQLAlchemyError, OSError):
        log.exception("could not read the upload policy (request %s)", context.request_id)
        raise _Refused(error_response(503, "INTERNAL_SERVER_ERROR",
                                      "The service is temporarily unavailable; try again")) from None
    max_body = policy.max_document_size + services.settings.max_request_bytes
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_body:
        raise _Refused(_too_large(max_body))
    try:
        reader = MultipartReader(request.stream(), request.headers.get("content-type", ""), max_body_size=max_body)
        operations = await _json_field(decode_json, reader, "operations", services.settings.max_request_bytes)
        files_map = await _json_field(decode_json, reader, "map", services.settings.max_request_bytes)
        _check_shapes(operations, files_map)
        if len(files_map) > services.settings.max_upload_files:  # before any file is staged
            raise _Refused(error_response(
                413, PayloadTooLarge.code, f"At most {services.settings.max_upload_files} files per request",
                maxFiles=services.settings.max_upload_files))
        files: dict[str, NewContent] = {}
        while (part := await reader.next_part()) is not None:
            if part.name not in files_map or not part.is_file or part.name in files:
                raise MalformedBody(f"unexpected part {part.name!r}: every file must be listed in map, once")
            content = await stage_stream(
                services.storage, principal.organization_id, part.data(), max_size=policy.max_document_size,
                content_type=declared_content_type(part.content_type, part.file_name), file_name=part.file_name)
            staged.append(content)
            files[part.name] = content
        if missing := sorted(set(files_map) - set(files)):
            raise MalformedBody(f"file(s) missing in form data: {', '.join(missing)}")
        for name, paths in files_map.items():
            for path in paths:
                _place(operations, path, files[name])
    except (MalformedBody, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _Refused(error_response(400, "BAD_USER_INPUT", f"Malformed multipart request: {exc}")) from None
    except BodyTooLarge as exc:
        raise _Refused(_too_large(exc.limit)) from None
    except PayloadTooLarge as exc:
        raise _Refused(error_response(413, exc.code, exc.message, **exc.extensions)) from None
    except StorageError:
        log.exception("storage failed while receiving an upload")
        raise _Refused(error_response(503, "INTERNAL_SERVER_ERROR", "Storage is unavailable; try again")) from None
    return GraphQLRequestData(query=operations.get("query"), variables=operations.get("variables"),
                              operation_name=operations.get("operationName"),
                              extensions=operations.get("extensions"))


async def _execute(view: GraphQL[Context, None], request: Request, request_data: GraphQLRequestData,
                   context: Context, sub_response: Any) -> Response:
    """Run the operation as Strawberry's view would, then shape its response."""
    try:
        result = await view.execute_single(
            request=request, request_adapter=view.request_adapter_class(request), sub_response=sub_response,
            context=context, root_value=None, request_data=request_data)
    except HTTPException as exc:
        return error_response(exc.status_code, "BAD_USER_INPUT", exc.reason)
    return view.create_response(await view.process_result(request, result), sub_response)


def _too_large(limit: int) -> Response:
    return error_response(413, PayloadTooLarge.code, f"The request body may be at most {limit} bytes", maxSize=limit)


async def _json_field(decode_json: Callable[[bytes], Any], reader: MultipartReader, name: str, limit: int) -> Any:
    part = await reader.next_part()
    if part is None or part.name != name or part.is_file:
        raise MalformedBody("the fields operations and map must come first, in that order")
    return decode_json(await part.read(limit))  # the view's: JSONDecodeError when too deep, like a JSON body


def _check_shapes(operations: Any, files_map: Any) -> None:
    if isinstance(operations, list):
        raise MalformedBody("batched operations are not supported")
    if not isinstance(operations, dict):
        raise MalformedBody("operations must be a JSON object")
    if not isinstance(files_map, dict) or not all(
            isinstance(paths, list) and paths and all(isinstance(p, str) for p in paths)
            for paths in files_map.values()):
        raise MalformedBody('map must be an object like {"0": ["variables.file"]}')


def _place(operations: dict[str, Any], path: str, value: NewContent) -> None:
    """Set `value` at a dotted path ("variables.input.file", "variables.files.0") whose
    current value is null, as the spec requires."""
    *parents, last = path.split(".")
    target: Any = operations
    try:
        for segment in parents:
            target = target[int(segment)] if isinstance(target, list) else target[segment]
        key: Any = int(last) if isinstance(target, list) else last
        if target[key] is not None:
            raise MalformedBody(f"map path {path!r} must point at a null placeholder")
        target[key] = value
    except (KeyError, IndexError, ValueError, TypeError):
        raise MalformedBody(f"map path {path!r} does not exist in operations") from None

