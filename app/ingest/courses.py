"""Course documents: clean the raw pages, split them into retrieval passages, write
corpus/courses/passages.jsonl.

The raw files are training material as saved from document-sharing and training sites:
site chrome around the text, a traditional-character conversion with pinyin left behind,
preview pages run together, slides flattened into one line. Everything here is
deterministic, so re-running the ingestion reproduces the committed passages byte for byte.
"""

import json
import math
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jieba
from pydantic import BaseModel, ConfigDict

from app.text.normalize import to_simplified

# Titles of the seed documents, by file-name prefix; other documents are titled from their text.
SEED_DOCUMENTS: dict[str, str] = {
    "000": "投诉管控模型（课程大纲）",
    "001": "投诉管理与处置技巧（投诉处理讲义3-1：案例分析）",
    "002": "客户投申诉处理技巧（联通客户经理服务规范）",
    "003": "厦门移动疑难投诉处理提升案（厦门客户响应中心）",
    "004": "在线客服服务流程规范及沟通技巧（课程大纲）",
}

MIN_CHARS = 80
MAX_CHARS = 600

_CJK = "\u4e00-\u9fff"
_NUM = "一二三四五六七八九十"

# --- cleaning -------------------------------------------------------------------------

# Pinyin a converter appended to characters, 培訓(xùn) or 培訓（xùn）. A tone mark is
# required, so real parentheticals such as (KAM) or (推荐) stay.
_PINYIN = re.compile(rf"(?<=[{_CJK}])[(（][a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*[)）]")
# Byte-garbled glyphs that no pattern can restore.
_GARBLED = {"?shù)臉?biāo)": "的標", "?yè)p": "損", "„„": "……"}

_BOILERPLATE = re.compile(
    "|".join(
        [
            # download-site notices and widgets
            r"本文档共\d+页",
            r"book118",
            r"本站所有内容均由",
            r"版权申诉",
            r"文档仅支持阅读",
            r"下载的内容跟在线预览",
            r"所有文档均不包含其他附件",
            r"^查看更多$",
            r"^\d+\*+\d+\s*\+\s*关注$",
            r"^实名认证$",
            r"^内容提供者$",
            r"^该用户很懒",
            r"VIP精品文档$",
            # training-site page chrome
            r"^当前位置[:：].*>",
            r"已有\d+家企业预约",
            r"课程内容可.{0,8}调整",
            rf"^[{_CJK}]{{2,8}}\s*[A-Za-z][A-Za-z ]{{3,}}$",  # bilingual headings: 课程描述INTRODUCTION
            r"^\S+\.(?:pptx?|docx?|pdf)$",  # the page's file name
            r'^["“”]+$',
        ]
    )
)
# Where a page footer starts; related documents and other courses with their lecturers follow.
_FOOTER = re.compile(r"^(?:转载[:：]|文档评论\(\d+\)|已开课时间|我要预约$|相关文档$)")

# Preview pages: "N、<page>" lines, each holding at least _PAGE_CHARS characters but the last.
_PAGE = re.compile(r"^(\d+)、(.+)$")
_PAGE_CHARS = 200
# Excerpt pages "N、“.....<text>......”。" leave gaps between them.
_EXCERPT = re.compile(r"^“\.{3,}(.*?)\.{3,}”。$")

# Slides extracted with "," between text boxes.
_BOX_TITLE = re.compile(rf"[{_CJK}、]{{2,14}}")
_DIVIDER = re.compile(rf"[{_CJK}]{{2,6}}的用户")  # the divider slide of a customer type
_BOX_END = re.compile(r"[。！？!?][”“\"]?$")
_WRAP = re.compile(rf"(?<=([{_CJK}])) (?=([{_CJK}]))")
_BOX_BREAK = re.compile(r"[。！？!?][”“\"]?,")  # a comma after a sentence end: the line is a slide dump
# Labels of a diagram: short boxes and no sentence.
_DIAGRAM = re.compile(rf"[{_CJK}]{{2,10}}(?:,[{_CJK}]{{2,10}})+")

# A table of contents: label-title pairs or one run-together box, with any cover boxes before it.
_TOC = re.compile(
    r"^(?:[^,\n]{1,30},){0,3}(?:目录|内容纲要),[^,\n]+,"  # cover boxes, marker, one run-together box
    r"|(?:目录|内容纲要)(?:\s+\S{1,6}\s*[:：]\s*\S+)+",  # marker, 教案一 : 两个最值的获得 …
    re.M,
)
# A course cover: the course title and its organisers (X主办 Y承办 Z协办).
_CREDITS = re.compile(r"(?<!\S)\S+(?:\s+\S+?(?:主办|承办|协办)(?!\S))+")
# Sites replace words they may not print (第一, 最) with asterisks.
_MARKERS = re.compile(r"\*+")
_LEADERS = re.compile(r"…{3,}")
_HALF_PUNCT = re.compile(rf"(?<=[{_CJK}“”）)】])[,;:?!]+|[,;:?!]+(?=[{_CJK}“”（])")
_FULL = str.maketrans(",;:?!", "，；：？！")
_SPACES = re.compile(r"[ \t\u3000\xa0]+")
_SPACE_AT_PUNCT = re.compile(r" *([，；：。！？、]) *")


def clean_course_text(raw: str) -> str:
    """The content of a raw course page as simplified Chinese, one line per line or slide box."""
    text = raw.replace("\r\n", "\n")
    for garbled, chars in _GARBLED.items():
        text = text.replace(garbled, chars)
    text = _PINYIN.sub("", to_simplified(text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    lines = _split_slide_boxes(_rejoin_pages(_drop_boilerplate(lines)))
    text = "\n".join(lines)
    text = _CREDITS.sub("", _TOC.sub("", text))
    text = _LEADERS.sub(" ", _MARKERS.sub("", text))
    text = _HALF_PUNCT.sub(lambda m: m.group().translate(_FULL), text)
    text = re.sub(r"，{2,}", "，", text)
    text = _SPACE_AT_PUNCT.sub(r"\1", _SPACES.sub(" ", text))
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    # Copy-paste doubles a line now and then.
    return "\n".join(line for i, line in enumerate(lines) if i == 0 or line != lines[i - 1])


def _drop_boilerplate(lines: list[str]) -> list[str]:
    kept = []
    for line in lines:
        if _FOOTER.search(line):
            break
        if line and not _BOILERPLATE.search(line):
            kept.append(line)
    # Pages print their title again just above the footer.
    while len(kept) > 1 and kept[-1] == kept[0]:
        kept.pop()
    return kept


def _rejoin_pages(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        pages = _page_run(lines, i)
        if len(pages) < 2:
            out.append(lines[i])
            i += 1
            continue
        excerpts = [_EXCERPT.match(page) for page in pages]
        if all(excerpts):
            out.extend(m.group(1) for m in excerpts)  # text is missing between excerpts: keep the breaks
        else:
            out.append("".join(pages))  # one text cut into pages, often inside a word
        i += len(pages)
    return out


def _page_run(lines: list[str], start: int) -> list[str]:
    pages: list[str] = []
    for line in map(lines.__getitem__, range(start, len(lines))):  # no copy: this runs once per line
        m = _PAGE.match(line)
        if not m or int(m.group(1)) != len(pages) + 1 or (pages and len(pages[-1]) < _PAGE_CHARS):
            break
        pages.append(m.group(2))
    return pages


def _split_slide_boxes(lines: list[str]) -> list[str]:
    """One slide box per line. A comma separates boxes after a sentence end and around the
    title boxes; elsewhere it is a comma."""
    dumps = [line.split(",") for line in lines if _BOX_BREAK.search(line)]
    titles = _box_titles(dumps)

    def is_title(segment: str) -> bool:
        return segment in titles or bool(_DIVIDER.fullmatch(segment)) or segment.isdigit()

    out = []
    for line in lines:
        if not _BOX_BREAK.search(line):
            out.append(line)
            continue
        segments = line.split(",")
        boxes = [segments[0]]
        for prev, segment in zip(segments, segments[1:]):
            if _BOX_END.search(prev) or is_title(prev) or is_title(segment):
                boxes.append(segment)
            else:
                boxes[-1] += "," + segment
        boxes = [_join_wrapped(b.strip(" ,")) for b in boxes]
        # Numbers and labels of diagrams are not text.
        out += [b for b in boxes if b and not b.isdigit() and not _DIAGRAM.fullmatch(b)]
    return out


def _box_titles(dumps: list[list[str]]) -> set[str]:
    """Slide titles: short boxes that recur and open a slide (after a sentence end or another title)."""
    counts = Counter(segment for segments in dumps for segment in segments)
    titles: set[str] = set()
    while True:
        opened = titles | {
            segment
            for segments in dumps
            for prev, segment in zip(segments, segments[1:])
            if counts[segment] >= 2
            and _BOX_TITLE.fullmatch(segment)
            and (_BOX_END.search(prev) or prev in titles or _DIVIDER.fullmatch(prev))
        }
        if opened == titles:
            return titles
        titles = opened


@lru_cache(maxsize=1)
def _dictionary() -> dict[str, int]:
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer.FREQ


def _join_wrapped(box: str) -> str:
    """A slide's line wrap leaves a space inside a word (当 事人): drop it where the two
    characters around it make a word."""
    return _WRAP.sub(lambda m: "" if _dictionary().get(m.group(1) + m.group(2)) else m.group(), box)


# --- splitting ------------------------------------------------------------------------


class Passage(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    document: str
    document_id: str
    section: str
    text: str


_SENTENCE_PUNCT = re.compile(r"[。！？；]")
_LABEL = re.compile(rf"[{_CJK}]{{2,10}}")  # a bare label box: 结束语, 背景概述
_DIVIDER_LINE = re.compile(rf"([{_CJK}]{{2,6}}?)型?的用户")

# Headings that stand on a line of their own (outlines); level 1 leaves the text, level 2 stays in it.
_LINE_HEADINGS = [
    (1, re.compile(rf"模块[{_NUM}]+：?.*")),
    (1, re.compile(rf"[{_NUM}]+、.+")),
    (1, re.compile(r"【(.+)】：?")),
    (1, re.compile(r"附：.+")),
    (2, re.compile(r"\d+[、：.]\s*\S.*")),
    (2, re.compile(r"(?!案例)([^：\s]{2,20})：")),
]

# Headings inside running text (flattened slides, run-together pages).
_TECHNIQUES = ("重复法", "暗示法", "以退为进法", "置之不理法", "破唱片机法", "直接拒绝法", "条件假设法", "目的引导法")
_HEADING_END = "(?:技巧|规范|流程|的问题|考核)"
_INLINE_HEADINGS = [
    (1, re.compile(rf"第[{_NUM}]+部分：\S+")),
    (1, re.compile(rf"(?P<num>第[{_NUM}]+章)(?P<name>[{_CJK}]{{2,12}}?{_HEADING_END})")),
    # 三投诉处理技巧: an outline number whose 、 was lost, at a sentence start
    (1, re.compile(rf"(?:(?<=。)|^)(?P<num>[{_NUM}])(?P<name>[{_CJK}]{{2,12}}?{_HEADING_END})")),
    (2, re.compile(rf"案例[{_NUM}\d]*：")),
    # numbered methods: 4、破唱片机法  1、置之不理 考虑到…  1、转移话题：…  2.分阶段引导征询法
    (
        2,
        re.compile(
            rf"(?<![\d.])\d{{1,2}}(?:[、.]\s?[{_CJK}]{{1,8}}?(?:法|效应)(?![{_CJK}])"
            rf"|、[{_CJK}]{{2,6}}(?= )|、[{_CJK}]{{2,4}}(?=：))"
        ),
    ),
    # a technique name run into its explanation: …使用重复法谈理解…
    (2, re.compile(rf"(?<=[{_CJK}。；])(?:{'|'.join(_TECHNIQUES)})(?=[{_CJK}])(?!律)")),
    (2, re.compile(rf"第[{_NUM}]?阶段[{_CJK}]{{2,6}}?阶段")),
]
# A case narrative: slide dumps print the title of a case slide after its text.
_CASE_OPENING = re.compile(r"^(?:某|一位)?(?:客户|用户)(?:到|向)")
_RUNNING_TEXT_CHARS = 60
_TOKEN_BREAK = re.compile(r"\s+|(?<=[。！？：])")


@dataclass
class _Chunk:
    paths: list[tuple[str | None, str | None]]
    lines: list[str] = field(default_factory=list)
    has_body: bool = False  # more than its heading line

    @property
    def l1(self) -> str | None:
        return self.paths[0][0]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def split_passages(text: str, document_id: str, title: str) -> list[Passage]:
    """Passages of a cleaned document at its natural boundaries (modules, outline parts,
    topics, cases, methods), merged or split to about MIN_CHARS..MAX_CHARS characters."""
    chunks = [c for c in _chunks(text) if c.has_body]
    # A bare label opens what follows it in its section; with nothing to open it is a leftover.
    chunks = [
        c
        for c, after in zip(chunks, chunks[1:] + [None])
        if not (_is_label(c.text) and (not after or after.l1 != c.l1))
    ]
    passages = []
    for chunk in _merge_small(chunks):
        for piece in _split_long(chunk.text):
            if len(piece) >= MIN_CHARS // 2:  # what is left this short is a heading or a scrap
                passages.append((_section(chunk.paths), piece))
    return [
        Passage(id=f"{document_id}-{n:03d}", document=title, document_id=document_id, section=section, text=piece)
        for n, (section, piece) in enumerate(passages, start=1)
    ]


def _chunks(text: str) -> list[_Chunk]:
    lines = text.split("\n")
    titles = {line for line, n in Counter(lines).items() if n >= 2 and _BOX_TITLE.fullmatch(line)}
    headers = _running_headers(lines)
    chunks = [_Chunk([(None, None)])]
    i = 0
    if lines and _is_title_line(lines[0]):
        i = 1  # the document's own title
    while i < len(lines):
        line, i = lines[i], i + 1
        heading = _line_heading(line, titles)
        if heading and heading[1].endswith("：") and i < len(lines):
            heading, i = (heading[0], heading[1] + lines[i]), i + 1  # 模块一： with its name on the next line
        if heading:
            level, label = heading
            if level == 1:
                chunks.append(_Chunk([(label, None)]))
            else:
                chunks.append(_Chunk([(chunks[-1].l1, label)], [line]))
            continue
        if _LABEL.fullmatch(line) and i < len(lines) and lines[i] in titles:
            # A bare label box before a title box: it names the slides before it if they have
            # no title yet (背景概述), otherwise it is a slide decoration.
            if chunks[-1].l1 is None:
                for chunk in chunks:
                    chunk.paths = [(line, l2) for _, l2 in chunk.paths]
            continue
        if _CASE_OPENING.match(line):
            title = next((t for t in lines[i:] if t in titles), None)
            if title and "案例" in title and title != chunks[-1].l1:
                chunks.append(_Chunk([(title, None)]))
        for heading, part in _inline_parts(line, headers):
            if heading:
                level, label = heading
                chunks.append(_Chunk([(label, None)] if level == 1 else [(chunks[-1].l1, label)]))
            if part:
                chunks[-1].lines.append(part)
                chunks[-1].has_body = True
    return chunks


def _is_title_line(line: str) -> bool:
    return len(line) <= 40 and not _SENTENCE_PUNCT.search(line) and _line_heading(line, set()) is None


def _is_label(text: str) -> bool:
    return bool(_LABEL.fullmatch(text))


def _line_heading(line: str, titles: set[str]) -> tuple[int, str] | None:
    if line in titles:
        return 1, line
    if m := _DIVIDER_LINE.fullmatch(line):
        return 1, m.group(1) + "型"
    if len(line) > 40 or _SENTENCE_PUNCT.search(line):
        return None
    for level, pattern in _LINE_HEADINGS:
        if m := pattern.fullmatch(line):
            return level, (m.group(1) if m.groups() else line)
    return None


def _running_headers(lines: list[str]) -> set[str]:
    """Slide headers repeated on slide after slide of a flattened deck (案例分析)."""
    tokens = Counter(t for line in lines if line.count(" ") >= 2 for t in _TOKEN_BREAK.split(line))
    return {t for t, n in tokens.items() if n >= 3 and len(t) >= 4 and not t.endswith("：")}


def _inline_parts(line: str, headers: set[str]) -> list[tuple[tuple[int, str] | None, str]]:
    """A line cut at the headings inside it: (heading that opens the part, text)."""
    if len(line) <= _RUNNING_TEXT_CHARS:
        return [(None, line)]
    # A running header opens its section where it first appears; its repeats are noise.
    found = [re.compile(rf"(?:^|(?<=[\s。！？：])){re.escape(h)}(?=\s|$)") for h in sorted(headers)]
    for header in found:
        if first := header.search(line):
            line = line[: first.end()] + header.sub("", line[first.end() :])
    line = _SPACE_AT_PUNCT.sub(r"\1", _SPACES.sub(" ", line))
    matches = [(m.start(), m.end(), 1, m.group()) for header in found if (m := header.search(line))]
    for level, pattern in _INLINE_HEADINGS:
        matches += [(m.start(), m.end(), level, _label(m)) for m in pattern.finditer(line)]
    parts: list[tuple[tuple[int, str] | None, str]] = []
    heading: tuple[int, str] | None = None
    pos = 0
    for start, end, level, label in sorted(matches):
        if start < pos:
            continue  # inside the previous heading
        parts.append((heading, line[pos:start].strip()))
        heading = (level, label)
        pos = end if level == 1 else start  # a section name leaves the text, a method or case name stays
    parts.append((heading, line[pos:].strip()))
    return parts


def _label(m: re.Match[str]) -> str:
    """三投诉处理技巧 → 三、投诉处理技巧; 第五章客户… → 第五章 客户…; 案例一： → 案例一."""
    if "name" in m.re.groupindex:
        return m["num"] + ("、" if len(m["num"]) == 1 else " ") + m["name"]
    return m.group().strip().rstrip("：")


def _merge_small(chunks: list[_Chunk]) -> list[_Chunk]:
    merged: list[_Chunk] = []
    for chunk in chunks:
        if merged and _mergeable(merged[-1], chunk):
            merged[-1] = _Chunk(merged[-1].paths + chunk.paths, merged[-1].lines + chunk.lines, True)
        else:
            merged.append(chunk)
    return merged


def _mergeable(prev: _Chunk, chunk: _Chunk) -> bool:
    if prev.l1 != chunk.l1 or len(prev.text) + len(chunk.text) > MAX_CHARS:
        return False
    # A small introduction ("…应对方式如：") goes with what it introduces, not with what precedes it.
    return len(prev.text) < MIN_CHARS or (len(chunk.text) < MIN_CHARS and not chunk.text.endswith("："))


def _split_long(text: str) -> list[str]:
    if len(text) <= MAX_CHARS:
        return [text]
    sentences = [s for s in re.findall(r"[^。！？；\n]+[。！？；]*[”」]?\n?|\n", text) if s.strip()]
    target = len(text) / math.ceil(len(text) / MAX_CHARS)
    pieces = [""]
    for sentence in sentences:
        if pieces[-1] and (len(pieces[-1]) >= target or len(pieces[-1]) + len(sentence) > MAX_CHARS):
            pieces.append("")
        pieces[-1] += sentence
    return [p.strip() for p in pieces]


def _section(paths: list[tuple[str | None, str | None]]) -> str:
    """The section path of a chunk; a merged chunk keeps a sub-section only when it has one."""
    l1 = paths[0][0]
    l2s = list(dict.fromkeys(l2 for _, l2 in paths if l2))
    if len(l2s) == 1:
        return f"{l1} / {l2s[0]}" if l1 else l2s[0]
    return l1 or "、".join(l2s) or "概述"


# --- ingestion ------------------------------------------------------------------------


def document_title(path: Path, text: str) -> str:
    """A seed's title from the table; otherwise the first heading-like line, or the file name."""
    if title := SEED_DOCUMENTS.get(path.stem.split("_")[0]):
        return title
    first = text.split("\n", 1)[0]
    return first if first and _is_title_line(first) else path.stem


def ingest_courses(raw_dir: Path, out_file: Path) -> list[Passage]:
    """Clean and split every raw_dir/*.txt and write the passages as JSON lines, atomically."""
    passages: list[Passage] = []
    for path in sorted(raw_dir.glob("*.txt")):
        text = clean_course_text(path.read_text(encoding="utf-8"))
        passages += split_passages(text, path.stem, document_title(path, text))
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_name(out_file.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="\n") as f:
            f.writelines(json.dumps(p.model_dump(), ensure_ascii=False) + "\n" for p in passages)
        os.replace(tmp, out_file)
    finally:
        tmp.unlink(missing_ok=True)
    return passages
