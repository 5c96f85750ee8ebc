"""Access control: DESIGN's evaluation, in SQL, batched.

- `evaluate(session, actor, keys)`: the evaluation for many resources in ONE statement.
- `require(session, principal, kind, id, capability)`: NOT_FOUND / FORBIDDEN for services.
- `access_of(db, principal, keys)`, `visible_rows_of(...)`: the evaluation as reads, for the API's loaders.
- `visible_*_ids(actor, ...)`: SQL filters "what U may VIEW" for listings.
- `explain(session, actor, kind, id)`: the decision per capability and the rule behind it.
"""

from .checks import check, require
from .evaluation import (
    ACTOR_PARAMETERS,
    access_select,
    actor_values,
    document_resources,
    evaluate,
    folder_resources,
    live_grants_for,
    subjects_of,
    to_access,
)
from .explain import Decision, Explanation, Reason, explain
from .model import (
    CAPABILITIES,
    CAPABILITY_COLUMNS,
    CEILINGS,
    DOCUMENT,
    FOLDER,
    Access,
    Actor,
    Capability,
    ResourceKey,
    Rule,
    roles_allowing,
)
from .reads import access_of, visible_rows_of
from .visibility import (
    visible_document_ids,
    visible_documents_access,
    visible_folder_ids,
    visible_ids,
    visible_resource_ids,
)

__all__ = [
    "ACTOR_PARAMETERS", "CAPABILITIES", "CAPABILITY_COLUMNS", "CEILINGS", "DOCUMENT", "FOLDER", "Access", "Actor",
    "Capability", "Decision", "Explanation", "Reason", "ResourceKey", "Rule", "access_of", "access_select",
    "actor_values", "check", "document_resources", "evaluate", "explain", "folder_resources", "live_grants_for",
    "require", "roles_allowing", "subjects_of", "to_access", "visible_document_ids",
    "visible_documents_access", "visible_folder_ids", "visible_ids", "visible_resource_ids", "visible_rows_of",
]
