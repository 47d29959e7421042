"""PostgreSQL, the store several careerbot processes share: the same tables and queries as SQLite
(careerbot.curation.schema, careerbot.curation.store), through psycopg's connection pool, plus what
sharing needs:

- a change to the knowledge is decided by the database: recording it takes a lock on its entry, and is
  refused (RevisionConflict) if another process recorded a change to that entry that this process has not
  applied yet; so two moderators in two processes never both succeed from the same version;
- a finished change gets the next number in one order every process applies changes in (`published`,
  given under a lock, so numbers are committed in order) and wakes the other processes (NOTIFY);
- which published change each process's knowledge folder is at (`applied`, per node);
- the retention sweep runs in one process at a time (an advisory lock), not once per process.

When the database goes away (a restart, the network), the pool reconnects by itself. Meanwhile members'
questions and votes wait up to `wait_seconds` for it, then are kept in the process
(careerbot.curation.pending) and written, in order and with their own times, by the next record that
reaches the database or by the follower when it reconnects (the answer is given all the same);
everything else raises DatabaseUnavailable, so a moderator's change is refused.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from careerbot.curation.pending import Pending, Question, Vote
from careerbot.curation.schema import NewerSchema, bring_up_to_date
from careerbot.curation.store import (
    FEEDBACK_INSERT,
    QUESTION_INSERT,
    REVISION_COLUMNS,
    REVISION_INSERT,
    Asked,
    DatabaseUnavailable,
    Revision,
    Row,
    Store,
    StoreError,
    purge_statements,
)

log = logging.getLogger(__name__)

CHANNEL = "careerbot_revisions"  # NOTIFY: a change was published
# Advisory lock keys (any bigint; these spell "cb" and a number).
SCHEMA_LOCK, PUBLISH_LOCK, PURGE_LOCK = 0x6362_0001, 0x6362_0002, 0x6362_0003
CONNECT_SECONDS = 5  # how long start-up waits for the server before saying it cannot connect
RECONNECT_SECONDS = 5.0


class RevisionConflict(Exception):
    """Another process recorded a change to the entry that this one has not applied: `head` is it."""

    def __init__(self, head: Revision) -> None:
        self.head = head
        super().__init__(
            f"entry {head.entry_id!r} was changed by {head.moderator_name} (revision #{head.id})"
        )


def redacted(url: str) -> str:
    """The URL with its password (if any) replaced by ***, for messages and logs."""
    url = re.sub(r"(://[^:/@?]*):[^@/?]*@", r"\1:***@", url)
    return re.sub(r"(password=)[^&\s]*", r"\1***", url)


def scrubbed(error: BaseException, url: str) -> str:
    """psycopg's message, one line, without the URL's password even if the server echoed it."""
    text = " ".join(str(error).split())
    try:
        password = psycopg.conninfo.conninfo_to_dict(url).get("password")
    except psycopg.Error:  # a malformed URL: its password is whatever follows user:
        password = match[1] if (match := re.search(r"://[^:/@?]*:([^@/?]*)@", url)) else None
    return text.replace(str(password), "***") if password else text


class PostgresDatabase:
    """Runs statements through a pool of connections; each call is one transaction."""

    def __init__(self, url: str, wait_seconds: float) -> None:
        self.url = url
        try:
            with psycopg.connect(url, connect_timeout=CONNECT_SECONDS) as connection:
                _bring_up_to_date(connection)
        except psycopg.Error as error:  # including a malformed URL
            raise StoreError(
                f"cannot use the database {redacted(url)}: {scrubbed(error, url)} "
                "(check [storage] database in bot.toml, or CAREERBOT_DATABASE_URL)"
            ) from None
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=4,
            timeout=wait_seconds,
            check=ConnectionPool.check_connection,  # a connection the server dropped is replaced, not used
            kwargs={"connect_timeout": CONNECT_SECONDS},
            # Each try to reconnect backs off (1 s, 2 s, 4 s...): given up after this long, the next
            # request starts again at once, so a server back after a long outage is used within seconds.
            reconnect_timeout=RECONNECT_SECONDS,
            open=True,
        )

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def transaction(self, wait_seconds: float | None = None) -> Iterator[psycopg.Connection[Row]]:
        """A connection in a transaction, committed when the block ends (rolled back on an error).
        DatabaseUnavailable when the server cannot be reached."""
        try:
            with self._pool.connection(timeout=wait_seconds) as connection:
                yield connection
        except psycopg.OperationalError as error:  # includes the pool's timeout
            raise DatabaseUnavailable(f"the database is unavailable ({scrubbed(error, self.url)})") from None

    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        with self.transaction() as connection:
            return connection.execute(_numbered(sql), parameters).fetchall()

    def change(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        with self.transaction() as connection:
            cursor = connection.execute(_numbered(sql), parameters)
            return _count(cursor.fetchone() if "RETURNING" in sql else None, cursor.rowcount)

    def change_all(self, statements: Sequence[tuple[str, Sequence[Any]]], counted: int = 2) -> int:
        with self.transaction() as connection:
            counts = [connection.execute(_numbered(sql), p).rowcount for sql, p in statements]
        return counts[counted]

    def listener(self) -> psycopg.Connection[Row]:
        """A connection of its own (not the pool's), listening for published changes."""
        try:
            connection = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_SECONDS)
            connection.execute(f"LISTEN {CHANNEL}")
        except psycopg.OperationalError as error:
            raise DatabaseUnavailable(f"the database is unavailable ({scrubbed(error, self.url)})") from None
        return connection


def _numbered(sql: str) -> str:
    """The store's queries use `?` (SQLite's style); psycopg's is %s."""
    return sql.replace("?", "%s")


def _count(returned: Row | None, rowcount: int) -> int:
    return int(returned[0]) if returned is not None else rowcount


def _bring_up_to_date(connection: psycopg.Connection[Row]) -> None:
    """Creates what is missing, under a lock so processes starting together do it once."""

    def run(statement: str) -> Any:
        cursor = connection.execute(statement)
        row = cursor.fetchone() if cursor.description else None
        return row[0] if row else None

    def columns(table: str) -> set[str]:
        query = "SELECT column_name FROM information_schema.columns WHERE table_name = %s"
        return {row[0] for row in connection.execute(query, (table,))}

    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        try:
            bring_up_to_date("postgresql", run, columns)
        except NewerSchema as newer:
            raise StoreError(str(newer)) from None


class PostgresStore(Store):
    """The store on PostgreSQL, for the process whose knowledge folder is `node` (host and path)."""

    finish_unwritten = False

    def __init__(self, url: str, node: str, wait_seconds: float = 2.0) -> None:
        self._pg = PostgresDatabase(url, wait_seconds)
        self._db = self._pg
        self.node = node
        self._abandoned: set[int] = set()  # changes refused while the database was away: drop when back
        self._on_close: list[Callable[[], None]] = []
        self._pending = Pending()
        self._pending_lock = threading.Lock()  # the queue's order is the database's order

    def on_close(self, stop: Callable[[], None]) -> None:
        """Background work on this store (careerbot.curation.propagation), stopped before it closes."""
        self._on_close.append(stop)

    def close(self) -> None:
        for stop in reversed(self._on_close):
            stop()
        self._pg.close()

    def listener(self) -> psycopg.Connection[Row]:
        return self._pg.listener()

    def record_question(
        self, question: str, answer_id: str | None, score: float, abstained: bool, channel_kind: str
    ) -> int:
        """The question's id; a provisional (negative) one while the database is away and it is queued."""
        asked_at = time.time()
        with self._pending_lock:
            try:
                with self._pg.transaction() as connection:
                    self._write_pending(connection)
                    row = connection.execute(
                        _numbered(QUESTION_INSERT),
                        (asked_at, question, answer_id, score, int(abstained), channel_kind),
                    ).fetchone()
                    return int(row[0]) if row else 0
            except DatabaseUnavailable as error:
                self._log_queueing(error)
                return self._pending.question(asked_at, question, answer_id, score, abstained, channel_kind)

    def asked(self, asked_id: int) -> Asked | None:
        """Also a question still queued, or written since, by its provisional id."""
        with self._pending_lock:
            real_id = self._pending.real_id(asked_id)
            if real_id is None:
                return self._pending.queued(asked_id)
        return super().asked(real_id)

    def record_feedback(self, asked_id: int, answer_id: str, helpful: bool) -> None:
        given_at = time.time()
        with self._pending_lock:
            real_id = self._pending.real_id(asked_id)
            try:
                if real_id is None:  # its question is still queued: the vote waits behind it
                    raise DatabaseUnavailable("its question is not written yet")
                with self._pg.transaction() as connection:
                    self._write_pending(connection)
                    connection.execute(
                        _numbered(FEEDBACK_INSERT), (given_at, real_id, answer_id, int(helpful))
                    )
            except DatabaseUnavailable as error:
                self._log_queueing(error)
                self._pending.vote(given_at, asked_id, answer_id, helpful)

    def write_pending(self) -> int:
        """Writes what was queued while the database was away (the follower calls it on reconnecting):
        how many questions and votes; 0 if the database is still away."""
        with self._pending_lock:
            if not self._pending:
                return 0
            try:
                with self._pg.transaction() as connection:
                    return self._write_pending(connection)
            except DatabaseUnavailable:
                return 0

    def _write_pending(self, connection: psycopg.Connection[Row]) -> int:
        """In the caller's transaction, so a failure writes none of them and they stay queued."""
        items = list(self._pending.items)
        real_ids: dict[int, int] = {}
        for item in items:
            if isinstance(item, Question):
                row = connection.execute(
                    _numbered(QUESTION_INSERT),
                    (
                        item.asked_at,
                        item.question,
                        item.answer_id,
                        item.score,
                        int(item.abstained),
                        item.channel_kind,
                    ),
                ).fetchone()
                real_ids[item.provisional_id] = int(row[0]) if row else 0
            elif isinstance(item, Vote):
                real_id = real_ids.get(item.asked_id) or self._pending.real_id(item.asked_id)
                if real_id is None:  # its question was dropped from a full queue
                    continue
                connection.execute(
                    _numbered(FEEDBACK_INSERT), (item.given_at, real_id, item.answer_id, int(item.helpful))
                )
        if items:
            connection.commit()
            self._pending.written(len(items), real_ids)
            log.info("wrote %d questions and votes kept while the database was away", len(items))
        return len(items)

    def _log_queueing(self, error: DatabaseUnavailable) -> None:
        if not self._pending:
            log.warning("keeping questions and votes until the database answers: %s", error)

    def _record_revision(self, entry_id: str, values: tuple[Any, ...]) -> int:
        """Records the change unless another process recorded one to the same entry that this process
        has not applied (RevisionConflict): the entry's lock makes the check and the insert one step."""
        with self._pg.transaction() as connection:
            self._drop_abandoned(connection)
            connection.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"entry {entry_id}",)
            )
            head = connection.execute(
                f"SELECT {REVISION_COLUMNS} FROM revisions WHERE entry_id = %s ORDER BY id DESC LIMIT 1",
                (entry_id,),
            ).fetchone()
            if head is not None and head[0] != self._seen_head(connection, entry_id):
                raise RevisionConflict(Revision(*head))
            row = connection.execute(_numbered(REVISION_INSERT), (*values, self.node)).fetchone()
            return int(row[0]) if row else 0

    def _seen_head(self, connection: psycopg.Connection[Row], entry_id: str) -> int | None:
        """The entry's newest change this process's folder has: applied here, or made here."""
        row = connection.execute(
            "SELECT MAX(id) FROM revisions WHERE entry_id = %s AND done = 1 AND (origin = %s"
            " OR published <= (SELECT published FROM applied WHERE node = %s))",
            (entry_id, self.node, self.node),
        ).fetchone()
        return row[0] if row else None

    def finish_revision(self, revision_id: int) -> None:
        """Done, given the next published number (under a lock, so numbers commit in order), and the
        other processes woken."""
        with self._pg.transaction() as connection:
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (PUBLISH_LOCK,))
            connection.execute(
                "UPDATE revisions SET done = 1,"
                " published = (SELECT COALESCE(MAX(published), 0) + 1 FROM revisions)"
                " WHERE id = %s AND done = 0",
                (revision_id,),
            )
            connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(revision_id)))

    def drop_revision(self, revision_id: int) -> None:
        try:
            super().drop_revision(revision_id)
        except DatabaseUnavailable:  # dropped with the next change recorded
            self._abandoned.add(revision_id)

    def _drop_abandoned(self, connection: psycopg.Connection[Row]) -> None:
        if self._abandoned:
            connection.execute(
                "DELETE FROM revisions WHERE id = ANY(%s) AND done = 0", (sorted(self._abandoned),)
            )
            self._abandoned.clear()

    def unfinished_revisions(self) -> list[Revision]:
        """This process's changes recorded and not marked done (other processes' are theirs to finish)."""
        rows = self._pg.rows(
            f"SELECT {REVISION_COLUMNS} FROM revisions WHERE done = 0 AND origin = ? ORDER BY id",
            (self.node,),
        )
        return [Revision(*row) for row in rows]

    def published_since(self, published: int) -> list[tuple[int, Revision]]:
        """Every change published after `published`, in order, with its number."""
        rows = self._pg.rows(
            f"SELECT published, {REVISION_COLUMNS} FROM revisions WHERE published > ? ORDER BY published",
            (published,),
        )
        return [(int(row[0]), Revision(*row[1:])) for row in rows]

    def applied_mark(self) -> int:
        """The published change this process's folder is at (0: none yet)."""
        rows = self._pg.rows("SELECT published FROM applied WHERE node = ?", (self.node,))
        return int(rows[0][0]) if rows else 0

    def mark_applied(self, published: int) -> None:
        self._pg.change(
            "INSERT INTO applied (node, published) VALUES (?, ?) ON CONFLICT (node)"
            " DO UPDATE SET published = GREATEST(applied.published, EXCLUDED.published)",
            (self.node, published),
        )

    def purge(self, older_than_days: float) -> int:
        """Once across processes: a process that finds another one sweeping skips (returns 0)."""
        with self._pg.transaction() as connection:
            row = connection.execute("SELECT pg_try_advisory_xact_lock(%s)", (PURGE_LOCK,)).fetchone()
            if not (row and row[0]):
                return 0
            counts = [
                connection.execute(_numbered(sql), p).rowcount for sql, p in purge_statements(older_than_days)
            ]
        return counts[2]
