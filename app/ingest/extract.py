"""Text out of uploaded files: .txt, .md, .jsonl, .docx and .pdf.

Every failure is a clear, user-facing error: an unsupported type (the upload is refused with
415) or content that does not match its extension or cannot be parsed (422).
"""

import io
import zipfile
from pathlib import PurePath

SUPPORTED = (".txt", ".md", ".jsonl", ".docx", ".pdf")


class UnsupportedFile(ValueError):
    pass


class UnreadableFile(ValueError):
    pass


def extension(filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()
    if suffix not in SUPPORTED:
        raise UnsupportedFile(f"unsupported file type {suffix or '(none)'!r}; accepted: {', '.join(SUPPORTED)}")
    return suffix


def extract_text(filename: str, content: bytes) -> str:
    """The document's text; raises UnsupportedFile or UnreadableFile."""
    suffix = extension(filename)
    if suffix == ".pdf":
        return _pdf(content)
    if suffix == ".docx":
        return _docx(content)
    return _plain(content)


def _plain(content: bytes) -> str:
    if b"\x00" in content:
        raise UnreadableFile("the file is binary, not text")
    for encoding in ("utf-8-sig", "gb18030"):  # Chinese documents often come in GB18030
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("the text is neither UTF-8 nor GB18030")


def _pdf(content: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not content.startswith(b"%PDF-"):
        raise UnreadableFile("the file is not a PDF")
    try:
        reader = PdfReader(io.BytesIO(content))
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError) as e:
        raise UnreadableFile(f"the PDF cannot be read: {e}") from None
    if not text.strip():
        raise UnreadableFile("the PDF has no extractable text (a scan needs OCR first)")
    return text


def _docx(content: bytes) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise UnreadableFile("the file is not a .docx document")
    try:
        document = docx.Document(io.BytesIO(content))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as e:
        raise UnreadableFile(f"the .docx document cannot be read: {e}") from None
    return "\n".join(p.text for p in document.paragraphs)
