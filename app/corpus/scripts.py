"""Scripts (话术): the schema of corpus/scripts/*.jsonl and its validation.

The same validation serves the index build and scripts uploaded later, so a bad record is
reported with its file, line and id before anything is built from it.
"""

import json
import re
from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, computed_field, field_validator

from app.core.errors import Invalid
from app.corpus.statutes import ArticleRef, json_problem, validation_problems


class ScriptSource(BaseModel):
    document: str | None
    section: str | None = None
    origin: Literal["quoted", "adapted", "authored"]


Channel = Literal["phone", "counter", "online"]
CHANNELS: tuple[Channel, ...] = ("phone", "counter", "online")
CHANNEL_NAMES = {"phone": "电话", "counter": "柜台", "online": "在线"}

# A fact the agent fills in is a named slot, `{金额}`; stand-ins an agent would have to read
# aloud or guess at (……, ××, XX, 某某, ___) are not allowed in what the agent says.
SLOT = re.compile(r"\{([\u4e00-\u9fff]{1,8})\}")
PLACEHOLDER = re.compile(r"…|[×xX＊*]{2,}|某某|[_＿]{2,}|[{}｛｝]")


def slot_names(text: str) -> list[str]:
    """The named slots of a script text, in order of first appearance."""
    return list(dict.fromkeys(SLOT.findall(text)))


class Script(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9-]+/[a-z0-9-]+$")
    title: str = Field(min_length=1)
    scenarios: list[str] = Field(min_length=1)
    technique: str = Field(min_length=1)
    situation: str = Field(min_length=1)
    text: str = Field(min_length=1)
    notes: str | None = None
    citations: list[ArticleRef] = []
    channels: list[Channel] = Field(min_length=1, description="Where the script can be said as written.")
    source: ScriptSource

    @field_validator("title", "technique", "situation", "text")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("text")
    @classmethod
    def no_placeholders(cls, value: str) -> str:
        stand_in = PLACEHOLDER.search(SLOT.sub("", value))
        if stand_in:
            raise ValueError(
                f"has the placeholder {stand_in.group()!r}: write the words, or a named slot such as {{金额}} "
                "(1 to 8 Chinese characters in ASCII braces) for a fact the agent fills in"
            )
        return value

    @field_validator("channels")
    @classmethod
    def channels_once(cls, value: list[str]) -> list[str]:
        return [c for c in CHANNELS if c in value]

    @computed_field
    @property
    def slots(self) -> list[str]:
        """The named slots the agent fills in, in order of appearance."""
        return slot_names(self.text)


class ScriptError(Invalid):
    """A script record that cannot be indexed; the message names where it is."""


def parse_scripts(lines: list[str], origin: str, scenario_ids: set[str]) -> list[Script]:
    """Parse and validate JSONL lines; `origin` names the file in messages. Citations are checked
    once the whole corpus is read (app/corpus/loader.py): an upload may cite another."""
    return [script for _, script in _parse(lines, origin, scenario_ids)]


def _parse(lines: list[str], origin: str, scenario_ids: set[str]) -> Iterator[tuple[str, Script]]:
    """Each script with where it is: file, line and id."""
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{origin} line {line_no}"
        try:
            script = Script.model_validate(json.loads(line))
        except ValidationError as e:
            raise ScriptError(f"{where}: {validation_problems(e)}") from None
        except (ValueError, RecursionError) as e:
            raise ScriptError(f"{where}: not valid JSON ({json_problem(e)})") from None
        where = f"{where} ({script.id})"
        unknown = [s for s in script.scenarios if s not in scenario_ids]
        if unknown:
            raise ScriptError(f"{where}: unknown scenario id(s) {', '.join(unknown)}")
        yield where, script


def load_scripts(files: list[tuple[str, list[str]]], scenario_ids: set[str]) -> list[tuple[str, Script]]:
    """The scripts of several files, given as (origin, lines), each id once across all of them;
    every script with where it is (file, line and id)."""
    scripts: list[tuple[str, Script]] = []
    seen: dict[str, str] = {}
    for origin, lines in files:
        for where, script in _parse(lines, origin, scenario_ids):
            if script.id in seen:
                raise ScriptError(f"{origin}: duplicate script id {script.id} (first in {seen[script.id]})")
            seen[script.id] = origin
            scripts.append((where, script))
    return scripts
