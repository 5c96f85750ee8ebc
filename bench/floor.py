"""The floor under item 1: what executing the folder page's GraphQL costs in this stack when
there is nothing else to do.

A Strawberry schema of the same shape as the page (a folder, its ancestors, a connection of 50
documents, each with current version, creator and permissions) answers from objects already
in memory: no database, no HTTP, no access checks, plain attributes only. The CPU time of
`schema.execute` for the page's query is then the least any Strawberry + graphql-core server
can spend on that page; it bounds how close docgraph can come to PostGraphile, which compiles
the whole query into one SQL statement and runs no per-field Python.

    python -m bench.floor [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from typing import Any

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from .pages import DOCGRAPH_QUERY, PAGE_SIZE


@strawberry.type
class Version:
    version_number: int
    file_size: int
    content_hash: str


@strawberry.type
class Person:
    email: str


@strawberry.type
class Permissions:
    can_view: bool
    can_update: bool
    can_delete: bool


@strawberry.type
class Document:
    id: strawberry.ID
    name: str
    current_version: Version
    created_by: Person
    my_permissions: Permissions


@strawberry.type
class DocumentEdge:
    node: Document


@strawberry.type
class DocumentConnection:
    total_count: int
    edges: list[DocumentEdge]


@strawberry.type
class Ancestor:
    id: strawberry.ID
    name: str


@strawberry.type
class Folder:
    name: str
    ancestors: list[Ancestor]
    all_documents: strawberry.Private[list[Document]]

    @strawberry.field
    def documents(self, first: int) -> DocumentConnection:
        return DocumentConnection(total_count=len(self.all_documents),
                                  edges=[DocumentEdge(node=d) for d in self.all_documents[:first]])


def _folder() -> Folder:
    documents = [
        Document(id=strawberry.ID(str(uuid.uuid4())), name=f"document {n:03}.pdf",
                 current_version=Version(version_number=2, file_size=1000 + n, content_hash="ab" * 32),
                 created_by=Person(email=f"user{n % 7}@example.com"),
                 my_permissions=Permissions(can_view=True, can_update=False, can_delete=False))
        for n in range(150)
    ]
    ancestors = [Ancestor(id=strawberry.ID(str(uuid.uuid4())), name=f"level {n}") for n in range(10)]
    return Folder(name="hot folder", ancestors=ancestors, all_documents=documents)


FOLDER = _folder()


@strawberry.type
class Query:
    @strawberry.field
    def folder(self, id: strawberry.ID) -> Folder:
        return FOLDER


async def measure(runs: int = 300) -> dict[str, Any]:
    # Parsing and validation are cached, as in docgraph: what remains is execution.
    schema = strawberry.Schema(query=Query, extensions=[ParserCache, ValidationCache])
    variables = {"id": "any", "first": PAGE_SIZE}
    for _ in range(20):
        result = await schema.execute(DOCGRAPH_QUERY, variable_values=variables, operation_name="FolderPage")
        assert result.errors is None, result.errors
    started = time.process_time()
    for _ in range(runs):
        await schema.execute(DOCGRAPH_QUERY, variable_values=variables, operation_name="FolderPage")
    per_page = (time.process_time() - started) / runs * 1000
    return {
        "status": "ok", "runs": runs, "documents": PAGE_SIZE,
        "cpu_ms_per_page": round(per_page, 2),
        "pages_per_second_per_core": round(1000 / per_page, 1),
        "method": "Strawberry schema of the page's shape answering from memory (plain attributes, no I/O), "
                  "parser and validation caches on; process CPU time of schema.execute per page",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="CPU floor of executing the folder page in Strawberry")
    parser.add_argument("--runs", type=int, default=300)
    print(json.dumps(asyncio.run(measure(parser.parse_args().runs)), indent=1))


if __name__ == "__main__":
    main()
