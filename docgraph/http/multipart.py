"""A pull-style reader of a streaming multipart/form-data body.

python-multipart's push parser is fed one network chunk at a time; its callbacks only queue
events, and `MultipartReader` hands out parts one by one, each with an async iterator over its
data. Nothing is buffered beyond the chunk being parsed and no temporary file is written
(Starlette's form parser does both), so a file part can be piped straight into storage.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

MAX_PART_HEADERS = 16 * 1024


class MalformedBody(Exception):
    """The body is not valid multipart/form-data."""


class BodyTooLarge(Exception):
    """The body is longer than the reader's limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body exceeds {limit} bytes")
        self.limit = limit


@dataclass
class Part:
    name: str
    file_name: str | None
    content_type: str | None
    reader: MultipartReader

    @property
    def is_file(self) -> bool:
        return self.file_name is not None

    def data(self) -> AsyncIterator[bytes]:
        """The part's bytes, chunk by chunk (once)."""
        return self.reader._part_data(self)

    async def read(self, limit: int) -> bytes:
        """The whole part, for small fields; MalformedBody beyond `limit` bytes."""
        out = bytearray()
        async for chunk in self.data():
            out += chunk
            if len(out) > limit:
                raise MalformedBody(f"the field {self.name!r} exceeds {limit} bytes")
        return bytes(out)


def boundary_of(content_type: str) -> bytes:
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise MalformedBody("expected multipart/form-data with a boundary")
    return boundary


class MultipartReader:
    def __init__(self, body: AsyncIterable[bytes], content_type: str, *, max_body_size: int) -> None:
        self._body = aiter(body)
        self._max_body_size = max_body_size
        self.received = 0
        self._events: deque[tuple[str, bytes]] = deque()
        self._finished = False  # the body is exhausted
        self._ended = False     # the parser saw the closing boundary
        self._current: Part | None = None
        self._current_done = True

        def queue(kind: str):
            return lambda data=b"", start=0, end=0: self._events.append((kind, data[start:end]))

        def end() -> None:
            self._ended = True

        self._parser = MultipartParser(boundary_of(content_type), callbacks={
            "on_part_begin": queue("begin"),
            "on_header_field": queue("field"),
            "on_header_value": queue("value"),
            "on_header_end": queue("header_end"),
            "on_headers_finished": queue("headers_done"),
            "on_part_data": queue("data"),
            "on_part_end": queue("end"),
            "on_end": end,
        })

    async def _event(self) -> tuple[str, bytes] | None:
        """The next parser event, reading more of the body as needed; None at the end."""
        while not self._events:
            if self._finished:
                return None
            try:
                chunk = await anext(self._body)
            except StopAsyncIteration:
                self._finished = True
                self._parser.finalize()
                continue
            self.received += len(chunk)
            if self.received > self._max_body_size:
                raise BodyTooLarge(self._max_body_size)
            try:
                self._parser.write(chunk)
            except MultipartParseError as exc:
                raise MalformedBody(str(exc)) from exc
        return self._events.popleft()

    async def next_part(self) -> Part | None:
        """The next part, with its headers read; None after the last one. Unread data of the
        previous part is skipped."""
        if not self._current_done and self._current is not None:
            async for _ in self._part_data(self._current):
                pass
        event = await self._event()
        if event is None:
            if not self._ended:
                raise MalformedBody("the body ended before the closing boundary")
            return None
        if event[0] != "begin":
            raise MalformedBody("unexpected data between parts")
        headers: dict[str, str] = {}
        field, value, size = bytearray(), bytearray(), 0
        while (event := await self._event()) is not None and event[0] != "headers_done":
            kind, data = event
            size += len(data)
            if size > MAX_PART_HEADERS:
                raise MalformedBody("part headers too large")
            if kind == "field":
                field += data
            elif kind == "value":
                value += data
            elif kind == "header_end":
                # Latin-1 keeps every byte as one character; names are decoded from the bytes below.
                headers[field.decode("latin-1").lower()] = value.decode("latin-1")
                field, value = bytearray(), bytearray()
        if event is None:
            raise MalformedBody("the body ended inside part headers")
        _, options = parse_options_header(headers.get("content-disposition", ""))
        name = options.get(b"name")
        if name is None:
            raise MalformedBody("a part has no name")
        file_name = options.get(b"filename")
        self._current = Part(
            name=_text(name),
            file_name=_text(file_name) if file_name is not None else None,
            content_type=headers.get("content-type"),
            reader=self,
        )
        self._current_done = False
        return self._current

    async def _part_data(self, part: Part) -> AsyncIterator[bytes]:
        if part is not self._current or self._current_done:
            raise RuntimeError("a part's data can be read once, before the next part")
        while (event := await self._event()) is not None:
            kind, data = event
            if kind == "data":
                if data:
                    yield data
            elif kind == "end":
                self._current_done = True
                return
            else:
                raise MalformedBody("unexpected event inside a part")
        raise MalformedBody("the body ended inside a part")


def _text(raw: bytes) -> str:
    """Browsers send names as raw UTF-8 (RFC 7578 §4.2); anything else is taken as Latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
