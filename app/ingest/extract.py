"""Text out of uploaded files: .txt, .md, .jsonl, .docx and .pdf.

Every failure is a clear, user-facing error: an unsupported type (the upload is refused with
415), content that does not match its extension or cannot be parsed (422), or content past one
of the `Limits` (413). A few KB of .docx or .pdf can unpack to hundreds of MB and minutes of
parsing, so what is decompressed, the text extracted and the time taken are all bounded
(docs/security.md, Uploads).
"""

import io
import re
import time
import zipfile
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import PurePath

from app.core.config import Settings
from app.core.errors import Invalid

SUPPORTED = (".txt", ".md", ".jsonl", ".docx", ".pdf")
# What a text that is not UTF-8 may be in: Chinese (mainland, Taiwan and Hong Kong) and Japanese.
LEGACY_ENCODINGS = ("gb18030", "big5", "cp932")
ENCODING_NAMES = {"gb18030": "GB18030", "big5": "Big5", "cp932": "Shift-JIS"}
# Below this many bytes outside ASCII, the legacy encodings cannot be told apart reliably.
MIN_BYTES_TO_DETECT = 16
_KANA = re.compile("[\u3040-\u30ff]")
# Tokens pypdf may parse in one content stream before the time limit is checked again (it parses
# a stream whole, some 200,000 tokens a second; a page of text has a few thousand).
PDF_STREAM_TOKENS = 500_000
_ASCII = bytes(range(128))


class UnsupportedFile(Invalid):
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE


class UnreadableFile(Invalid):
    pass


class TooLarge(UnreadableFile):
    """The content is past one of the Limits."""

    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


@dataclass(frozen=True)
class Limits:
    text_bytes: int
    unpacked_bytes: int
    seconds: float

    @classmethod
    def of(cls, settings: Settings) -> "Limits":
        return cls(settings.max_text_bytes, settings.max_unpacked_bytes, settings.max_extract_seconds)


class _Budget:
    """The Limits, spent while one file is read; each refusal names the setting to raise."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.deadline = time.monotonic() + limits.seconds
        self.unpacked = self.text = 0

    def tick(self, *_) -> None:
        """Called between zip parts, paragraphs, pages and PDF operators (pypdf passes it four arguments)."""
        if time.monotonic() > self.deadline:
            seconds = f"{self.limits.seconds:g} s"
            raise TooLarge(f"reading the text takes more than {seconds} (limit: HUASHU_MAX_EXTRACT_SECONDS)")

    def unpack(self, size: int, what: str) -> None:
        """`what` says what unpacks, as the start of the message."""
        self.unpacked += size
        if self.unpacked > self.limits.unpacked_bytes:
            limit = _size(self.limits.unpacked_bytes)
            raise TooLarge(f"{what} to more than {limit} (limit: HUASHU_MAX_UNPACKED_BYTES)")

    def add_text(self, text: str) -> None:
        self.text += len(text.encode("utf-8"))
        if self.text > self.limits.text_bytes:
            limit = _size(self.limits.text_bytes)
            raise TooLarge(f"the text is longer than {limit} in UTF-8 (limit: HUASHU_MAX_TEXT_BYTES)")


def _size(n: int) -> str:
    return f"{n / 2**20:g} MB" if n >= 2**20 else f"{n / 2**10:g} KB"


def extension(filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()
    if suffix not in SUPPORTED:
        raise UnsupportedFile(f"unsupported file type {suffix or '(none)'!r}; accepted: {', '.join(SUPPORTED)}")
    return suffix


def extract_text(filename: str, content: bytes, limits: Limits) -> str:
    """The document's text; raises UnsupportedFile, UnreadableFile or TooLarge."""
    suffix = extension(filename)
    budget = _Budget(limits)
    if suffix == ".pdf":
        return _pdf(content, budget)  # counts its text page by page
    text = _docx(content, budget) if suffix == ".docx" else _plain(content)
    budget.add_text(text)
    return text


def _plain(content: bytes) -> str:
    if b"\x00" in content:
        raise UnreadableFile("the file is binary, not text")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    encoding = _legacy_encoding(content)
    try:
        if encoding:
            return content.decode(encoding)
    except UnicodeDecodeError:  # the detector samples; a bad byte further on means it guessed
        pass
    names = ", ".join(ENCODING_NAMES.values())
    raise UnreadableFile(
        f"the text is not UTF-8 and its encoding cannot be told for sure (one of {names}?): "
        "save it as UTF-8 and upload it again"
    )


def _legacy_encoding(content: bytes) -> str | None:
    """GB18030, Big5 or Shift-JIS, or None when unsure. Each reads most bytes of the others as
    other characters (mojibake), so a reading is taken only when it is plainly the least messy."""
    from charset_normalizer import from_bytes

    if len(content.translate(None, _ASCII)) < MIN_BYTES_TO_DETECT:
        return None
    readings = sorted(
        (
            # threshold=1: keep every reading that decodes; the ranking decides. (A list of
            # short clauses, "（一）…；（二）…", is messy to the detector even when right.)
            match for match in from_bytes(content, cp_isolation=list(LEGACY_ENCODINGS), threshold=1.0)
            # Chinese read as Shift-JIS is kanji without kana; Japanese always has some kana.
            if match.encoding != "cp932" or _KANA.search(content.decode("cp932", errors="replace"))
        ),
        key=lambda match: match.chaos,
    )
    if not readings or any(other.chaos <= readings[0].chaos for other in readings[1:]):
        return None
    return readings[0].encoding


def _pdf(content: bytes, budget: _Budget) -> str:
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError

    if not content.startswith(b"%PDF-"):
        raise UnreadableFile("the file is not a PDF")
    pages = []
    try:
        with apply_configuration(stream_parsing_work_maximum_count=PDF_STREAM_TOKENS):
            for page in PdfReader(io.BytesIO(content)).pages:
                budget.tick()
                # Decompressed before parsing (pypdf keeps them for the extraction): one small stream
                # shared by every page is parsed once per page, so each page counts.
                budget.unpack(_content_size(page), "the PDF's pages unpack")
                text = page.extract_text(visitor_operand_before=budget.tick) or ""
                budget.add_text(text)
                pages.append(text)
    except UnreadableFile:
        raise
    except LimitReachedError as e:  # pypdf's own bounds on decompression and parsing
        raise TooLarge(f"the PDF is past a limit of the PDF reader: {e}") from None
    except Exception as e:  # pypdf warns that broken files can raise more than its own errors
        raise UnreadableFile(f"the PDF cannot be read: {e}") from None
    text = "\n".join(pages)
    if not text.strip():
        raise UnreadableFile("the PDF has no extractable text (a scan needs OCR first)")
    return text


def _content_size(page) -> int:
    from pypdf.generic import ArrayObject, StreamObject

    contents = page.get("/Contents")
    contents = contents.get_object() if contents is not None else []
    streams = [s.get_object() for s in (contents if isinstance(contents, ArrayObject) else [contents])]
    return sum(len(stream.get_data()) for stream in streams if isinstance(stream, StreamObject))


def _docx(content: bytes, budget: _Budget) -> str:
    import docx

    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise UnreadableFile("the file is not a .docx document")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            members = package.infolist()
            # The sizes the zip declares, checked before anything is inflated (python-docx reads
            # every part); zipfile never inflates past them (a lying size fails the CRC check).
            budget.unpack(sum(member.file_size for member in members), "the .docx document unpacks")
            for member in members:
                budget.tick()
                if _has_doctype(package.read(member)):
                    raise UnreadableFile(
                        f"the .docx document declares a DTD in {member.filename}, which Word never writes "
                        "(entities could expand without bound): save it again from Word"
                    )
        paragraphs = []
        for paragraph in docx.Document(io.BytesIO(content)).paragraphs:
            budget.tick()
            paragraphs.append(paragraph.text)
    except UnreadableFile:
        raise
    except Exception as e:  # zip and XML of any kind: not XML, a node past lxml's limits, ...
        raise UnreadableFile(f"the .docx document cannot be read: {e}") from None
    return "\n".join(paragraphs)


class _Stop(Exception):
    pass


class _Prolog:
    """An lxml parser target that reads a part only up to its root element, noting a DOCTYPE:
    the same parser as python-docx's, so it sees the DTD python-docx would (in any encoding)."""

    doctype_seen = False

    def doctype(self, *_) -> None:
        self.doctype_seen = True
        raise _Stop  # before its entity declarations are read

    def start(self, *_) -> None:
        raise _Stop  # a DOCTYPE only comes before the root element

    def close(self) -> None:
        pass


def _has_doctype(part: bytes) -> bool:
    from lxml import etree

    target = _Prolog()
    try:
        etree.fromstring(part, etree.XMLParser(target=target, resolve_entities=False, no_network=True))
    except (_Stop, etree.LxmlError):  # not XML (an image, say): python-docx does not parse it either
        pass
    return target.doctype_seen
