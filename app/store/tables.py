"""The tables as the code reads and writes them (app/store/migrations/ makes them so)."""

from sqlalchemy import Boolean, Column, Float, Integer, LargeBinary, MetaData, Table, Text

metadata = MetaData()

# --- branch `feedback`: agents' feedback, scripts shown per day, the gaps log

feedback = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", Text, nullable=False),  # ISO 8601 UTC to the second: text order is time order
    Column("query", Text, nullable=False),
    Column("script_id", Text, nullable=False),
    Column("signal", Text, nullable=False),  # up, down, copied
    Column("index_version", Text, nullable=False),
)
# One row per script and UTC day (YYYY-MM-DD): a count, not a row per search.
shown = Table(
    "shown", metadata,
    Column("day", Text, primary_key=True),
    Column("script_id", Text, primary_key=True),
    Column("count", Integer, nullable=False),
)
# Queries normalised and masked (app/feedback/mask.py) before they get here, with the query's
# embedding (float32 bytes) by the model named, for grouping without the model.
gaps = Table(
    "gaps", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", Text, nullable=False),
    Column("query", Text, nullable=False),
    Column("level", Text, nullable=False),  # weak, none
    Column("model", Text),
    Column("vector", LargeBinary),
)

# --- branch `admin`: scripts edited in place, scenarios added, the change record, jobs

scripts = Table(
    "scripts", metadata,
    Column("id", Text, primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("edited", Integer, nullable=False, default=0),  # 1: `published` stands for the corpus's script of this id
    Column("published", Text),  # JSON; NULL with edited = 1: deleted
    Column("draft", Text),  # JSON; NULL: no draft
    Column("draft_deletes", Integer, nullable=False, default=0),
)
scenarios = Table(
    "scenarios", metadata,
    Column("id", Text, primary_key=True),
    Column("record", Text, nullable=False),
    Column("position", Integer),  # the order they were added in
)
changes = Table(
    "changes", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", Text, nullable=False),
    Column("who", Text, nullable=False),
    Column("kind", Text, nullable=False),  # publish, revert, scenario
    Column("target", Text, nullable=False),
    Column("before", Text),
    Column("after", Text),
)
jobs = Table(
    "jobs", metadata,
    Column("id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("done", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("version", Text),
    Column("up_to_date", Boolean, nullable=False),
    Column("error", Text),
    Column("created", Text, nullable=False),
    Column("finished", Text),
    Column("heartbeat", Float, nullable=False),  # seconds since the epoch when the running process last said so
)
