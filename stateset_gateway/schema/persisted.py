"""Which document a /graphql request runs, when it names one instead of (or beside) sending its text:
automatic persisted queries (Apollo's protocol) and trusted documents.

Automatic persisted queries: a client sends `extensions.persistedQuery = {"version": 1, "sha256Hash":
<hex SHA-256 of the text>}` without the text. A hash the gateway has not seen answers
`PersistedQueryNotFound` (the message Apollo Client and urql look for), and the client sends the
request again with the text and the hash; the gateway checks that they match, runs it, and keeps the
text under its hash. Kept in Redis when `APP__REDIS_URL` is set (every instance sees what any of them
was sent; a day at most, renewed by nothing but a new registration), else in process within
`[cache] max_size_mb`. Only valid documents are kept, and an unreachable Redis is a miss: the client
then sends the text, which runs.

Trusted documents: with `[graphql] trusted_documents = "manifest.json"`, only the operations of that
manifest run, named by hash (the APQ extension, or `documentId` as graphql-codegen's client preset and
the GraphQL-over-HTTP persisted documents appendix send it, with or without its `sha256:` prefix) or
sent as text equal to one of them. Anything else is refused before it is parsed. The manifest is the
file graphql-codegen (`persistedDocuments: true`) or Relay (`persistConfig`) writes, an object from
hash to document, or Apollo's persisted query manifest (`"format": "apollo-persisted-query-manifest"`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from graphql import OperationDefinitionNode, parse
from redis.asyncio import Redis

from stateset_gateway import errors
from stateset_gateway.caches import ENTRY_OVERHEAD_BYTES, SizedLRU

log = logging.getLogger("stateset_gateway.graphql")

REDIS_PREFIX = "stateset:apq:"
REDIS_TTL_SECONDS = 24 * 3600
APOLLO_FORMAT = "apollo-persisted-query-manifest"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class PersistedQueryNotFound(errors.DomainError):
    """A hash the gateway holds no text for: the client sends the text with it (Apollo Client and urql
    recognise the message and do so by themselves)."""

    code = errors.ErrorCode.NOT_FOUND
    status = 404
    default_message = "PersistedQueryNotFound"


class UntrustedDocument(errors.DomainError):
    """Trusted-documents mode: the operation is not in the manifest, so it does not run."""

    code = errors.ErrorCode.VALIDATION_ERROR
    status = 400
    default_message = ("Operation not trusted: this server runs only the operations of its trusted documents "
                       "manifest; send one of them (by documentId, persistedQuery hash or its exact text)")


def _invalid(name: str, message: str) -> errors.ValidationFailed:
    return errors.ValidationFailed({name: [message]}, f"{name}: {message}")


class Named(NamedTuple):  # a tuple: made on every request, and cheaper to make than a frozen dataclass
    """What a request says about its document: its text, and the id it names it by (a SHA-256 for
    APQ, a manifest's key for `documentId`)."""

    text: str | None
    id: str | None = None
    apq: bool = False


def named_document(query: Any, extensions: Mapping[str, Any] | None, document_id: Any) -> Named:
    """The document a request's parameters name, checked for shape (GraphQL-over-HTTP and Apollo's
    protocol); raises ValidationFailed for malformed ones."""
    text = query if isinstance(query, str) and query and not query.isspace() else None
    if query is not None and text is None:
        raise _invalid("query", "must be a non-empty string")
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is not None:
        if not isinstance(persisted, Mapping) or persisted.get("version") != 1:
            raise _invalid("extensions.persistedQuery", "must be {\"version\": 1, \"sha256Hash\": <hex SHA-256>}")
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest.lower()):
            raise _invalid("extensions.persistedQuery.sha256Hash", "must be 64 hexadecimal digits (SHA-256)")
        digest = digest.lower()
        if text is not None and sha256_hex(text) != digest:
            raise _invalid("extensions.persistedQuery.sha256Hash", "does not match the SHA-256 of the query")
        return Named(text, digest, apq=True)
    if document_id is not None:
        if not isinstance(document_id, str) or not document_id.strip():
            raise _invalid("documentId", "must be a non-empty string")
        return Named(text, document_id.removeprefix("sha256:"))
    if text is None:
        raise _invalid("query", "must be a non-empty string (or name a persisted document)")
    return Named(text)


class PersistedQueries:
    """The APQ store: Redis when there is one (shared by instances), else an LRU in this process."""

    def __init__(self, local: SizedLRU[str, str], max_text_length: int) -> None:
        self.local = local
        self.max_text_length = max_text_length

    async def get(self, redis: Redis | None, digest: str) -> str | None:
        if redis is None:
            return self.local.get(digest)
        try:
            found = await redis.get(REDIS_PREFIX + digest)
        except Exception:  # noqa: BLE001: a miss; the client sends the text, which runs
            log.warning("persisted queries: Redis unreachable, answered as a miss", exc_info=True)
            return None
        return found.decode() if isinstance(found, bytes) else found

    async def put(self, redis: Redis | None, digest: str, text: str) -> None:
        if len(text) > self.max_text_length:
            return
        if redis is None:
            self.local.put(digest, text, ENTRY_OVERHEAD_BYTES + len(text))
            return
        try:
            await redis.set(REDIS_PREFIX + digest, text, ex=REDIS_TTL_SECONDS)
        except Exception:  # noqa: BLE001: not kept; the next request with the hash alone is a miss
            log.warning("persisted queries: Redis unreachable, query not kept", exc_info=True)


class TrustedDocuments:
    """The manifest's documents, by id and by text."""

    def __init__(self, by_id: Mapping[str, str]) -> None:
        self.by_id = dict(by_id)
        self.texts = frozenset(text.strip() for text in self.by_id.values())

    @classmethod
    def load(cls, path: str | Path) -> TrustedDocuments:
        return cls(read_manifest(path))

    def get(self, document_id: str) -> str | None:
        return self.by_id.get(document_id)

    def trusts(self, text: str) -> bool:
        """Whether the text is one of the manifest's documents (the whitespace around it aside)."""
        return text.strip() in self.texts


def read_manifest(path: str | Path) -> dict[str, str]:
    """A manifest's id -> document, from either format; a file that is neither is refused, naming it."""
    source = Path(path)
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"trusted documents manifest {source} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"trusted documents manifest {source} is not readable JSON: {exc}") from None
    if isinstance(raw, dict) and raw.get("format") == APOLLO_FORMAT:
        operations = raw.get("operations")
        if not isinstance(operations, list) or not all(
                isinstance(o, dict) and isinstance(o.get("id"), str) and isinstance(o.get("body"), str)
                for o in operations):
            raise ValueError(f"trusted documents manifest {source}: operations must be a list of {{id, body}}")
        return {o["id"]: o["body"] for o in operations}
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise ValueError(f"trusted documents manifest {source} must map each hash to its document's text "
                         f"(graphql-codegen, Relay) or be an {APOLLO_FORMAT}")
    return {key.removeprefix("sha256:"): text for key, text in raw.items()}


def trust(path: str | Path, texts: Iterable[str]) -> list[str]:
    """Add documents to the manifest at `path` (made when missing), keyed by their SHA-256, keeping its
    format; returns the ids added (those not already in it)."""
    source = Path(path)
    raw: Any = {}
    if source.exists():
        read_manifest(source)  # refuses a file of another shape before anything is written to it
        raw = json.loads(source.read_text(encoding="utf-8"))
    added: list[str] = []
    for text in (t.strip() for t in texts):
        digest = sha256_hex(text)
        if isinstance(raw, dict) and raw.get("format") == APOLLO_FORMAT:
            if any(o["id"] == digest for o in raw["operations"]):
                continue
            raw["operations"].append({"id": digest, "body": text, **_apollo_name_and_type(text)})
        elif digest in raw or f"sha256:{digest}" in raw:
            continue
        else:
            raw[digest] = text
        added.append(digest)
    source.write_text(json.dumps(raw, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return added


def _apollo_name_and_type(text: str) -> dict[str, str]:
    """The `name` and `type` Apollo's manifest lists beside each operation's body."""
    operations = [d for d in parse(text).definitions if isinstance(d, OperationDefinitionNode)]
    first = operations[0] if operations else None
    return {"name": first.name.value if first is not None and first.name else "",
            "type": first.operation.value if first is not None else "query"}
