import re
from pathlib import Path

import pytest

from app.ingest.courses import (
    MAX_CHARS,
    MIN_CHARS,
    Passage,
    clean_course_text,
    document_title,
    ingest_courses,
    split_passages,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
COURSES = REPO_ROOT / "corpus" / "courses"
CONTENT = "先安抚客户情绪，再处理问题。"
# A page of the run-together previews holds a couple of hundred characters.
FILLER = "客户服务工作是件较复杂的事情。" * 15


@pytest.fixture(scope="module")
def passages() -> list[Passage]:
    docs = []
    for path in sorted((COURSES / "raw").glob("*.txt")):
        text = clean_course_text(path.read_text(encoding="utf-8"))
        docs += split_passages(text, path.stem, document_title(path, text))
    return docs


def by_document(passages: list[Passage], prefix: str) -> list[Passage]:
    return [p for p in passages if p.document_id.startswith(prefix)]


# --- cleaning -------------------------------------------------------------------------


def test_pinyin_residue_removed_after_traditional_characters():
    assert clean_course_text("培訓(xùn)對(duì)象:投申訴主管") == "培训对象：投申诉主管"


def test_pinyin_residue_removed_in_full_width_parentheses():
    assert clean_course_text("移動互聯（lián）網（wǎng）時代") == "移动互联网时代"


def test_traditional_becomes_simplified():
    assert clean_course_text("常見投訴標準與法律應對") == "常见投诉标准与法律应对"


@pytest.mark.parametrize(
    "text", ["关键客户管理 (KAM) 课程", "外部评审(目的是和解) 顺势而为", "请点击“版本说明”(推荐)办理"]
)
def test_real_parentheticals_kept(text):
    assert clean_course_text(text) == text


@pytest.mark.parametrize(
    "boilerplate",
    [
        "  1. 1、本文档共41页,可阅读全部内容。",
        "  2. 2、有哪些信誉好的足球投注网站(book118)网站文档一经付费(服务费),不意味着购买了该文档的版权",
        "  3. 3、本站所有内容均由合作方或网友上传,本站不对文档的完整性、权威性及其观点立场正确性做任何保证或承诺!",
        "  4. 4、如文档侵犯商业秘密、侵犯著作权、侵犯人身权等,请点击“版权申诉”(推荐)",
        "查看更多",
        "153****9595 + 关注",
        "实名认证",
        "内容提供者",
        "该用户很懒,什么也没介绍",
        "1亿VIP精品文档",
        "1、手机端页面文档仅支持阅读 15 页，超过 15 页的文档需使用电脑才能全文阅读。",
        "2、下载的内容跟在线预览是一致的，下载后除PDF外均可任意编辑、修改。",
        "当前位置: 首页 > 客户服务 > 服务综合 > 在线客服服务流程规范及沟通技巧",
        "《在线客服服务流程规范及沟通技巧》已有35家企业预约",
        "課程描述INTRODUCTION",
        "日程安排SCHEDULE",
        "投诉处理讲义(案例分析)3-1.ppt",
        "注:课程内容可按具体需求进行调整!",
    ],
)
def test_boilerplate_lines_removed(boilerplate):
    assert clean_course_text(f"{boilerplate}\n{CONTENT}\n{boilerplate}") == CONTENT


@pytest.mark.parametrize(
    "footer",
    [
        "轉載:http://www.1morechance.cn/gkk_detail/281627.html\n已開課時間Have start time\n- 鐘旭\n"
        "客戶服務公開培訓班\n- 客戶關係管理與關鍵客戶分析 王成\n- 關鍵客戶管理 (KAM) 王一成",
        "文档评论(0)\n\n153****9595 + 关注\n实名认证\n内容提供者\n\n该用户很懒,什么也没介绍\n\n1亿VIP精品文档\n\n相关文档",
        '我要预约\n《在线客服服务流程规范及沟通技巧》已有35家企业预约\n""',
    ],
)
def test_page_footer_and_course_lists_removed(footer):
    assert clean_course_text(f"{CONTENT}\n{footer}") == CONTENT


def test_title_repeated_above_footer_removed():
    raw = f"投訴管控模型\n{CONTENT}\n投訴管控模型\n轉載:http://www.1morechance.cn/gkk_detail/281627.html"
    assert clean_course_text(raw) == f"投诉管控模型\n{CONTENT}"


def test_stray_markers_removed():
    assert clean_course_text("抓住这两关键点,**,心态层面") == "抓住这两关键点，心态层面"
    assert clean_course_text("需求分析与管理*实践") == "需求分析与管理实践"


def test_page_break_inside_a_word_rejoined():
    raw = f"1、{FILLER}与其它同行相比，移动业务种类繁\n2、多，管理难度大。"
    text = clean_course_text(raw)
    assert "移动业务种类繁多，管理难度大。" in text
    assert "\n" not in text and not text.startswith("1、")


def test_excerpt_page_wrappers_removed():
    raw = f"1、“.....{FILLER}......”。\n2、“.....目的在于通过申诉使公司采取对应的处理措施。......”。"
    assert clean_course_text(raw) == f"{FILLER}\n目的在于通过申诉使公司采取对应的处理措施。"


def test_outline_numbering_is_not_taken_for_pages():
    raw = "1、典型投诉场景\n-计费类：4G流量计费\n2、六类投诉服务处理方法\n-基础服务类"
    assert clean_course_text(raw) == raw


def test_slide_boxes_one_per_line_and_wrapped_words_joined():
    raw = "用户维权意识增强。,霸王条款,格式条款是当 事人预先拟定的条款。,霸王条款,1,5,1、转移话题：当作没有听到。"
    assert clean_course_text(raw).split("\n") == [
        "用户维权意识增强。",
        "霸王条款",
        "格式条款是当事人预先拟定的条款。",
        "霸王条款",
        "1、转移话题：当作没有听到。",
    ]


def test_table_of_contents_and_cover_removed():
    raw = "没有最好,只有更好 投诉管理与处置技巧 中国投诉处理协会主办 上海某公司协办 目录 前言: 知己知彼 教案一 : 两个最值的获得 讨论的前提"
    assert clean_course_text(raw) == "没有最好，只有更好 讨论的前提"


# --- splitting ------------------------------------------------------------------------


def test_ids_sections_and_outline_boundaries():
    bullets = "\n".join(f"-第{n}类投诉的处理要点与应对话术" for n in range(1, 7))
    text = (
        f"模块一：\n投诉特征分析\n1、网络诈骗类型分析\n{bullets}\n2、手机信息安全事件分析\n{bullets}\n模块二：典型场景"
    )
    result = split_passages(text, "doc", "文档")
    assert [p.id for p in result] == ["doc-001", "doc-002"]
    assert [p.section for p in result] == [
        "模块一：投诉特征分析 / 1、网络诈骗类型分析",
        "模块一：投诉特征分析 / 2、手机信息安全事件分析",
    ]
    assert result[0].text.startswith("1、网络诈骗类型分析\n-第1类")
    assert all(p.document == "文档" and p.document_id == "doc" for p in result)


def test_tiny_neighbours_merge_within_a_section_only():
    first = "1、投诉行为动机分析\n-投诉行为动机的三大动力\n2、投诉处理方案顺序选择\n-对比原理对期望值的影响"
    text = f"一、投诉客户心理分析\n{first}\n二、沟通技巧\n1、倾听技巧\n" + "-倾听的层次与回应技巧\n" * 8
    result = split_passages(text, "doc", "文档")
    assert [p.section for p in result] == ["一、投诉客户心理分析", "二、沟通技巧 / 1、倾听技巧"]
    assert result[0].text == first


def test_headings_without_content_are_dropped():
    text = "【课程大纲】：\n一、岗位认知\n二、情绪压力管理\n" + "简单有效的缓解投诉处理压力的方法\n" * 5
    assert [p.section for p in split_passages(text, "doc", "文档")] == ["二、情绪压力管理"]


def test_long_sections_split_at_sentence_ends():
    text = "一、法律依据\n" + "".join(f"第{n}条规定经营者应当承担相应的赔偿责任，不得推诿。" for n in range(60))
    result = split_passages(text, "doc", "文档")
    assert len(result) > 1
    assert all(MIN_CHARS <= len(p.text) <= MAX_CHARS and p.text.endswith("。") for p in result)
    assert "".join(p.text for p in result) == text.split("\n", 1)[1]


def test_passage_sizes(passages):
    assert all(MIN_CHARS <= len(p.text) <= MAX_CHARS for p in passages)


def test_passages_are_clean_simplified_chinese(passages):
    leftovers = re.compile(
        r"[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]|\*|book118|文档|查看更多|VIP|实名认证|预约|转载|http|已开课|[A-Z]{5,}"
        r"|当前位置|[\u4e00-\u9fff][,;:?!]|\.{3}|“\.|主办|目录|内容纲要"
    )
    for p in passages:
        assert not leftovers.search(p.text + p.section), p.id
        assert clean_course_text(p.text) == p.text, p.id  # nothing left to clean


def test_seed_documents_have_their_titles(passages):
    titles = {p.document_id[:3]: p.document for p in passages}
    assert titles["000"] == "投诉管控模型（课程大纲）"
    assert titles["003"].startswith("厦门移动疑难投诉处理提升案")


def test_course_outline_modules(passages):
    sections = {p.section for p in by_document(passages, "000")}
    assert "模块二：常见典型投诉场景及案例深度解析" in sections
    assert any(s.startswith("模块一：") for s in sections) and any(s.startswith("模块三：") for s in sections)


def test_scenario_topics_of_the_difficult_complaints_deck(passages):
    topics = {p.section.split(" / ")[0] for p in by_document(passages, "003")}
    assert topics >= {
        "高额赔偿",
        "双倍返还",
        "精神赔偿",
        "媒体曝光",
        "公开道歉和交通费、误工费",
        "霸王条款",
        "投诉为生型",
        "万事通型",
        "政策质疑型",
        "变色龙型",
        "欲语不休型",
        "有理在先型",
        "典型案例讨论",
    }


def test_method_passages_of_the_difficult_complaints_deck(passages):
    deck = by_document(passages, "003")
    (broken_record,) = [p for p in deck if p.section == "高额赔偿 / 4、破唱片机法"]
    assert "不断强调我们能做的" in broken_record.text
    assert "5、以退为进法" not in broken_record.text
    assert any(p.section == "精神赔偿 / 2、破唱片机法" for p in deck)
    assert "种类繁多，管理难度大" in deck[0].text  # the page break inside 繁多


def test_case_discussion_keeps_each_case_with_its_analysis(passages):
    cases = [p for p in by_document(passages, "003") if p.section == "典型案例讨论"]
    assert len(cases) == 2
    assert "登报道歉" in cases[0].text and "报纸刊登错误信息" in cases[0].text
    assert "维修机" in cases[1].text and "3000元" in cases[1].text


def test_unnumbered_methods_of_the_service_handbook(passages):
    sections = [p.section for p in by_document(passages, "002")]
    for method in ["重复法", "暗示法", "以退为进法", "置之不理法"]:
        assert f"三、投诉处理技巧 / {method}" in sections


def test_cases_of_the_lecture(passages):
    sections = [p.section for p in by_document(passages, "001")]
    assert "第一部分：两个最值的获得 / 案例二" in sections
    assert "第二部分：立场转换 / 案例" in sections


# --- ingestion ------------------------------------------------------------------------


def test_title_of_an_unknown_document():
    assert document_title(Path("105_upload.txt"), "客户投诉处理手册\n正文。") == "客户投诉处理手册"
    assert document_title(Path("105_upload.txt"), "客户来电投诉时，先安抚情绪。") == "105_upload"


def test_ingest_reproduces_the_committed_passages(tmp_path):
    out = tmp_path / "passages.jsonl"
    written = ingest_courses(COURSES / "raw", out)
    assert out.read_bytes() == (COURSES / "passages.jsonl").read_bytes()
    assert len(written) == len(out.read_text(encoding="utf-8").splitlines())
    ingest_courses(COURSES / "raw", out)  # re-runnable, leaves nothing behind
    assert out.read_bytes() == (COURSES / "passages.jsonl").read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["passages.jsonl"]
