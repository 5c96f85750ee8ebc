"""The app's own file endpoints, used when the storage cannot presign (filesystem backend).

GET|HEAD /files/<token>: a version's bytes. The token was signed when downloadUrl was issued
(that is where access was checked, the download counted and audited); it is bound to the version
and expires after minutes. Single byte ranges are served (206, 416 when unsatisfiable); a
multi-range request gets the whole file (RFC 9110 lets a server ignore Range).

PUT /uploads/<session id>/parts/<n>?token=...: one part of an upload session, streamed to
storage; sending a part again replaces it. The ETag header of the answer names the part.
"""

from __future__ import annotations

import re
import uuid

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ..errors import DocgraphError
from ..services import downloads, uploads
from ..storage import content_disposition
from . import links
from .responses import error_response
from .signing import BadToken

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_STATUS = {"NOT_FOUND": 404, "BAD_USER_INPUT": 400, "CONFLICT": 409, "PAYLOAD_TOO_LARGE": 413, "FORBIDDEN": 403}


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) of a single satisfiable range, None to serve everything; ValueError when
    the range cannot be satisfied."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match[1] and not match[2]):
        return None  # multiple or malformed ranges: ignored
    if not match[1]:  # suffix: the last N bytes
        length = int(match[2])
        if length == 0 or size == 0:
            raise ValueError("unsatisfiable")
        return max(size - length, 0), size - 1
    first = int(match[1])
    if first >= size:
        raise ValueError("unsatisfiable")
    last = min(int(match[2]), size - 1) if match[2] else size - 1
    if last < first:
        return None  # invalid (e.g. bytes=9-3): ignored
    return first, last


async def download(request: Request) -> Response:
    services = request.app.state.services
    try:
        claims = links.signer(services.settings).verify(links.FILE_LINK, request.path_params["token"])
        file = await downloads.file_for_link(services.db, uuid.UUID(claims["v"]))
    except (BadToken, KeyError, ValueError, DocgraphError):
        return Response("This link is invalid or has expired", status_code=404, media_type="text/plain")
    size = await services.storage.head(file.storage_key)
    if size is None:
        return Response("The file is not available", status_code=404, media_type="text/plain")
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(file.file_name),
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    try:
        wanted = byte_range(request.headers.get("range"), size)
    except ValueError:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    status, (first, last) = (200, (0, size - 1)) if wanted is None else (206, wanted)
    if status == 206:
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    headers["Content-Length"] = str(max(last - first + 1, 0))
    if request.method == "HEAD" or size == 0:
        return Response(status_code=status, headers=headers, media_type=file.content_type)
    return StreamingResponse(services.storage.open_range(file.storage_key, first, last), status_code=status,
                             headers=headers, media_type=file.content_type)


async def put_part(request: Request) -> Response:
    services = request.app.state.services
    try:
        session_id = uuid.UUID(request.path_params["session_id"])
        claims = links.signer(services.settings).verify(links.PART_LINK, request.query_params.get("token", ""))
        if claims.get("s") != str(session_id):
            raise BadToken("token for another upload")
        user_id = uuid.UUID(claims["u"])
    except (BadToken, KeyError, ValueError):
        return error_response(403, "FORBIDDEN", "This upload link is invalid or has expired")
    number = request.path_params["part_number"]
    try:
        etag = await uploads.receive_part(services.db, storage=services.storage, session_id=session_id,
                                          user_id=user_id, part_number=number, chunks=request.stream())
    except DocgraphError as exc:
        return error_response(_STATUS.get(exc.code, 400), exc.code, exc.message, **exc.extensions)
    except ClientDisconnect:  # the part was not stored; the client will send it again
        return Response(status_code=400)
    return JSONResponse({"partNumber": number, "etag": etag}, headers={"ETag": f'"{etag}"'})
