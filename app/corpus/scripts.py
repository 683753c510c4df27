"""Scripts (话术): the schema of corpus/scripts/*.jsonl and its validation.

The same validation serves the index build and scripts uploaded later, so a bad record is
reported with its file, line and id before anything is built from it.
"""

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, computed_field, field_validator

from app.corpus.statutes import ArticleRef, StatuteBook, UnknownStatute, json_problem


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


class ScriptError(ValueError):
    """A script record that cannot be indexed; the message names where it is."""


def parse_scripts(lines: list[str], origin: str, scenario_ids: set[str], book: StatuteBook) -> list[Script]:
    """Parse and validate JSONL lines; `origin` names the file in messages."""
    scripts = []
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{origin} line {line_no}"
        try:
            script = Script.model_validate(json.loads(line))
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'record'}: {err['msg']}" for err in e.errors())
            raise ScriptError(f"{where}: {problems}") from None
        except ValueError as e:
            raise ScriptError(f"{where}: not valid JSON ({json_problem(e)})") from None
        where = f"{where} ({script.id})"
        unknown = [s for s in script.scenarios if s not in scenario_ids]
        if unknown:
            raise ScriptError(f"{where}: unknown scenario id(s) {', '.join(unknown)}")
        for ref in script.citations:
            try:
                book.get(ref.law, ref.article_no)
            except UnknownStatute as e:
                raise ScriptError(f"{where}: citation does not resolve: {e}") from None
        scripts.append(script)
    return scripts


def load_scripts(scripts_dir: Path, scenario_ids: set[str], book: StatuteBook) -> list[Script]:
    scripts: list[Script] = []
    seen: dict[str, str] = {}
    for path in sorted(scripts_dir.glob("*.jsonl")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for script in parse_scripts(lines, path.name, scenario_ids, book):
            if script.id in seen:
                raise ScriptError(f"{path.name}: duplicate script id {script.id} (first in {seen[script.id]})")
            seen[script.id] = path.name
            scripts.append(script)
    return scripts
