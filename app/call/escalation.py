"""Will this complaint escalate? Signs in what the customer has said so far, with the words that show them.

The course material asks the agent to keep the sensitivity (保持敏感度) and to warn early (升级预警) when a
complaint may leave the call: to the media, to a regulator, to court. A word list would raise "我不会去找记者的"
and "我儿子在电视台上班", so each cue is read in its clause, after normalisation (traditional characters and
Cantonese words become simplified Mandarin, so 記者, 消委會 and 告你哋 are the same cues; a transcript's pause
around a filler, "在那个 工信部网站上 那个申诉", ends no clause, nor does a space around a number or a Latin word,
"我已经在 12345 上留言了"):

- a cue after a negation of the customer's own intention (不会, 不想, 没打算, 不至于 ...) in the same clause
  counts for nothing, unless a condition stands between them ("要是不处理我就去找记者"); so does a cue whose
  own verb is denied (我不发朋友圈) or one waved off after it (跟你们打官司？没那个必要);
- a cue that names someone's job or workplace (在电视台上班, 我是律所的前台, 做律师的朋友, cx自称执业律师)
  counts for nothing; so does something the customer only saw or heard of (在新闻上看到, 同事说打12300就退了), a
  regulator cited or asked about for its rules (工信部规定, 工信部要求实名), a place as a landmark
  (法院对面那间门市, 楼下就是消委会, also asked about or gone to), a number or an address looked up (查一下区法院的号码),
  the customer's own firm (给我们律所办宽带), or a source (报纸话你哋有长者优惠, 消委会出咗份报告, 法院的传票 in a
  scam text), and a mention the customer declares harmless: a past call only
  to ask (上次打12300是问怎么查话费), another business (跟你们没关系), no complaint (非投诉), a joke (开玩笑的),
  praise (表扬信寄给晚报); "我不是那种动不动就投诉的人" is the customer's character, not an intention; what the
  news reported counts for nothing in the clause after it too (看到，说有人把运营商告上了法院);
- a place to complain to (记者, 工信部, 律师) with the customer's own action before it (找, 去, 打, 向, 请) or
  after it (消协投诉), an action that is itself the step (曝光, 发到网上, 起诉, 告你们, 打官司), and a bare
  mention ("我问过律师了") are signs, but not a place only qualifying a noun (记者证, 律师费, 法院宿舍); the step
  is concrete when it is taken (已经打了12300, 联系了电视台, 在工信部网站上提交了), prepared (诉状我都写好了,
  视频拍好了) or fixed for now without a condition (今晚把视频发抖音, 明天就去法院立案).
  "不然我就去工信部" and "我打12300问问" stay signs: a condition or a question, not yet a step. A place named
  after the step as an apposition (已经打了那个号了，就是上面管你们的部门) takes that step;
- repeat contact is counted (第三次打, 第N次在线上问, 投诉了好几次, 跑了三趟, 不是第一次, 工单号都记了好几个) or described
  (一直没人管, 之前就提交过, 反映了快一个月了, 又让我重新说一遍), or an earlier promise is still not kept (上回讲好寄光猫
  过来，单号都没给我), and is the customer's own (not 我朋友说他打了好几次): not the company calling them (你们天天打给我, 你们一直
  打电话来，一天打三次) nor a call only threatened (不赔我就天天打) or supposed (要是打了好几次都解决不了), nor a
  procedure's name (二次实名), nor contacts about another matter (那是去年过户的事，跟今天这个没关系);
- a vulnerable person counts where it bears on a complaint: illness, disability, pregnancy always (住院, 昏迷,
  聋哑, 老年痴呆, 怀孕); age (老人, 她八十多了, 七十三, 这把年纪, 快七十的人, 不识字) and children (孩子才十一岁,
  未成年) when the call has a grievance (被骗, 扣费, 退钱, 不是她办的; not 把流量包退掉), so that
  "帮我阿嬷办张副卡，她八十岁了" is not an escalation;
- threats of violence or self-harm (砸了营业厅, 把玻璃门砸了, 拎把锤子, 揍他一顿, 堵她, 找几个人过去, 什么事都干得
  出来, 不想活了, 这条老命不要了, 跳楼) are always read as threats (跳楼价 is a sale); the clauses of a turn where the rules
  read none, and the whole turn, are read by meaning too when a reader is given (`read_threats`,
  app/search/threat_neighbours.py); a clause denied, reported or declared harmless counts for nothing;
- a high amount is a sum far above a bill (see `_high_amounts`).

Levels, so that the strip is quiet on ordinary calls and loud only when acting now matters:
- `high`: any threat; a concrete step to the media, a regulator or court (the complaint is leaving the company,
  and the course asks for 层层上报 and 专人处理 before it is out of reach); or two or more kinds of sign together
  (several small signs together are how an escalation builds up);
- `watch`: one kind of sign (an intention under a condition, a regulator or lawyer mentioned, a repeat contact, a
  vulnerable person, a high amount);
- `none`: nothing.

Only customer turns are read: an agent saying "您也可以向工信部申诉" is not the customer's intention.
"""

import bisect
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from app.search.threat_neighbours import Threat
from app.text.normalize import to_simplified, word_replacements

Kind = Literal["media", "regulator", "legal", "repeat-contact", "high-amount", "vulnerable", "threat"]
Level = Literal["none", "watch", "high"]
KINDS: tuple[Kind, ...] = ("threat", "media", "regulator", "legal", "high-amount", "repeat-contact", "vulnerable")


@dataclass(frozen=True)
class Reason:
    kind: Kind
    evidence: str  # exact substring of the original turn text (the words that show it)
    turn: int  # index of the turn in the conversation
    self_harm: bool = False  # a threat against the customer's own life (不想活了, 跳楼), not against others


@dataclass(frozen=True)
class Escalation:
    level: Level
    reasons: list[Reason]
    advice: str  # Chinese, what the course material says to do for these reasons ("" for none)


# --- Normalised text that remembers where each character came from ---------------------------------------------


@dataclass(frozen=True)
class _Text:
    """A turn normalised as app.text.normalize does it (and lower-cased), with the original span of every character,
    so that evidence found in the normalised text is quoted from what the customer said."""

    original: str
    norm: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def source(self, start: int, end: int) -> str:
        return self.original[self.starts[start] : self.ends[end - 1]]

    def position(self, original_index: int) -> int:
        """Where a character of the original is in the normalised text."""
        return max(bisect.bisect_right(self.starts, original_index) - 1, 0)


_INVISIBLE = re.compile(r"[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _normalized(original: str) -> _Text:
    chars: list[tuple[str, int, int]] = []  # (character, start, end in the original)
    for i, c in enumerate(original):
        if _INVISIBLE.match(c):
            continue
        folded = unicodedata.normalize("NFKC", c).lower()
        chars.extend((f, i, i + 1) for f in folded)
    # Dialect and misheard words to the words meant (app/text/normalize.py): the new word spans the one it replaces
    pattern, words = word_replacements()
    text = "".join(c for c, _, _ in chars)
    mandarin: list[tuple[str, int, int]] = []
    done = 0
    for m in pattern.finditer(text):
        mandarin.extend(chars[done : m.start()])
        start, end = chars[m.start()][1], chars[m.end() - 1][2]
        mandarin.extend((c, start, end) for c in words[m.group()])
        done = m.end()
    mandarin.extend(chars[done:])
    text = "".join(c for c, _, _ in mandarin)
    simplified = to_simplified(text)
    if len(simplified) != len(text):  # a phrase conversion changed the length: convert character by character
        simplified = "".join(to_simplified(c) if len(to_simplified(c)) == 1 else c for c in text)
    return _Text(original, simplified, tuple(s for _, s, _ in mandarin), tuple(e for _, _, e in mandarin))


_CLAUSE_BREAK = re.compile(
    r"[，。！？；：、,.!?;:~…()（）\[\]【】\s]+|(?=但是|可是|不过|否则|不然|要不然|然后|而且|并且|还要)"
)


# A transcript's pause before or after a filler ("在那个 工信部网站上 那个申诉") does not end a clause.
_FILLER_AROUND = re.compile(r"(?:嗯|呃|啊|那个|这个|就是)$")
_FILLER_NEXT = re.compile(r"(?:嗯|呃|那个|这个|就是)")
# nor one before where at a place ("在那个 幺二三零零 上面登记了")
_SITE_NEXT = re.compile(r"(?:上面|上边|那边|那里|网站|官网)")


# A space between Chinese and a number or a Latin word ("在 12345 上留言", "vlog 我已经剪好了") is typography,
# not a pause.
_LATIN = re.compile(r"[0-9a-z]")


def _clauses(norm: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in _CLAUSE_BREAK.finditer(norm):
        pause = m.group().isspace() or set(m.group()) <= set("….")  # an ellipsis, "…" folded to "..."
        filler = _FILLER_AROUND.search(norm, 0, m.start()) or _FILLER_NEXT.match(norm, m.end())
        if pause and (filler or _SITE_NEXT.match(norm, m.end())):
            continue
        if pause and 0 < m.start() and m.end() < len(norm):
            left, right = norm[m.start() - 1], norm[m.end()]
            if bool(_LATIN.match(left)) != bool(_LATIN.match(right)):
                continue
        if m.start() > start:
            spans.append((start, m.start()))
        start = max(start, m.end())
    if start < len(norm):
        spans.append((start, len(norm)))
    return spans


# --- Frames ---------------------------------------------------------------------------------------------------


def _any(*parts: str) -> str:
    """One alternation from word lists (words separated by spaces) and regular expressions."""
    return "|".join(p.replace(" ", "|") for p in parts)


def _group(*parts: str) -> str:
    return "(?:" + _any(*parts) + ")"


# The customer says they will not (or did not) take the step.
_NEGATION = re.compile(
    _any(
        "不会 不想 没打算 不打算 不至于 不用 不必 没必要 不需要 不愿 没想 (?<!是)不是要 没有要 不准备 懒得 犯不着 用不着",
        "误拨 拨错 打错了",
        "不去 不找 不告 没找 没去 没告 没打 没有找 没有去 (?<!是)不是 并非",  # 是不是 asks
    )
)
# A condition between the negation and the cue starts a new proposition: "要是不处理我就去找记者"; so does the
# end of a question a transcript runs on from ("你这不是文字游戏吗我已经打了那个幺二三零零了").
_CONDITION = re.compile(_any("就 才 的话 否则 不然 要不 再 还是 只能 只好 吗 嘛"))
# "你以为我不敢去找记者吗": the negation is rhetorical.
_RHETORICAL = re.compile(r"以为|难道|.[吗么]$")
# The cue names a job or a workplace (在电视台上班, 律所的前台, 我老公是律师), not a step the customer takes.
_JOB_AFTER = re.compile(
    r"^.{0,6}?"
    + _group(
        "上班 工作 实习 干活 打工 任职 上学 当差 做事 做东西 返工",
        "开庭 出庭 办案 开会 出差 加班 值班",  # the lawyers at work, not hired against the company
        r"的?(?:前台|保安|保洁|员工|同事|领导|护工|护士|司机|接线员|会计|出纳|文员|财务|行政(?!复议|诉讼|处罚|机关|部门))",
        r"(?:做|当)(?:记者|编辑|主持|律师|法官|书记员)",  # "我老公系报馆做记者的"
    )
)
_JOB_BEFORE = re.compile(
    _group("儿子 女儿 老公 老婆 丈夫 妻子 爱人 朋友 亲戚 同学 同事 邻居 哥 姐 弟 妹 爸 妈 舅 叔 姨 我 他 她 cx 客户 本人 自己 单位")
    # 在 a place: where the customer works, not where a lawyer is ("我在广州的律师朋友")
    + r"(?:也|就|以前|原来|本身)?(?:(?:是|当|做|干|为)[^找去到打向请告]{0,4}|在(?:[^找去到打向请告]{0,3}[^找去到打向请告的])?)$"
    + r"|(?:做|当|干)过?$"
    # a firm of one's own: "我开咗间小律师事务所", "我们律所"
    + r"|开了?(?:间|家|个)小?$|(?:我们|咱们)的?$"
    # a job the customer gives themselves: "cx自称执业律师", "身为律师"
    + r"|(?:自称|身为|作为|本身是)[^找去到打向请告]{0,4}$"
)
# Hearsay: what someone else did or says works ("同事说打12300一投诉就全退了").
_HEARSAY = r"(?:同事|朋友|邻居|亲戚|网友|网上|别人家)(?:都|也)?(?:说|讲)|听.{0,4}?(?:说|讲)|据说"
# Something the customer saw or heard of; a regulator cited for its rules.
_OBSERVED = re.compile(
    _any(
        "看到 看过 看了 听说 听人说 刷到 报道过 上过 不是说 有人说 别人说 人家说 有人要",
        r"广告(?:上|里|说|讲|写)",
        "看新闻 新闻说 新闻上 新闻里 看电视 电视上 电视剧 电影里 剧里 小说里",
        r"(?:要是|如果|假如|万一)有(?:客户|人|用户)",  # someone else, supposed: "要是有客户把录音发到网上"
        _HEARSAY,
    )
)
# The place is a landmark: "法院对面那间门市", "工信部那个大楼旁边"; or one is named before it: "我家楼下就是消委会".
_NEAR = "对面 旁边 附近 隔壁 隔篱 边上 楼下 楼上 斜对面"
_LANDMARK = re.compile(
    r"^.{0,6}?" + _group(_NEAR, "那条街 那条路 那一带 门口那 门口的 后面 后头")
    # where the signal is: "出门到县政府那边才偶尔有个5g标"
    + r"|^(?:那边|那儿|那里|一带).{0,6}?(?:信号|5g|4g|网络|满格|[一两二三四五]格)"
)
_LANDMARK_BEFORE = re.compile(_group(_NEAR) + r"(?:就)?是$")
# The place only qualifies a noun: 记者证, 律师费, 法院宿舍, 报社办公宽带, a court's judgment cited as proof (法院判决书).
_COMPOUND = re.compile(
    r"^" + _group("证 费 站 宿舍 家属院 家属楼 小区 大院 职工 联络站 联络处 专用 专线 办公(?!室) 判决书 裁定书 调解书")
)
# The place cited as a source of news or offers ("报纸话你哋而家有长者优惠", "消委会出咗份报告") or as the sender of
# a summons in a text message; the media one reads or watches (看新民晚报, 看《焦点访谈》).
_SOURCE_AFTER = re.compile(
    r"^.{0,2}?"
    + _group(
        "报道 登了 登的 上说 上讲 上面说 上写 上那个 上的 上有 出了份报告 出了报告 发了报告 发的 话你们 说你们有 传票",
        "出了新指引 出了指引 发了指引 出了新规定 出了规定",  # "通讯局出咗新指引": the rules it sets, not a complaint
    )
)
_READ_BEFORE = re.compile(r"(?:看|读|翻)(?:了|过|到)?.{0,3}$")
# The place asked about: "12315电话是多少", "12300是干嘛的".
_ASKED_ABOUT = re.compile(
    r"^\s?(?:的)?(?:电话|号码|热线|地址)?(?:是|是不是)?(?:多少|几号|干嘛|干什么|做什么|什么意思|在哪)"
    r"|^\s?(?:的)?(?:电话|热线)?(?:会不会|要不要|收不收)(?:扣|收|计)"  # "打12345热线会不会扣我的通话分钟数"
)
# or looked up: "我要查一下区法院的号码"
_NUMBER_OF = re.compile(r"^的?(?:电话|号码|热线|地址)(?:号码)?(?=[，,。？?]|$)|^(?:部门)?的?(?:邮箱|地址)(?:是|是不是)?多少")
# People, not sources: what a lawyer says of the company is the customer consulting one ("律师说你们有责任").
_PEOPLE = re.compile(_any("记者 律师 大v 网红 法律顾问"))
# After the cue, the mention is declared harmless: a past call only to ask, another business, a joke.
_ONLY_ASKED = re.compile(r"^[^投诉举报申起告曝]{0,6}?(?:只|还|就|都)?是(?:为了|去|想)?" + _group("问 咨询 了解 查"))
# Another matter: "跟你们没关系", "那是去年过户的事，跟今天这个没关系"
_UNRELATED = (
    r"(?:跟|和|同|与)(?:你们|这事|这件事|这次|本次|这个|今天这个|今天的事)(?:这个|这边|的事)?(?:都)?(?:没|无|不)(?:有)?"
    r"(?:关系|关|相关)"
)
_HARMLESS_AFTER = re.compile(
    _any(
        _UNRELATED,
        "不是你们的事",
        # "上次打12315是因为外卖平台的事", not "是因为你们乱扣费的事"
        r"^.{0,10}?是(?:因为|为了|投诉|关于)(?:(?!你们|这次|本次|今天|这个).){1,12}?的事",
        r"(?:不是|并非|并不是|非)(?:要|想|为了)?(?:投诉|告你们|起诉|曝光|闹事|找事)",
        r"(?:以后|之后|回头|改天|过后)再说",  # put off: "打官司的事以后再说吧"
        r"已经(?:给我|帮我)?(?:处理好|处理完|解决|调解好|协调好|协调完|结束|结案)了?|帖子(?:我)?(?:也|都)?(?:已经)?删了",  # settled
        r"钱(?:也|都)?(?:已经)?(?:收到|退|退回来|到账)了|已经.{0,10}?(?:退给我|退回给我)了|(?:这|那边)?也撤(?:了|回|销)",
        r"(?:这事|这件事|这个事)(?:就)?算了(?![？?吗])|(?:问题|事情)(?:已经)?解决了|气头上的话|说的气话",
        # "这次你们处理得很好，信访那些就不需要了", "后我司已处理，不再追究"
        r"(?:就)?不需要了|就不用了|不再追究|不追究了|(?:我司|你们|公司)已(?:经)?处理",
        # only wondering: "我也不打算去，就是了解一下", "你能帮我确认一下号码吗"
        r"(?:没|不)打算(?:发|去|告|投诉|找|折腾)|就是(?:好奇|了解一下|先问清楚)|还没遇到",
        r"(?:只是|随便)问问|就是问问(?!你们)|问问而已",  # not a challenge: "就是问问你们管不管"
        r"(?:确认|核实)一下(?:这个)?(?:号码|电话|地址)",
        # "跟你们打官司？没那个必要", not "我去12315投诉，没必要再跟你们谈"
        r"^.{0,10}?[？?，,]?\s?(?:没那个必要|没有必要|没必要|犯不着|用不着)(?!再?(?:跟|和|同)你)",
        # a lawsuit with someone else: "在打官司 和前夫分财产"
        r"^(?:打官司|起诉|诉讼|官司)\s?(?:和|跟|同|与)(?:前夫|前妻|老公|老婆|丈夫|妻子|房东|邻居|亲戚|兄弟|姐妹|开发商|物业|老板|单位)",
        # a joke, unless denied ("不是开玩笑", "你以为我在说笑吗")
        r"(?<!不)(?<!不是)(?<!不是在)(?<!没)(?<!没有)(?<!没在)(?<!以为)(?<!以为我)(?<!以为我在)(?<!不跟你)(?<!不和你)"
        r"(?:开玩笑|开个玩笑|说笑|逗你|随便说说|说着玩)",
    )
)
# Praise goes to the newspaper too ("写表扬信寄给晚报").
_PRAISE = re.compile(_any("表扬 感谢信 锦旗 点赞 夸夸 夸一下 好评 绝绝子 yyds 抽中 中奖 运气好"))
# 申诉 in a call about the number tied to an account elsewhere (a recycled number on 微信) is an appeal to
# that platform, not to a regulator.
_THIRD_PARTY = re.compile(_any("解绑 解封 被注册 注册过 注册不了 绑了 被绑 绑定了 封号 被封"))
# (the rules word a few characters on, but no step on the way: "工信部对不限量宣传有无规定", not "工信部反映你们违反规定")
_RULES_AFTER = re.compile(r"^(?:(?!投诉|举报|申诉|告|反映|起诉|曝光|提交|立案|找|去).){0,10}?" + _group("规定 新规 政策 文件 明文 通知 发文 要求"))
_RULES_BEFORE = re.compile(_group("按 按照 根据 依据 依照 配合") + "$")  # 配合通管局做满意度调查: the company's survey


def _negated(clause: str, at: int) -> bool:
    before = clause[:at]
    if re.search(r"(?<!得)[不没]$", before):  # the cue's own verb denied: "我不发朋友圈" (not 不得不)
        return not _RHETORICAL.search(clause)
    last = None
    for m in _NEGATION.finditer(before):
        last = m
    if last is None:
        return False
    # "我不是那种动不动就打工信部的人": the customer's character, whatever the condition inside
    if re.match(r"不是(?:那种|这种|那样的|爱)", before[last.start() :]) and "的人" in clause[at:]:
        return True
    if _CONDITION.search(before[last.end() :]):
        return False
    return not _RHETORICAL.search(clause)


# How concrete a step is.
_ASK = re.compile(_any("问(?!政) 咨询 了解 打听"))  # 问政 is a television programme
_DONE = re.compile(_any("已经 已 早就 刚刚 刚才"))
_TAKEN = re.compile(_any("了 过"))
# A lawyer already retained: "我的律师会联系你们" (not "我的律师朋友说").
_RETAINED = re.compile(r"(?:我|我们)(?:的|请的|找的)(?:代理)?律师(?!朋友|同学|亲戚|邻居)")
_PREPARED = re.compile(_any("写好 准备好 约好 约了 打开了 填好 整理好 拍好 录好 剪好 做好 印好 配好", _RETAINED.pattern))
_SOON = re.compile(
    _any("今天 今晚 明天 明早 明日 听日 听朝 后天 马上 立刻 立马 现在就 这就 下午 一会儿 待会 下周 下礼拜 下星期")
)
_IF = re.compile(
    _any("不然 否则 要不 要么 要是 如果 假如 万一 的话 不行 再不 再这样 再这么 再拖 再推 推脱 若 倘若 一旦", r"[不没].{0,10}就")
)


def _concrete(clause: str, prev: str, step: int, cue_end: int, whole: str) -> bool:
    """A step taken or prepared; or one fixed for now (了, 今晚, 明天就) without a condition; never a question."""
    if _ASK.search(clause[step : cue_end + 4]):
        return False
    if _DONE.search(clause[:step]) or _PREPARED.search(whole):
        return True
    if _IF.search(prev + "，" + clause[:step]):
        return False
    # the time may come between the place and the step or right after it: "记者明天就来采访我", "律师函下周就寄"
    return bool(_TAKEN.search(clause[step:]) or _SOON.search(clause[: cue_end + 3]))


# --- Cues -----------------------------------------------------------------------------------------------------

_STEP_BEFORE = _group(
    "找 去 到 上 打 拨 向 往 跟 给 请(?!问) 联系 叫 委托 咨询 问问 报料给 爆料给 讲给 约 约了 抄送",
    "告到 投诉到 反映到 举报到 申诉到 捅到 闹到 报给 写信给 递到 递给 交到 交给",
)
_STEP_AFTER = _group(
    "投诉 投过 投了 申诉 举报 反映 起诉 打官司 曝光 评理 打电话 留言 立了?案 来 上见 提交 递交 发帖 投稿 投了稿 登记",
    r"告(?!诉)"
)
# Where the place is, between the step and it: "报给咱们市里那个栏目"
_LOCAL = r"(?:(?:我们|咱们)?(?:本地|当地|这边|这里|市里|省里)的?)"
# Where at the place the step is taken: "在12315网站上提交了投诉", "法院那边我已经立案了"
_SITE = _group("网站上 网站 官网上 官网 平台上 平台 小程序上 公众号上 那边我 那边 那里")

# Places the complaint can go to.
_PLACES: dict[Kind, str] = {
    "media": _any(
        "记者 媒体 传媒 电视台 报社 报馆 报纸 日报 晚报 早报 时报 电台 央视 焦点访谈 315晚会 新闻热线 报料热线 爆料热线",
        "大v 网红 都市频道 都市报 晨报 商报 新闻网 民生频道 新闻频道 栏目组 节目组 民生栏目 民生节目 问政栏目 问政节目",
        "澎湃新闻 新京报 南方周末 封面新闻 红星新闻 极目新闻 大象新闻 博主 up主",
        r"(?:拍|做)短视频的(?:小伙子|小伙|姑娘|博主|朋友|那个)",  # not the customer's own job: "我拍短视频的，网老卡"
        r"(?:台|频道|直播|栏目|节目)的?热线",  # a programme's hotline: "经视直播的热线"
    ),
    "regulator": _any(
        "工信部 公信部 工信不 信产部 通管局 同管局 通关局 省管局 市管局 通信管理局 通信管里局 电信管理局 消协 消委会 消保委 消基会 消费者协会 消费者委员会",
        "市长热线 市民热线 政府热线 市长信箱 省长信箱 部长信箱 局长信箱 市场监管局 市场监督管理局 工商局 工商部门 信访 纪委",
        "通讯事务管理局 通讯局 通讯办 通传会 ncc 申诉中心 国资委 消保官 消保处",
        "工业和信息化部 市监局 市场监督局 政务热线 便民热线 消费者权益保护委员会 消费者权益保护协会 领导留言板",
        "人民网留言 网信办 人大代表 政协委员 督查平台 国务院客户端 立委 立法会议员 区议员 通讯管理局 物价局 工商所",
        "政务服务中心 政务中心 行政服务中心 私隐专员公署 私隐专员",
        r"互联网(?:\+|加)督查",
        r"(?<!\d)(?:12300|12315|12345|1823|1950)(?!\d)",  # 1823: Hong Kong's government line; 1950: Taiwan's
        "消保专线",
        r"[一幺]二三(?:零零|一五|四五)",  # the numbers as said aloud and transcribed
        # someone above the company, described: "就是上面管你们的部门"
        r"(?:上面|上级)?管(?:你们|运营商|电信公司)的(?:那个|那些)?(?:部门|单位|机构|衙门|部里)",
    ),
    "legal": _any(
        "律师 律所 律师事务所 法院 法庭 法官 法律顾问 检察院 法律援助 法务 调解委员会 solicitor lawyer",
        "大状 小额钱债审裁处 审裁处 地检署 检察署",  # Hong Kong and Taiwan
    ),
}
# Places that are only a sign with the customer's action (有关部门 alone is often just "the rules").
_WEAK_PLACES: dict[Kind, str] = {
    "regulator": _any("有关部门 相关部门 上级部门 主管部门 监管部门 政府部门 政府 部里", r"(?:县|市|省|区)里的?领导"),
    "media": _any(
        "黑猫",  # the complaint site, when complained on ("在黑猫上投诉"); a pet otherwise
        # consumer-rights programmes, when the customer goes to them (not one watched); 今日说法 as
        # normalised (今日 is Cantonese for 今天)
        "今天说法 1818黄金眼 小莉帮忙 帮女郎 新闻调查 每周质量报告 经济半小时 东方时空 第一现场 零距离 帮帮团 新闻坊",
        "东张西望 拉呱 今天一线 小强热线 大河报",  # Hong Kong, Shandong, Henan, Hangzhou
        r"《[^》]{1,12}》(?:栏目|节目)",  # any programme named so
    ),
}
_PLATFORMS = _group(
    "网上 网络上 微博 官博 抖音 斗音 快手 朋友圈 小红书 论坛 贴吧 头条 b站 知乎 公众号 视频号 dcard ptt 脸书 facebook fb ig",
    "业主群 爆料公社 百度贴吧 同城号 主页 大众点评",
    "youtube 推特 twitter threads 连登 lihkg",
    "黑猫投诉 聚投诉",  # complaint sites run by the media
)
# A stream and the company as what it will tell of, in one clause or in two: "今晚直播测速，顺便讲讲你们怎么坑人".
_STREAM = r"(?:开播|直播|live)"
_TELL_OF_YOU = r"(?:讲讲|说说|聊聊|讲一讲|说一说|讲一下|说一下|讲下|说下|讲吓)你们"
_STREAM_SUBJECT = re.compile(r"^(?:顺便|然后|到时候?|再|就)?" + _TELL_OF_YOU)
_OWN_STREAM = re.compile(r"(?<!你们)" + _STREAM + r"(?!卖|带货)")  # not the company's live room nor a sale
_REGULATOR_NEXT = re.compile(r"^.{0,5}?(?:" + _PLACES["regulator"] + ")")
# Actions that are themselves the step.
_STEPS: dict[Kind, str] = {
    "media": _any(
        "曝光 上热搜 上新闻 上电视 报料 爆料",
        "拉横幅 挂横幅 拉条幅 拉白布 举牌子 举牌 举着牌子 静坐 暗访",  # a protest in public, at the shop's door
        r"(?:横幅|条幅|标语)(?:都|也|已经)?(?:做好|印好|写好|准备好)",
        r"(?:发|挂|贴|晒|传|放|写|上传|投|摆|丢|po)(?:到|在|上|给)?[^不没，]{0,8}?" + _PLATFORMS,
        r"(?:视频|影片|vlog|片子|监控|录屏)[^，]{0,3}?(?:都|也|已经)?(?:剪好|拍好|做好|剪成)",  # "vlog 我已经剪好了"
        r"(?:录|拍|发)(?:个|条)?vlog",
        # a video or a post made for a platform: "拍影片上youtube", "抖音视频都剪好了", "小红书上我写了篇笔记"
        r"(?:视频|影片|笔记|帖子|文章|稿子)[^，]{0,6}?(?:上|发|传|放|投)(?:到|在)?" + _PLATFORMS,
        _PLATFORMS + r"(?:上的?|的)?(?:视频|影片|笔记|帖子|稿子)(?:都|也|已经)?(?:剪好|拍好|写好|做好|发了)",
        _PLATFORMS + r"上.{0,6}?(?:写了|发了|发过|挂了|po了|讲了|说了)",
        r"(?:上|在|去)" + _PLATFORMS + r".{0,4}?(?:做|拍|出|剪)(?:一期|一个|个|条)?(?:视频|影片|节目)",
        r"(?:在|到|上|去)" + _PLATFORMS + r"上?.{0,10}?(?:发出来|发出去|发上去|发|挂|贴|晒|传|出了?post|出了?帖|po|分享|直播(?!卖|带货)"
        r"|(?:讲|说|写)(?:了|出来)|@|艾特)",
        r"(?:让|等|叫)(?:全网|大家|所有人|全国人民|全国网友|网友|整个小区|全小区|全村)(?:都|来|帮我)?"
        r"(?:知道|看看|看下|看一下|评评理|评理|算算)",
        "捅出去 报道你们 登报 见报 上报纸 挂出去",
        r"热搜(?:上)?就是你们|拍成(?:段子|视频|短视频|片子)",
        r"(?:让|叫)(?:他|她|他们)(?:好好|帮我)?(?:写|发)(?:一篇|篇|一条|出来)(?!检讨|道歉|说明|保证|情况)",  # "我有个做公众号的朋友…我就让他写一篇"
        # a video or a stream about the company: "做个视频从头讲一遍", "今晚开播第一件事就是讲讲你们怎么坑我的"
        r"(?:做|拍|录|剪)(?:个|条|一个|一条|一期)视频.{0,6}?(?:讲|说|曝光)",
        _STREAM + r"[^，]{0,12}?" + _TELL_OF_YOU,
        # a live stream, a post that names and shames ("去营业厅开直播", "在官博底下挂你们")
        r"(?:开|搞)着?\s?(?:直播|live)(?!卖|带货)|直播给.{0,4}?看|挂(?:你们|出来|到网上)|(?:发|放|挂|贴|传|po)上网",
        r"给(?:全网|大家|所有人|网友)(?:来)?评(?:评)?理",
    ),
    "regulator": _any("越级投诉 举报你们 上访", r"(?<!去哪)(?<!怎么)(?<!如何)申诉(?!入口|渠道|流程|电话|方式|途径)"),
    "legal": _any(
        "起诉 入禀 告到底 告到你们 走法律 诉讼 律师函 律师涵 存证信函 上法院 对簿公堂 诉状 提告 申告 发函 律师信",
        "诉前调解 证据保全 保全公证 法律文书 demand letter", r"委托(?:了)?(?:代理人|律师)|做了?保全",
        r"(?:交上去|呈堂|提交)的?证据|证据(?:我)?(?:都)?(?:留着|保存好|收集好|留好|固定好)|留(?:着|好)?(?:做|当|作)证据",
        r"官司(?:我)?(?:打定了|打到底|必须打)|被告(?:写的|是|就是)(?:就是)?你们",
        r"仲裁(?!条款|委)|打(?:一场|场|个|这个)?官司|等(?:着)?开庭|开庭见|网上立案",
        r"(?:法律|司法)(?:程序|途径|手段)|(?:等着|准备)(?:收|接)(?:法院)?的?传票|保留.{0,4}?追究",
        "法院见 法庭见 诉诸法律 法律解决 法律武器 依法维权",
        r"(?<![广报公通警预转忠被原])告(?:你|您|他|死)们?",
        r"追究.{0,6}法律责任",
    ),
}
# The police, when the customer accuses the company ("你们这是诈骗，我要报警"), not a scammer reported in a fraud call.
_POLICE = re.compile(_any("报警 报案 找警察 叫警察 去派出所 打110"))
_ACCUSES = re.compile(
    r"你们(?:这|这就|这分明|分明|就|简直)?(?:是|叫)?(?:诈骗|骗子|欺诈|骗人|骗钱|抢钱|敲诈)|(?:抓|告|查|处理)(?:你们|营业员|业务员)"
)
_CONTACT = (
    "打 来电 致电 打电话 打过来 打来 投诉 反映 反馈 找 联系 来 去 问 报修 报障 催 申请 说 讲 提交 跑 上门 send 发邮件 email"
    " 邮件 留言 私信 call"
)
_COUNT = r"(?!交道)(?:n(?![a-z])|多少|(?:好|很|无数)?(?:几|多|[二三四五六七八九十两百千]+|[2-9]|\d\d)+)"
_REPEAT = re.compile(
    _any(
        # "第三次打电话了", "这是我第三次在线上找你们了", "第n次问了"
        r"第(?:[二三四五六七八九十两几]+|[2-9]|\d\d|n(?![a-z]))(?:次|回|遍)[^，]{0,5}?" + _group(_CONTACT, "了 啊 呀"),
        _group(_CONTACT, "找你们 找过你们") + r"(?:了|过)+.{0,4}?" + _COUNT + _group("次 回 遍 趟 通 个电话") + "(?!交道)",
        # the same thing told again and again: "又让我重新说一遍", "我讲了成十次", "热线都快打烂了"
        r"又(?:要|让|叫)我(?:重新|重复|再)(?:说|讲)|(?:说|讲|听)了(?:不下|不止|成|都)?" + _COUNT + r"(?:遍|次)",
        "转来转去",
        r"都(?:快)?打(?:烂|爆)了|我又来了|又是我",
        # several tickets, several staff told: "工单号我都记了好几个了", "我已经跟你们三个同事讲过"
        r"(?:工单|单号|投诉单)[^，]{0,6}?(?:好几|几|[二三四五六七八九十两]+|[2-9])(?:个|张)",
        r"(?:跟|同|和)你们" + _COUNT + r"个(?:同事|客服|人)(?:都)?(?:讲|说)过",
        r"(?:之前|上次|已经)(?:我)?(?:已经)?(?:跟|同|和)你们的?(?:同事|客服|人)(?:说|讲)(?:过|了|得)",
        r"(?:上次|上回|之前).{0,8}?也(?:是这么|是)?(?:跟我)?(?:说|讲)",  # the same answer as last time
        r"(?:前后|来回|前前后后)(?:找|打(?!车|的)|跑|联系)",
        # from one month to the next: "我从上个月打到这个月"
        r"上个?(?:月|礼拜|星期|周).{0,3}?(?:打|讲|说|催|找|问)到(?:这|今)个?(?:月|礼拜|星期|周)",
        # not a procedure's name: "短信说要我二次实名"
        _group(_CONTACT, "找你们 找过你们") + r".{0,4}?" + _COUNT + _group("次 回 遍 趟") + "(?!交道|实名|石名|认证|验证|核验|放号)",
        r"(?:多|好几|几|数|屡|[二三四五六七八九十两]+|[2-9])(?:次|度|番)" + _group(_CONTACT),
        r"(?:承诺|答应|说好).{0,6}?(?:未|没)兑现|又双叒叕|放了?我?(?:" + _COUNT + "次)?鸽子",
        r"不是第一次|又打(?:来|过来|电话)?了|每次(?:打|来电|打电话|打过来|投诉)(?:过来|来)?都",
        # the customer calling daily, not the company calling them ("你们天天打电话给我") nor a call only
        # threatened ("不赔我就天天打")
        r"(?<!你们)(?<!他们)(?<!就)(?<!要)(?<!会)(?:每天|每日|天天)(?:都)?(?:打|来)(?!.{0,4}?给我|好多|很多|不少)",
        r"(?:一直|始终|总是|老是|每次|从来|根本)都?(?:没人|没有人|没|不)"
        r"(?:管|处理|解决|理|回复|回电|回电话|给我回|联系我|跟进|上门)",
        # passed around, put off every time: "转了三个客服", "报了三次维修，次次都话等通知"
        r"(?:转|换)了" + _COUNT + r"个?(?:客服|人工|坐席|部门)",
        r"报了?" + _COUNT + r"次(?:维修|修|障)",
        r"(?:每次|次次|回回|每回)(?:打电话|来电|打过来)?都(?:说|话|讲|叫我|让我|答应)",
        # queued twice, said again, an earlier ticket, waited in vain, the same answer again
        r"排了?" + _COUNT + r"(?:次|回)队|又(?:说|讲|打|找|反映|投诉|报)了?一?(?:回|次|遍|趟)",
        r"(?:上回|上次|之前|以前)的?(?:工单|单号|投诉单)",
        r"等到(?:今天|现在|今日|如今)(?:也|都|还)?(?:没|没有|不见)|(?:全|都)白等|白等了",
        r"(?:跟|和)(?:上次|上回|之前)(?:那位|那个)?.{0,6}?(?:一样|一字不差|一模一样)|又是这套",
        # calls left unanswered ("一直打你们电话都没人接"), a complaint kept up for weeks ("反映了快一个月了")
        r"(?:一直|始终|总是|老是|每次)(?:打|找|联系|催)[^，]{0,6}?(?:没人|没有人)(?:接|理|管|回)",
        r"(?:反映|反馈|投诉|报修|催|找了?你们|折腾)了?(?:快|都|有|将近|整整|连续)?(?:半|一|两|三|几|[1-9])个?多?"
        r"(?:年|月|星期|礼拜|周)",
    )
)
# A contact before this one, unless the customer was content with it ("上次打电话你们处理得挺好").
_EARLIER_CONTACT = re.compile(
    r"(?:已经|之前|此前|上次|上周|上个?礼拜|上个?星期|上个?月|昨天|前天|前几天|前段时间|前阵子|早上|上午|去年|前年"
    r"|\d{1,2}\s?[号日]|(?:礼拜|星期|周)[一二三四五六天日]|上学期|上半年|年初|年前|春节前|过年前|节前|月初)"
    r"[^，]{0,6}?(?:就|也|都)?(?:已经|已)?"
    + _group(
        "打过 打了电话 打过电话 反映过 投诉过 投述过 报修过 来电过 联系过 问过 来过",
        r"报(?:过|了)(?:一次|一回)?(?:修|障)",
        "提交过 申请过",
        "来电反映过 来电投诉过 来过电 来电咨询过",
    )
    + "(?!.{0,3}?交道)"  # not "之前也和你们打过几次交道"
)
_CONTENT = re.compile(_any("挺好 很好 满意 不错 很清楚 挺清楚 说清楚了 已经解决 解决了 搞定了 处理好了"))
# The contact before was a question, not a complaint left open ("上礼拜打过一次电话问续费的价格"; not "问过怎么还没修").
_STILL_OPEN = (
    r"(?:什么时候|怎么还|怎么又|为什么|到底|进度|结果|没|未|哪里去|哪去|不通|查不到|都过去|ghost|下文|石沉大海|至今"
    r"|都.{0,3}?(?:个多?月|多天|礼拜|星期|周)了|白等|等了(?:整整|好)?[一两三几])"
)
# A promise made on an earlier contact and not kept: "上回讲好寄新的光猫过来，快递单号都没给我".
_PROMISED = re.compile(
    r"(?:上回|上次|上趟|之前|上个?礼拜|上个?星期|上周|上个?月|前几天|前天|昨天|去年)[^，]{0,10}?"
    r"(?:答应|说好|讲好|承诺|保证|拍胸脯|(?<!听)(?:说|讲)(?!服)(?:会|要|已经)?.{0,6}?(?:回电|回复|答复|联系我|上门|寄|处理|跟进|升级))"
    r"|(?:答应|说好|讲好|保证)[^，]{0,4}?(?:的|了|过)"
    r"|(?:说|讲|答应)好?.{0,6}?(?:之内|以内)(?:到账|退|处理|回复|修好|上门|联系)"  # a deadline: "说一周之内到账"
)
_SUPPOSED = re.compile(_any("要是 如果 假如 万一"))
_ASKED_THEN = re.compile(r"^.{0,5}?(?:问|咨询|办)(?!.{0,10}?" + _STILL_OPEN + ")")
# or the earlier contact was itself a question: "之前问过套餐的事" (not "问过好几次怎么还没修")
_ASKED_BEFORE = re.compile(r"(?:问|咨询)过$")
# Not the customer contacting: someone telling the customer off ("老板都讲了我几次"), or one question asked
# again and again at one visit ("我当时问了好几遍是不是全新的").
_ON_THE_CUSTOMER = re.compile(r"^" + _group(_CONTACT) + r"(?:了|过)?我(?!们)")
_QUESTION_NEXT = re.compile(r"^(?:是不是|是否|有没有|能不能|会不会|要不要|可不可以)")
# The company calling the customer, counted in the clause after ("你们一直打电话来挽留，一天打三次") or in
# the same one ("客户经理给我打了三次电话"; not a call back promised: "说好给我打回来"), or its sales calls
# ("你们的推销电话一日打三次").
_COMPANY_CALLS = re.compile(
    r"你们[^，]{0,4}?打(?:电话)?(?:来|给我|过来)|call我|给我打(?:了|过|电话|" + _COUNT + ")|打了?[^，]{0,4}?给我|"
    r"(?:推销|营销)电话"
)

# Illness, disability, pregnancy: always the customer's situation.
_FRAIL = re.compile(
    _any(
        "孕妇 怀孕 残疾 残障 盲人 视障 听障 聋哑 耳聋 听力不好 瘫痪 病人 生病 重病 癌症 手术 化疗 透析 卧床",
        r"住院(?!那阵子|那会|那时|那段)",  # not an illness past: "之前住院那阵子欠了点话费"
        "行动不便 病危 昏迷 植物人 心脏病 抢救 重症 老年痴呆 痴呆 认知障碍 阿尔茨海默 自闭症 智力障碍 智障",
        r"中了?风 脑梗 脑溢血 脑出血 偏瘫 失智 全盲 失明 眼睛看不见 双目 轮椅",
        r"身障 伤残 洗肾 精神病 精神障碍 抑郁症 病患 坐月子 产妇 预产期 平安钟 救护车 急救 高烧 瘫(?:在|了) 怀(?:着|了)孕",
        r"icu 重症监护 监护室 烧到(?:三十九|四十|39|40) 眼睛.{0,4}?(?:看不见|看不到)",
        r"(?:叫|打|拨)120(?!\d)|快要?生了|就快生(?!气)|心脏不好 起搏器 耳朵听不见 耳朵听不到 孕晚期 孕早期 孕中期 孕期",
    )
)
_AGE = r"(?:[六七八九]十[一二三四五六七八九]?|[6-9]\d)"
_CHILD_AGE = r"(?:十[一二三四五六七]|[一二三四五六七八九十两]|1[0-7]|[1-9])岁"
_PERSON = "妈 爸 母 父 奶奶 爷爷 外婆 外公 姥姥 姥爷 阿嬷 阿公 老伴 婆婆 公公 岳母 岳父 老人家 她 他 我"
# Age and childhood: when the call has a grievance.
_OLD = re.compile(
    _any(
        "老年人 老太太 老太 老大爷 老爷子 老奶奶 老爷爷 上了年纪 年纪大 岁数大 年纪这么大 孤寡 独居 空巢 低保",
        "这把年纪 一把年纪 老头子 老太婆 不识字 文盲",
        _AGE + r"多?岁?的(?:人|老人|老头|老太)",
        "腿脚不好 腿脚不便 眼睛不好 视力不好 耳朵不好 耳朵背 耳背 身体不好 一个人住 听不懂普通话 不会说普通话",
        r"老人(?!机)",
        _AGE + r"(?:多|几)?岁",
        # an age, not a sum: "扣了我八十几块钱"
        _group(_PERSON) + r"(?:都|已经|今年|都已经|快)?" + _AGE + r"(?![多几]?[块元万个兆分号g\d蚊毛角])多?(?:了|周岁)?",
    )
)
_CHILD = re.compile(
    _any(
        "未成年 小学生 初中生 中学生 儿童 新生儿 刚出生 保温箱 早产 俺娃 我娃 我家娃",
        r"满月(?!酒)",
        r"[一二三四五六七八九十两\d]+个月大",
        r"(?<![提升])高[一二三](?![十百千万块元])",  # a high-school year
        r"(?:读|上|念)(?:小学|初中|初[一二三]|中[一二三]|[一二三四五六]年级)",  # "个仔先读中一"
        r"(?:才|只有|刚|未满)" + _CHILD_AGE,
        r"(?:儿子|女儿|孩子|个仔|个女)(?:今年|才|得)?" + _CHILD_AGE,  # 得三岁: Cantonese "only three"
        _CHILD_AGE + r"的?(?:儿子|女儿|孩子)",
    )
)
# An old person said to be well: "他老人家现在身体还硬朗", "我家老太太…用了十几年一直挺好，没什么问题".
_WELL = re.compile(_any("硬朗 身体还好 身体挺好 身体很好 一直挺好 没什么问题 出院了 康复"))
# A child mentioned in passing ("带孩子出去玩") counts only with what happened to them, and not one looked
# after ("帮女儿带孩子"); 个仔 is Cantonese for "my son".
_KID = re.compile(r"(?<!带)(?:小孩|孩子|小朋友|个仔|个女|娃儿|娃娃|娃子)")
_KID_AFFECTED = re.compile(
    _any("被 给 让 偷偷 充值 游戏 扣 骗 办了 办的 用的 网课 上课 作业 联系不上 打不通 不懂 不会")
)
_GRIEVANCE = re.compile(
    _any(
        "投诉 骗 忽悠 坑 欺负 骂 嫌 扣 多收 乱收 停了 停机 断了 断网 坏了 没信号 打不出 打不通 联系不上 不认",
        "赔 取消 凭什么 为什么 怎么回事 过分 不合理 没告诉 没说 看不清 冒用 盗用 冒名 干坏事 不是她办 不是他办",
        "不是我办 没办过 呃 推销 解约 绑约 乱办 乱开",
        r"退(?!掉|订)",  # a refund; dropping a package one does not use (退掉流量包) is no grievance
    )
)
# Threats against the customer's own life.
_SELF_HARM_WORDS = _any(
    "不想活 不活了 活不成 活不下去 撑不下去 活够了 死了算了 死给你们看 死在你们 自杀 自焚 跳下去 跳河",
    r"活着.{0,3}?没(?:什么|啥)?意思|日子(?:没|没什么|没啥)(?:过头|盼头)|我死了你们.{0,2}?(?:满意|高兴|开心|安心)",
    r"不想再活|跳落去|活落去|遗书|把自己(?:点了|烧了|烧死)|以死明志|以死相逼|一死了之|一头撞死|吊颈",
    r"(?:浇|淋|泼)(?:了)?自己|烧炭(?!取暖)|敌敌畏|百草枯",
    r"跳楼(?!价|甩卖|大甩卖|大拍卖|拍卖|大减价|清仓)",  # not the clearance sale
    r"喝药|喝农药|安眠药|割腕|上吊|吊死|寻死|轻生|一了百了|结束生命|结束自己|(?<![你们])去死|在.{0,6}?(?:楼顶|天台)",
)
_SELF_HARM = re.compile(_SELF_HARM_WORDS)
_THREAT = re.compile(
    _any(
        r"砸.{0,6}?(?:营业厅|门店|店|柜台|公司|电脑|基站|机房|东西)",
        r"(?:营业厅|门店|柜台|东西)(?:给|都|全)?砸",
        # tables turned, a car driven in: "把电脑全掀了", "开车撞进你们营业厅"
        r"掀(?:了|翻)?.{0,4}?(?:桌子|柜台|摊子)|把.{0,10}?(?:桌子|柜台|电脑|东西|机)(?:给|都|全)?掀|抡(?:椅子|凳子|棍子)",
        r"(?:开车|车)撞.{0,4}?(?:营业厅|门店|店|公司|你们)",
        # the thing broken named first: "把你们那玻璃门砸了"
        r"把.{0,8}?(?:门|玻璃|窗户?|柜台|招牌|电脑|东西|店)(?:给|都|全|统统)?(?:砸|掼|摔|敲碎|打碎|踹|拆)|砸给你们?看",
        r"(?:扎|戳)了?.{0,3}?车胎|车胎(?:给)?(?:扎|戳)了",
        # equipment cut or broken: "把你们楼道里的光纤箱子给剪了"
        r"把.{0,8}?(?:光纤箱|分纤箱|光缆|交接箱|基站|机房|电线杆|电杆|线杆).{0,3}?(?:剪|砸|烧|拆|扯|拽|锯|拔)",
        r"(?:跟|和)(?:你们|你)(?:拼了|拼命|同归于尽)",
        "同归于尽 弄死 杀了 烧了你们 炸了你们 炸掉 血溅 一拳 泼油漆 泼粪 砍人 捅人 放狗咬 🔪 🔨 有来无回 有去无回",
        r"杀人(?!不见血)|收拾(?:你|他|她|一顿)|真?动起手来|当(?:着)?(?:你们的?)?面(?:摔|砸)",
        r"(?:可|那可)就不是.{0,6}?(?:那么|这么)简单了",  # "再敷衍我，可就不是推一把那么简单了"
        r"(?:看到|见到|碰到|遇到)(?:他|她|你)一(?:次|回)(?:扁|打|揍)|扁(?:他|她|你|死)",
        r"见一(?:个|次|回)(?:打|揍)一(?:个|次|回)|废了(?:他|她|你)|烧(?:了|掉)?你们?(?:间|家|的)",
        "拿刀 带刀 动刀 菜刀 汽油 炸药 硫酸 煤气罐 球棒 棒球棍 铁棍 铁棒 棍子 砖头 扁担",
        r"把(?:他|她|你)打出去|别让我(?:再)?(?:在.{0,4}?)?(?:碰到|碰见|遇到|撞见)|把.{0,6}?线(?:给)?(?:剪|拔|扯)断",
        # a tool carried along (锤子 alone is also a phone brand)
        r"(?:拿|拎|提|带|揣|抄)(?:上|着|起)?(?:一?把|个|那个|那把|这把)?(?:锤子|斧头|扳手|铁锹|刀)",
        r"(?:砍|捅|揍|斩)(?:死|了)?(?:你|他|她|那个|𠮶个)|(?<!打)打死(?!我也|也)|让你们?好看|(?:堵|截)(?:她|他|你|人)",
        r"让(?:她|他|你)(?:今天|以后)?出不了门|打到(?:他|她|你)(?!电话|手机)|找人(?:来|去)?(?:收拾|弄|砸|堵|打|教训|修理)",
        r"(?:拎|提|带|拿|扛)(?:一)?桶(?:汽)?油|让你们.{0,6}?开不了门",
        # hurting a named person: "非揍他一顿不可", "打得他爹妈都不认识", "堵住你们门口"
        r"揍(?:他|她|你|人|那)|揍.{0,4}?一顿|(?<!骂)(?<!说)打(?:他|她|你|人)?一顿|打得.{0,4}?(?:爹妈|妈都|满地|半死|住院|爬不起)",
        r"堵(?:住|在)(?:你们?|他们?|她们?)?.{0,3}?(?:门口|大门|营业厅|门店|公司)",
        r"把.{0,6}?(?:门口|大门|门|营业厅|门店|店)(?:给|都)?(?:你们?|他们?)?堵(?:了|住|上|死)",
        r"打(?:断|折|瘸).{0,4}?(?:腿|手|胳膊)|(?:腿|胳膊)(?:给他|给你)?打(?:断|折|瘸)|(?:掟|扔|摔|砸)烂|削(?:他|你|死)",
        r"放(?:一把|把)?火|点(?:一)?把火|一把火(?:给|把|烧)|点了你们|把.{0,6}?(?:营业厅|门店|店)(?:给)?(?:点|烧)了",  # 烧了你们: above
        r"(?:找|带|叫)(?:几个|一帮|一群|一些|些)(?:人|兄弟|工友|哥们)(?:去|来|过去|过来)(?:你们|营业厅|店里|门店|公司|找你|收拾|算账|闹|坐坐)",
        "堵门",
        # a threat left open: "逼急了我什么事都干得出来", "我要是出点什么事，就是你们逼的"
        r"(?:什么|啥)事?都(?:干|做)得出|(?:是|被)你们逼(?:的|死)|狗急跳墙",
        r"不保证.{0,6}?(?:做|干)出|(?:会|能)(?:做|干)出(?:什么|啥)(?:事|事情)?来",
        # a warning to a person: "让他下班出门小心点", "小心我把你们…", "我会让那个师傅后悔的"
        r"让(?:他|她|你|那个.{0,6}?)(?:出门|下班|走路|走夜路|晚上|以后){0,2}小心(?:点|些|着)|小心我(?:把|揍|打|砸|找人|弄|收拾|烧|砍)",
        r"(?:让|叫)(?:你们?|他们?|她们?|那个.{0,6}?)后悔|你们?会后悔的",
        # "你们等着" ending its clause, "别怪我不客气", "我知道那个师傅住哪"
        r"你们?(?:给我)?等着(?:瞧)?$|别怪我(?:不客气|下手|翻脸|手下无情|没(?:提前)?(?:说|提醒|打招呼))|下手狠|你们看住来",
        r"(?:知道|打听到|查到)了?.{0,12}?(?:住哪|住在哪|家在哪|住址)",
        r"(?:下班|回家)路上(?:自己)?小心(?:点|些|着)|走夜路(?:自己)?小心",
        "老命不要了 命不要了 不要这条命 这条命不要 豁出这条命 拼上这条命",
        _SELF_HARM_WORDS,
    )
)


@dataclass(frozen=True)
class _Sign:
    kind: Kind
    concrete: bool  # a step to the media, a regulator or court taken, prepared or fixed for now
    turn: int
    start: int  # in the normalised turn
    end: int
    self_harm: bool = False  # read by meaning as a threat against the customer's own life


@dataclass(frozen=True)
class _Clause:
    text: str
    prev: str  # the clause before it in the turn
    offset: int  # where it starts in the normalised turn
    turn: int
    whole: str  # the normalised turn

    def sign(self, kind: Kind, start: int, end: int, concrete: bool = False, self_harm: bool = False) -> _Sign:
        return _Sign(kind, concrete, self.turn, self.offset + start, self.offset + end, self_harm)


def _reported(c: _Clause, start: int) -> bool:
    """Something the customer saw or heard of, in the clause or as what the clause before reports
    ("我在新闻上看到，说有人把运营商告上了法院"), or in a clause of someone else's after hearsay in the same
    sentence ("我听同事说，他去年出国回来账单好几千，最后打了12315才给他减了一部分")."""
    sentence = re.split(r"[。!?]", c.whole[: c.offset])[-1]
    return bool(
        _OBSERVED.search(c.text[:start])
        or (c.text.startswith("说") and _OBSERVED.search(c.prev))
        or (re.search(_HEARSAY, sentence) and not re.search("我|咱", c.text))
    )


def _no_contact_counted(c: _Clause, m: re.Match) -> bool:
    """A count that is no contact of the customer's about this matter: another matter, someone telling the
    customer off, one question asked again at one visit."""
    asked_again = m.group().startswith("问") and _QUESTION_NEXT.match(c.text[m.end() :])
    return bool(_about_another_matter(c, m.start()) or _ON_THE_CUSTOMER.match(m.group()) or asked_again)


def _about_another_matter(c: _Clause, start: int) -> bool:
    """Contacts about something else ("来过好几趟，那是去年过户的事，跟今天这个没关系") or only supposed
    ("要是打了好几次都解决不了，可以找谁")."""
    return bool(re.search(_UNRELATED, c.whole[c.offset + start :]) or _SUPPOSED.search(c.text[:start]))


def _harmless(c: _Clause, start: int, end: int) -> bool:
    """The customer says the mention is no step against the company: only a question, another business, a joke,
    praise."""
    return bool(
        _ONLY_ASKED.match(c.whole[c.offset + end :])
        or _HARMLESS_AFTER.search(c.whole[c.offset + start :])
        or _PRAISE.search(c.text)
    )


# A place named after the step, as an apposition: "我昨天已经打了那个号了，就是上面管你们的部门".
_APPOSITION = re.compile(r"^(?:嗯|呃|啊|那个)*(?:就是|也就是|即)(?:那个)?")
_FILLER = re.compile(r"^(?:嗯|呃|啊|哦|那个|就是说|我跟你说)+$")


def _step_before_apposition(c: _Clause) -> bool | None:
    """Whether the step in the clause before an apposition (fillers skipped) is concrete; None without a step."""
    earlier = [t for t in re.split(_CLAUSE_BREAK, c.whole[: c.offset]) if t and not _FILLER.match(t)]
    if not earlier:
        return None
    step = re.search(_STEP_BEFORE, earlier[-1])
    if not step or _negated(earlier[-1], step.start()):
        return None
    return _concrete(earlier[-1], "", step.start(), len(earlier[-1]), c.whole)


def _places(kind: Kind, places: str, weak: bool, c: _Clause) -> list[_Sign]:
    signs = []
    for m in re.finditer(places, c.text):
        before, after = c.text[: m.start()], c.text[m.end() :]
        if _negated(c.text, m.start()) or _JOB_AFTER.match(after) or _reported(c, m.start()):
            continue
        if _LANDMARK.match(after) or (_SOURCE_AFTER.match(after) and not _PEOPLE.fullmatch(m.group())):
            continue
        if _ASKED_ABOUT.match(after) or (_NUMBER_OF.match(after) and re.search("查|问", before)):
            continue
        if _LANDMARK_BEFORE.search(before) or (kind == "media" and _READ_BEFORE.search(before)):
            continue
        if _harmless(c, m.start(), m.end()):
            continue
        if _RULES_AFTER.match(after) or _RULES_BEFORE.search(before):
            continue
        # the action nearest the place, fillers and where it is not counted ("上那个…那个《1818黄金眼》",
        # "报给咱们市里那个《…》栏目")
        step = re.search(r".*(" + _STEP_BEFORE + r")" + _LOCAL + r"?((?:那个|\.+|[^，]){0,4})$", before)
        then = re.match(r"^的?" + _SITE + r"?.{0,3}?" + _STEP_AFTER, after)
        if step and not re.search(r"[是在]|当(?!地)|我们|咱们", step.group(2)):  # not "给我们律所办宽带"
            end = m.end() + then.end() if then else m.end()
            signs.append(c.sign(kind, step.start(1), end, _concrete(c.text, c.prev, step.start(1), end, c.whole)))
        elif then:
            end = m.end() + then.end()
            signs.append(c.sign(kind, m.start(), end, _concrete(c.text, c.prev, m.start(), end, c.whole)))
        elif _APPOSITION.match(before) and (concrete := _step_before_apposition(c)) is not None:
            signs.append(c.sign(kind, m.start(), m.end(), concrete))
        elif not weak and not _JOB_BEFORE.search(before) and not _COMPOUND.match(after):
            signs.append(c.sign(kind, m.start(), m.end(), bool(_RETAINED.search(c.text))))
    return signs


def _stream_then_subject(c: _Clause) -> list[_Sign]:
    """A stream of the customer's own in the clause before, the company its subject in this one: not the company's
    live room, a sale, one watched or one's job ("你们直播间那个优惠，说说你们", "看了个直播，说说你们这个套餐")."""
    subject, stream = _STREAM_SUBJECT.match(c.text), _OWN_STREAM.search(c.prev)
    if not (subject and stream) or _harmless(c, 0, subject.end()):
        return []
    before = c.prev[: stream.start()]
    if _negated(c.prev, stream.start()) or _OBSERVED.search(before) or _JOB_BEFORE.search(before):
        return []
    concrete = _concrete(c.prev, "", stream.start(), stream.end(), c.whole)
    stream_at = c.whole.rfind(c.prev, 0, c.offset) + stream.start() - c.offset  # the evidence spans both clauses
    return [c.sign("media", stream_at, subject.end(), concrete)]


def _clause_signs(c: _Clause, grievance: bool, third_party: bool = False) -> list[_Sign]:
    signs = []
    for kind, places in _PLACES.items():
        signs += _places(kind, places, False, c)
    for kind, places in _WEAK_PLACES.items():
        signs += _places(kind, places, True, c)
    for kind, steps in _STEPS.items():
        for m in re.finditer(steps, c.text):
            if _negated(c.text, m.start()) or _reported(c, m.start()) or _harmless(c, m.start(), m.end()):
                continue
            if kind == "regulator" and third_party and m.group().endswith("申诉"):
                continue
            # a regulator's site is online too: "写到网上那个部长信箱里" goes to the regulator, not the public
            if kind == "media" and _REGULATOR_NEXT.match(c.text[m.end() :]):
                continue
            signs.append(c.sign(kind, m.start(), m.end(), _concrete(c.text, c.prev, m.start(), m.end(), c.whole)))
    signs += _stream_then_subject(c)
    if _ACCUSES.search(c.whole):
        for m in _POLICE.finditer(c.text):
            if not _negated(c.text, m.start()) and not _harmless(c, m.start(), m.end()):
                concrete = _concrete(c.text, c.prev, m.start(), m.end(), c.whole)
                signs.append(c.sign("legal", m.start(), m.end(), concrete))
    if not _CONTENT.search(c.whole) and not any(re.search(places, c.text) for places in _PLACES.values()):
        signs += [
            c.sign("repeat-contact", m.start(), m.end())
            for m in _EARLIER_CONTACT.finditer(c.text)
            if not _ASKED_THEN.match(c.text[m.end() :]) and not _about_another_matter(c, m.start())
            and not (_ASKED_BEFORE.search(m.group()) and not re.search(_STILL_OPEN, c.whole[c.offset + m.end() :]))
        ]
        signs += [
            c.sign("repeat-contact", m.start(), m.end())
            for m in _PROMISED.finditer(c.text)
            if re.search(_STILL_OPEN, c.whole[c.offset + m.end() :])
        ]
    patterns = [("threat", _THREAT), ("vulnerable", _FRAIL)]
    if not _COMPANY_CALLS.search(c.prev + "，" + c.text):
        patterns.append(("repeat-contact", _REPEAT))
    if grievance:
        patterns += [("vulnerable", _OLD), ("vulnerable", _CHILD)]
        if _KID_AFFECTED.search(c.whole):
            patterns.append(("vulnerable", _KID))
    for kind, pattern in patterns:
        for m in pattern.finditer(c.text):
            if _negated(c.text, m.start()) or (kind == "vulnerable" and _JOB_AFTER.match(c.text[m.end() :])):
                continue
            # "看新闻说有人砸营业厅"; "我朋友说他打了好几次": a count's 说 is the hearsay's own
            if _reported(c, m.start() + m.group().startswith("说")):
                continue
            if kind == "threat" and _harmless(c, m.start(), m.end()):  # "我都想跳楼了哈哈，开玩笑"
                continue
            if kind == "repeat-contact" and _no_contact_counted(c, m):
                continue
            if pattern is _OLD and _WELL.search(c.whole, c.offset + m.end(), c.offset + m.end() + 30):
                continue
            signs.append(c.sign(kind, m.start(), m.end()))
    return signs


def _turn_clauses(turn: int, text: _Text) -> list[_Clause]:
    spans = _clauses(text.norm)
    return [
        _Clause(text.norm[a:b], text.norm[spans[i - 1][0] : spans[i - 1][1]] if i else "", a, turn, text.norm)
        for i, (a, b) in enumerate(spans)
    ]


def _has_grievance(clauses: list[_Clause]) -> bool:
    return any(not _negated(c.text, m.start()) for c in clauses for m in _GRIEVANCE.finditer(c.text))


# --- High amounts ---------------------------------------------------------------------------------------------

_CLAIM = re.compile(_any("赔 补偿 补到 补给 补了 多补 补点 补一点 精神 损失 误工 骗 被盗 盗刷 亏 蚀 承担"))
# The sum asked for outright: "也给我一千五", "赔我两千"
_ASKED_FOR = re.compile(r"(?:给|赔|补)我(?:也)?$")
_CHARGE = re.compile(_any("账单 帐单 话费 扣 收了 收我 多收 乱收 漫游 月租 违约金 分期 要还 缴 交 费"))
# What is paid as a rule is the bill, not a charge disputed: "集团户每个月快一万的费用" (not "一个月就扣了我三千").
_REGULAR = re.compile(_group("每个月 每月 一个月 月均 平时 平常 一般") + r"[^扣收缴交]{0,4}$")
CLAIM_YUAN = 1000
CHARGE_YUAN = 3000
STATUTORY_MULTIPLE, STATUTORY_MINIMUM_YUAN = 3, 500


def _high_amounts(clauses: dict[int, list[_Clause]], texts: dict[int, _Text], amounts) -> list[tuple[int, str]]:
    """Sums far above a bill that the customer claims or disputes, as (turn, words).

    - A claim (赔, 补偿, 精神损失, 被骗, 亏 ... within two clauses before the amount or the one after, or the sum
      asked for outright: 也给我一千五) of 1,000 yuan or more: several
      monthly bills, beyond any refund of a charge, and what the course's 高额赔偿 handling is for. When the call
      also says what was charged, a claim above three times that and above 500 yuan counts too: more than
      消费者权益保护法第55条 could award (three times the price, at least 500).
    - A disputed charge (账单, 扣, 漫游, 违约金, 分期 ...) of 3,000 yuan or more: twenty times a typical monthly
      bill, bill shock (roaming, a lost phone's instalments) that no agent can waive on the call. Charges below
      that (a 1,500 yuan early-termination fee) are ordinary disputes.
    """
    claims, charges = [], []
    # Amounts come in the order said: each is looked for after the one before, so a sum said twice ("少卖了三千多 ...
    # 这三千多的损失") is read where it is said each time.
    said_up_to: dict[int, int] = {}
    for turn, words, yuan in amounts:
        if turn not in texts or not words or words not in texts[turn].original:
            continue
        start = texts[turn].original.find(words, said_up_to.get(turn, 0))
        if start < 0:
            start = texts[turn].original.index(words)
        said_up_to[turn] = start + len(words)
        at = texts[turn].position(start)
        i = next((i for i in reversed(range(len(clauses[turn]))) if clauses[turn][i].offset <= at), None)
        # the claim or charge may be said a clause or two away ("精神损失费，不多，两千块"; "收到张单要六千几蚊，全部
        # 都是漫游费")
        context = "，".join(c.text for c in clauses[turn][max(i - 2, 0) : i + 2]) if i is not None else ""
        before = clauses[turn][i].text[: at - clauses[turn][i].offset] if i is not None else ""
        asked = _ASKED_FOR.search(before)
        if _CLAIM.search(context) or asked:
            claims.append((turn, words, yuan))
        elif _CHARGE.search(context) and not _REGULAR.search(before):
            charges.append((turn, words, yuan))
    charged = max((yuan for _, _, yuan in charges), default=None)
    statutory = max(STATUTORY_MULTIPLE * charged, STATUTORY_MINIMUM_YUAN) if charged else None
    high = [(t, w) for t, w, y in claims if y >= CLAIM_YUAN or (statutory and y > statutory)]
    return sorted(high + [(t, w) for t, w, y in charges if y >= CHARGE_YUAN])


# --- Advice ---------------------------------------------------------------------------------------------------

# From the course material: 专人处理, 固定证据, 层层上报/逐级上报, 首问负责, 至少要告知回复时间 (超过回复日期 is the
# company's fault at the regulator), 先对用户情绪进行安抚再处理事情, 媒体曝光: 平淡处之、转移话题、目的引导,
# 高额赔偿: 破唱片机法、需要证据、向上级领导申请, 忌轻易说出"你可上法院、消协告我去", 特殊客户服务机制,
# 主要依靠…公安机关等外部支持.
_SITUATION: dict[Kind, str] = {
    "threat": (
        "客户情绪激烈、有过激言语：语气保持平和，不争辩、不刺激，先安抚情绪；涉及人身安全的，依靠公安机关等外部支持。"
    ),
    "media": "客户提到媒体曝光：平淡处之，不争辩，把话题引回把问题处理好这件事上。",
    "regulator": "客户可能向主管部门申诉：对问题给予充分重视，有问题立即解决，不拖延、不推诿。",
    "legal": "客户提到法律途径：不说“您可以去告”之类的话，讲清依法依规能为客户做的处理。",
    "high-amount": "客户提出高额赔偿：表示理解，不当场承诺金额，说明赔偿需要依据，反复说明能为直接损失做的补偿。",
    "repeat-contact": "客户已多次来电：首问负责，先致歉，查看之前的记录，不让客户重复说明。",
    "vulnerable": "涉及老人、未成年人或病人等特殊客户：耐心说明，优先处理。",
}
_STEPS_ORDER = (
    "层层上报",
    "专人处理",
    "固定证据（通话记录、工单、业务凭据）",
    "告知明确的回复时间并按时回复",
    "跟踪到问题解决",
)
_KIND_STEPS: dict[Kind, tuple[int, ...]] = {
    "threat": (0, 1, 2),
    "media": (0, 1, 2, 3),
    "regulator": (0, 1, 2, 3),
    "legal": (0, 2, 3),
    "high-amount": (0, 2),
    "repeat-contact": (3, 4),
    "vulnerable": (4,),
}


def _advice(kinds: list[Kind], level: Level) -> str:
    if not kinds:
        return ""
    steps = sorted({i for kind in kinds for i in _KIND_STEPS[kind]})
    lead = "升级预警。" if level == "high" else "保持敏感度，防止投诉升级。"
    return lead + "".join(_SITUATION[k] for k in kinds) + "处理上：" + "，".join(_STEPS_ORDER[i] for i in steps) + "。"


# --- The assessment -------------------------------------------------------------------------------------------


ThreatReader = Callable[[list[str]], list[Threat | None]]  # which normalised words are threats, and of which kind
MIN_READ_CHARS = 6  # shorter words ("你等着", "行吧") are too few to read by meaning


def _threats_by_meaning(clauses: dict[int, list[_Clause]], signs: list[_Sign], read: ThreatReader) -> list[_Sign]:
    """Threat signs in the turns the rules read none in, from what `read` takes for a threat: each clause, and
    the whole turn, since a threat often takes two clauses ("那个师傅敢再来，就别想走出去"); the whole turn's
    embedding is mostly the one its search made and kept. A clause denied, reported or declared harmless counts for
    nothing, as a rule's would, and its turn is read by its other clauses alone. The evidence is the clauses
    read as threats, else the turn."""
    read_by_rules = {s.turn for s in signs if s.kind == "threat"}
    spans: list[tuple[_Clause, int, bool]] = []  # (first clause, end in the normalised turn, the whole turn)
    for turn, cs in clauses.items():
        if turn in read_by_rules:
            continue
        meant = [
            c for c in cs
            if not (_negated(c.text, len(c.text)) or _reported(c, len(c.text)) or _harmless(c, 0, len(c.text)))
        ]
        spans += [(c, c.offset + len(c.text), False) for c in meant if len(c.text) >= MIN_READ_CHARS]
        if len(cs) > 1 and len(meant) == len(cs):
            spans.append((cs[0], cs[-1].offset + len(cs[-1].text), True))
    if not spans:
        return []
    threats = read([c.whole[c.offset : end] for c, end, _ in spans])
    found = [(c, end, whole, threat) for (c, end, whole), threat in zip(spans, threats) if threat]
    in_clauses = {c.turn for c, _, whole, _ in found if not whole}
    return [
        c.sign("threat", 0, end - c.offset, self_harm=threat == "self-harm")
        for c, end, whole, threat in found
        if not (whole and c.turn in in_clauses)
    ]


def assess_escalation(
    turns: list[tuple[str, str]], amounts: list[tuple[int, str, float]] = (), read_threats: ThreatReader | None = None
) -> Escalation:
    """The escalation signs in a call's customer turns, oldest first; `amounts` are (turn, words, yuan)."""
    texts = {i: _normalized(text) for i, (role, text) in enumerate(turns) if role == "customer"}
    clauses = {turn: _turn_clauses(turn, text) for turn, text in texts.items()}
    grievance = _has_grievance([c for cs in clauses.values() for c in cs])
    third_party = any(_THIRD_PARTY.search(t.norm) for t in texts.values())
    signs = [sign for cs in clauses.values() for c in cs for sign in _clause_signs(c, grievance, third_party)]
    if read_threats is not None:
        signs += _threats_by_meaning(clauses, signs, read_threats)
    # a turn's threat is against the customer's own life when one of its threats is, by its words or as read
    own_life = {
        s.turn for s in signs
        if s.kind == "threat" and (s.self_harm or _SELF_HARM.search(texts[s.turn].norm[s.start : s.end]))
    }
    reasons, seen = [], set()
    for sign in sorted(signs, key=lambda s: (s.turn, not s.concrete, s.start, s.start - s.end)):
        if (sign.kind, sign.turn) not in seen:  # one reason per kind and turn: a concrete step first, else the first
            seen.add((sign.kind, sign.turn))
            evidence = texts[sign.turn].source(sign.start, sign.end)
            reasons.append(Reason(sign.kind, evidence, sign.turn, sign.kind == "threat" and sign.turn in own_life))
    reasons += [Reason("high-amount", words, turn) for turn, words in _high_amounts(clauses, texts, amounts)]
    reasons.sort(key=lambda r: (r.turn, KINDS.index(r.kind)))

    kinds = [k for k in KINDS if any(r.kind == k for r in reasons)]
    if not kinds:
        level: Level = "none"
    elif "threat" in kinds or any(s.concrete for s in signs) or len(kinds) >= 2:
        level = "high"
    else:
        level = "watch"
    return Escalation(level, reasons, _advice(kinds, level))
