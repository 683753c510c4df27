"""Facts said in a call: amounts, durations and dates, each with the one provision it can be checked
against where the words around it make that provision relevant.

Pure: no I/O, no model, no clock (the caller passes `today`). Matching runs on a copy of each turn
made simplified and half-width character by character, so every match maps back to the same span
of the turn as said; Cantonese words (蚊, 三日, 琴日) are matched directly for the same reason,
since normalize()'s word replacements change the length of the text.

A sum is a number with a currency or unit (199元, $288, 三百港币), a large one (两千, 一万二), or a
number said in a clause about money (扣了二十九, 违约金八百多) or said as money elsewhere in the call.
Dates include days ahead (明天, 下个月五号, 月底), which have no days before today. Not facts: vague
times (这几天, 好几天, 最近), rates (一天十几个, 多少钱一个月), points and data (积分, GB, 兆).
"""

import calendar
import datetime
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Literal

import cn2an

from app.corpus.statutes import ArticleRef
from app.text.normalize import to_simplified

Kind = Literal["amount", "duration", "date"]


@dataclass(frozen=True)
class Fact:
    kind: Kind
    words: str  # the span of the turn as said
    turn: int
    value: float | None  # yuan; hours; days before today (None when unresolved or in the future)
    date: datetime.date | None  # the resolved day, for dates only
    statute: ArticleRef | None
    implies: str | None  # a neutral sentence that can be read aloud on a recorded call


COMPLAINT_LIMIT = ArticleRef(law="电信用户申诉处理办法", article_no=11)
REPAIR_LIMIT = ArticleRef(law="中华人民共和国电信条例", article_no=32)
FRAUD_DAMAGES = ArticleRef(law="中华人民共和国消费者权益保护法", article_no=55)

FEE_DISPUTE_MONTHS = 5
FEE_DISPUTE_HOURS = 150 * 24
URBAN_REPAIR_HOURS, RURAL_REPAIR_HOURS = 48, 72

COMPLAINT_LIMIT_IMPLIES = (
    "按所说的时间，收费争议发生距今已满五个月；按《电信用户申诉处理办法》第十一条，收费争议发生时距提起申诉"
    "超过五个月的，申诉受理机构不予受理；可先与公司协商处理。"
)
REPAIR_LIMIT_TAIL = (
    "按《电信条例》第三十二条，时限自用户申告障碍之日起算，不能按期修复或者调通的，应当及时通知用户，"
    "并免收障碍期间的月租费用，电信终端设备原因造成的障碍除外。"
)
FRAUD_DAMAGES_IMPLIES = (
    "按《消费者权益保护法》第五十五条，经营者提供商品或者服务有欺诈行为的，按消费者的要求增加赔偿，"
    "增加的金额为所付价款或者服务费用的三倍，不足五百元的为五百元；这一条以经营者有欺诈行为为前提。"
)

# --- numbers ---------------------------------------------------------------------------------

# Arabic: at most six digits, never a piece of a longer run (phone, ID and order numbers) or a time (10:30).
_ARABIC = r"(?<![0-9.])(?<!\d[,:])(?:\d{1,3}(?:,\d{3})+|\d{1,6})(?:\.\d{1,2})?(?![0-9]|:\d)"
# Chinese: starts with a digit or 十, so idioms like 千万/万一 are not numbers; nor is 十 in 几十, nor 十五 in 第五十五,
# nor 八十 in 百分之八十.
_CHINESE = (
    r"(?<![第几数之零〇一二两三四五六七八九十百千万亿])"
    r"[零〇一二两三四五六七八九十廿俩仨][零〇一二两三四五六七八九十百千万亿廿俩仨]*"
    r"(?:点[零〇一二三四五六七八九]+)?"
)
_NUM = rf"(?<!第)(?:{_ARABIC}|{_CHINESE})"  # 第三天 is an ordinal

_RANGE = re.compile(r"一两|两三|三四|四五|五六|六七|七八|八九")  # 两三天: two or three days
_UP_TO = r"[到至~-]"  # 一到两个工作天: one to two working days
_DIGIT_STRING = re.compile(r"[〇一二两三四五六七八九][〇零一二两三四五六七八九]")  # 一三八…: digits read out


def _number(words: str) -> float | None:
    """The value of an Arabic or Chinese numeral; the lower end of a range like 两三 or 一到两; None for
    digits read one by one (a phone number said aloud) or anything cn2an cannot read."""
    words = re.split(_UP_TO, words)[0].replace(",", "").replace("俩", "两").replace("仨", "三")
    if words[0].isdigit():
        return float(words)
    words = _RANGE.sub(lambda m: m.group()[0], words, count=1)
    if _DIGIT_STRING.search(words.split("点")[0]):
        return None
    try:
        return float(cn2an.cn2an(words, "smart"))
    except (ValueError, KeyError):  # cn2an refuses some malformed numerals (零十五) with a KeyError
        return None


# --- amounts ---------------------------------------------------------------------------------

_AMOUNT = re.compile(
    rf"(?P<currency>(?:HK|NT|US|MOP)?[$¥]\s?)?(?P<num>{_NUM})"
    r"(?P<mag>[kK](?![A-Za-z视电画高屏])|w(?![A-Za-z])|[千万])?"
    r"(?:多|几|来|余)?"
    r"(?P<unit>块钱|块(?![儿去来走玩吃做办电屏手])|元|圆|蚊|人民币|港币|港元|港纸|台币|美元|美金)?"
    r"(?P<jiao>(?<=块)[1-9一二三四五六七八九](?![0-9十百千万亿个天日月年号周块元])[毛角]?)?"  # 八块五, 9块9
)
_MAGNITUDE = {"k": 1e3, "K": 1e3, "w": 1e4, "千": 1e3, "万": 1e4}
# After a number without a unit these make it something other than money (千兆宽带, 一万步, 16期, 18点, 3万积分).
_NOT_MONEY_AFTER = set("兆米步次遍个人条字倍分秒年月天日号周级岁度台张部户件位只期点折楼层栋积家%GMBgmb")
# Words of a clause about money: a number said in it without a unit is a sum (扣了二十九, 月租一百零九, 贵四十).
_MONEY = re.compile(
    r"[扣花赔退交缴还充送罚补付欠贵]|(?<!诈)骗|费|价|钱|租|余额|押金|违约金|账单|消费|保底|一共|总共|合计|便宜|每期|每个?月|/[年月]"
)
# Before a number without a unit these make it a number to call, of a line or of points (打120, 尾号666, 积分3万).
_NOT_MONEY_BEFORE = re.compile(r"(?:[打拨]了?|尾号|号码|积分)\s?$")
_SERVICE_NUMBER = re.compile(r"[19]\d{4}")  # 10086, 12315, 95xxx: numbers to call


def _amounts(s: str, context: "_Context"):
    """Each sum said: start, end, yuan, and whether the words make it money (a currency or unit, 两千, or a
    clause about money); a number they do not is a sum only where the call says the figure as money."""
    for m in _AMOUNT.finditer(s):
        num, unit, mag = m["num"], m["unit"], m["mag"]
        big = mag or (not num[0].isdigit() and any(c in num for c in "千万亿"))
        after, before = s[m.end() : m.end() + 1], s[max(m.start() - 3, 0) : m.start()]
        if not unit and (after in _NOT_MONEY_AFTER or _NOT_MONEY_BEFORE.search(before)):
            continue
        value = _number(num)
        if value is None:
            continue
        said_as_money = bool(m["currency"] or unit or big)
        if not said_as_money and (value < 10 or _SERVICE_NUMBER.fullmatch(num)):
            continue  # a bare 一 or 三 (退一赔三), a number to call
        jiao = _number(m["jiao"][0]) / 10 if m["jiao"] else 0
        clause = context.clause(m.start())  # or its neighbours, when it is the number alone (扣了，一百二十八，)
        money = said_as_money or bool(_MONEY.search(context.around(m.start()) if clause == m.group() else clause))
        yield m.start(), m.end(), value * _MAGNITUDE.get(mag, 1) + jiao, money


# --- durations -------------------------------------------------------------------------------

_DURATION = re.compile(
    rf"(?:(?P<num>{_NUM}(?:{_UP_TO}{_NUM})?)(?:多|几)?(?P<measure>个|粒)?多?(?P<half>半)?|(?P<only_half>半)个?)"
    r"(?P<unit>工作日|工作天|分钟|小时|钟头|钟(?!点)|天(?!到晚)|日|星期|礼拜|周(?![年末])|月(?!份)|年(?![级代纪龄度]))多?"
)
_UNIT_HOURS = {
    "分钟": 1 / 60, "小时": 1, "钟头": 1, "钟": 1, "天": 24, "日": 24, "工作日": 24, "工作天": 24,
    "星期": 168, "礼拜": 168, "周": 168, "月": 720, "年": 8760,
}
# After 一天/一个月 these make it a rate (一天十几个, 一个月就打几个电话, 一个月合八十块), not a time.
_PER = re.compile(r"合|[就只才都能要]{0,2}[打接收来]?(?:好|十)?[几0-9一二两三四五六七八九十]+多?[个次条通回]")
_AGO = re.compile(r"以前|之前|前")
_LIMIT_OR_FUTURE = re.compile(r"[内后]|之[内后]|以[内后]")  # 48小时内, 三天后: a time limit or a time to come


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    count: float  # how many units
    unit: str

    @property
    def hours(self) -> float:
        return self.count * _UNIT_HOURS[self.unit]


def _durations(s: str):
    for m in _DURATION.finditer(s):
        unit, num, measure = m["unit"], m["num"], m["measure"]
        before = s[m.start() - 1 : m.start()]
        if m["only_half"]:
            if unit in ("天", "日"):
                continue  # 半天 means "a long while"
            count = 0.5
        else:
            count = _number(num)
            if not count:
                continue  # unreadable, or 0000年
            count += 0.5 if m["half"] else 0
        if unit == "月" and not (measure == "个" or num in ("两", "俩", "仨") or m["only_half"] or before == "近"):
            continue  # 五月 is May; 五个月, 仨月, 近三月 are durations
        if unit == "钟" and not measure:
            continue
        if measure == "粒" and unit != "钟":
            continue
        if unit == "日" and num and num[0].isdigit():
            continue  # 5日 is a day of the month
        if unit == "年" and count >= 100:
            continue  # 2026年 is a year
        if m.group() in ("一天", "一年") and before in set("有某那这每"):
            continue  # 有一天: one day, not a duration
        if count == 1 and (before in set("钱块元蚊") or _PER.match(s, m.end())):
            continue  # 多少钱一个月, 一天十几个: a rate
        yield _Span(m.start(), m.end(), count, unit)


# --- dates -----------------------------------------------------------------------------------

_YEAR = r"(?:(?P<y>(?<![0-9])\d{4}|[〇零一二三四五六七八九]{4})年|(?P<rel_year>大前年|前年|去年|旧年|上年|今年|明年))"
_MONTH = r"(?P<m>(?<![0-9])(?:1[0-2]|0?[1-9])|十[一二]?|[一二三四五六七八九])月"
_DAY = (
    r"(?:(?P<d>[12][0-9]|3[01]|0?[1-9]|[二三]?十[一二三四五六七八九]?|廿[一二三四五六七八九]?|[一二三四五六七八九])[日号]"
    r"|(?P<end>底))"
)
_REL_MONTH = r"(?P<rel_month>上上个月|上个月|上月|这个月|本月|下个月|下月)"
_WEEK = r"(?:周(?![边围])|星期|礼拜)"  # not 周边
_REL_WEEK = rf"(?P<rel_week>上上个?{_WEEK}|(?<!一)[上下这]个?{_WEEK}|本周)"  # not 看一下周边

# Back from today; a negative number is ahead (明年, 下个月, 明天).
_YEARS_BACK = {"今年": 0, "去年": 1, "旧年": 1, "上年": 1, "前年": 2, "大前年": 3, "明年": -1}
_MONTHS_BACK = {"本月": 0, "这个月": 0, "上月": 1, "上个月": 1, "上上个月": 2, "下月": -1, "下个月": -1}
# Cantonese: 琴日, 寻日 and 噚日 (㖊日 once simplified) are yesterday, 前日 the day before, 听日 (聽日) tomorrow.
_DAYS_BACK = {
    "今天": 0, "今日": 0, "今早": 0, "今晚": 0, "今朝": 0,
    "昨天": 1, "昨日": 1, "昨晚": 1, "琴日": 1, "琴晚": 1, "寻日": 1, "寻晚": 1, "㖊日": 1,
    "前天": 2, "前日": 2, "大前天": 3,
    "明天": -1, "明日": -1, "明早": -1, "明晚": -1, "听日": -1, "听朝": -1, "后天": -2, "后日": -2, "大后天": -3,
}
# The month a season said with its year ends in (winter: the February after).
_SEASON_ENDS = {"春": 5, "夏": 8, "秋": 11, "冬": 14}
_FESTIVALS = {
    "双十一": (11, 11), "双11": (11, 11), "双十二": (12, 12), "双12": (12, 12), "元旦": (1, 1), "国庆": (10, 1),
}
_WEEKDAYS = {c: i for i, c in enumerate("一二三四五六日", start=1)} | {"天": 7} | {str(i): i for i in range(1, 8)}

_ISO_DATE = re.compile(r"(?<![0-9])(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?![0-9])")
_DAY_DATE = re.compile(rf"(?:{_YEAR}?{_MONTH}|{_REL_MONTH}){_DAY}")
_FESTIVAL_DATE = re.compile(rf"{_YEAR}?(?P<fest>{'|'.join(_FESTIVALS)})")
_MONTH_DATE = re.compile(rf"{_YEAR}?{_MONTH}(?P<fen>份)?|{_REL_MONTH}")  # no day: unresolved
# 上周三, 礼拜天; 上周 alone is unresolved; 这周一直 is not Monday.
_WEEKDAY_DATE = re.compile(
    rf"(?:{_REL_WEEK}|(?<![上下这本个每0-9一二两三四五六七八九十])(?:周|星期|礼拜))"
    r"(?P<wd>[一二三四五六日天1-7](?![直下点般样起共定些]))?"
)
_DAY_WORD_DATE = re.compile(f"(?:{'|'.join(sorted(_DAYS_BACK, key=len, reverse=True))})(?!头条)")
# 月底, 年底: this month's or this year's last day (三月底, 上个月底 are day dates; 每年底 is no date).
_PERIOD_END_DATE = re.compile(r"(?<![0-9〇零一二三四五六七八九十个月年上下这本每])(?P<period>[月年])底")
# 第二天: the day after the day said before it in the turn (resolved there), else unresolved.
_NEXT_DAY_DATE = re.compile(r"第二天|次日|翌日")
# 去年, 2025年, 今年春天: unresolved; 今年 alone is no date (她今年七十三, 今年第二次).
_YEAR_DATE = re.compile(
    r"(?:(?<![0-9])(?P<y>\d{4})年|(?P<rel_year>大前年|前年|去年|旧年|上年|明年|今年(?=[春夏秋冬][天季]))(?!纪))"
    r"(?P<season>[春夏秋冬][天季])?"
)


def _minus_months(day: datetime.date, months: int) -> datetime.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return day.replace(year=year, month=month + 1, day=min(day.day, calendar.monthrange(year, month + 1)[1]))


def _month_end(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def _year(m: re.Match, today: datetime.date) -> int | None:
    if m["y"]:
        return int(cn2an.cn2an(m["y"], "smart"))  # 2025 or 二〇二五
    if m["rel_year"]:
        return today.year - _YEARS_BACK[m["rel_year"]]
    return None


def _latest_past(today: datetime.date, month: int, day: int) -> datetime.date:
    """A month and day said without a year: the last time it came round, today included."""
    this_year = datetime.date(today.year, month, day)
    return this_year if this_year <= today else datetime.date(today.year - 1, month, day)


@dataclass(frozen=True)
class _Date:
    start: int
    end: int
    date: datetime.date | None  # the day, when the words name one
    latest: datetime.date  # the latest day the words can mean (the day itself when resolved)


def _iso_date(m: re.Match, today: datetime.date):
    day = datetime.date(int(m["y"]), int(m["m"]), int(m["d"]))
    return day, day


def _day_date(m: re.Match, today: datetime.date):
    def day_in(year: int, month: int) -> datetime.date:  # the day said, or the month's last for 底
        return _month_end(year, month) if m["end"] else datetime.date(year, month, int(_number(m["d"])))

    if m["rel_month"]:
        first = _minus_months(today.replace(day=1), _MONTHS_BACK[m["rel_month"]])
        day = day_in(first.year, first.month)
    elif (year := _year(m, today)) is not None:
        day = day_in(year, int(_number(m["m"])))
    else:  # no year: the last time it came round, today included
        month = int(_number(m["m"]))
        day = day_in(today.year, month)
        day = day if day <= today else day_in(today.year - 1, month)
    return day, day


def _festival_date(m: re.Match, today: datetime.date):
    month, day_no = _FESTIVALS[m["fest"]]
    year = _year(m, today)
    day = datetime.date(year, month, day_no) if year is not None else _latest_past(today, month, day_no)
    return day, day


def _month_date(m: re.Match, today: datetime.date):
    """A month without a day: unresolved, but no later than its last day."""
    if m["rel_month"]:
        first = _minus_months(today.replace(day=1), _MONTHS_BACK[m["rel_month"]])
        return None, min(_month_end(first.year, first.month), today)
    year = _year(m, today)
    if year is None and not m["fen"]:
        return None  # 3月 alone: part of 3月5号, or not a date
    month = int(_number(m["m"]))
    if year is None:
        year = today.year if month <= today.month else today.year - 1
    return None, min(_month_end(year, month), today)


def _weekday_date(m: re.Match, today: datetime.date):
    rel = m["rel_week"] or ""
    if not rel and m["wd"] is None:
        return None
    monday = today - datetime.timedelta(days=today.weekday() + 7 * (rel.count("上") - rel.count("下")))
    if m["wd"] is None:  # 上周 alone: unresolved, but no later than its Sunday
        return None, min(monday + datetime.timedelta(days=6), today)
    weekday = _WEEKDAYS[m["wd"]] - 1
    if rel:
        day = monday + datetime.timedelta(days=weekday)
    else:  # 礼拜三 alone: the last one, today included
        day = today - datetime.timedelta(days=(today.weekday() - weekday) % 7)
    return day, day


def _day_word_date(m: re.Match, today: datetime.date):
    day = today - datetime.timedelta(days=_DAYS_BACK[m.group()])
    return day, day


def _year_date(m: re.Match, today: datetime.date):
    year, end = _year(m, today), _SEASON_ENDS[m["season"][0]] if m["season"] else 12
    return None, min(_month_end(year + (end - 1) // 12, (end - 1) % 12 + 1), today)


def _period_end_date(m: re.Match, today: datetime.date):
    day = _month_end(today.year, today.month if m["period"] == "月" else 12)
    return day, day


def _next_day_date(m: re.Match, today: datetime.date):
    return None, today  # resolved against the turn in _turn_facts


_DATE_FORMS = [
    (_ISO_DATE, _iso_date),
    (_DAY_DATE, _day_date),
    (_FESTIVAL_DATE, _festival_date),
    (_MONTH_DATE, _month_date),
    (_WEEKDAY_DATE, _weekday_date),
    (_DAY_WORD_DATE, _day_word_date),
    (_YEAR_DATE, _year_date),
    (_PERIOD_END_DATE, _period_end_date),
    (_NEXT_DAY_DATE, _next_day_date),
]


def _dates(s: str, today: datetime.date):
    """Each date said in s: the day when the words name one, and the latest day they can mean."""
    for pattern, resolve in _DATE_FORMS:
        for m in pattern.finditer(s):
            try:
                resolved = resolve(m, today)
            except (ValueError, OverflowError):
                continue  # 2月30号, 〇〇〇〇年
            if resolved:
                yield _Date(m.start(), m.end(), *resolved)


def _ago(span: _Span, today: datetime.date) -> datetime.date:
    """The day a duration before today: calendar months and years; days for the rest."""
    months = {"月": 1, "年": 12}.get(span.unit)
    if months and (span.count * months).is_integer():
        return _minus_months(today, int(span.count * months))
    return today - datetime.timedelta(hours=span.hours)


# --- the words around a fact -----------------------------------------------------------------

# Clause breaks; a comma or point between digits (1,500 or 1.5) is part of the number.
_CLAUSE_BREAK = re.compile(r"[!?;:。！？；：、…~～\s]+|(?<![0-9])[,.]|[,.](?![0-9])")
_FEE = re.compile(r"扣(?!子)|收费|多收|乱收|收了我|话费|月租|账单|计费|费用|资费|退费|退钱")
_FAULT = re.compile(
    r"(?<!判)断(?!定)|没网|没有网|冇网|没信号|没有信号|冇信号|上不了网|上不去网|打不通|打不出|用不了|不能用|没法用|"
    r"掉线|故障|障碍|报修|报障|修(?!改|订)|坏了|网速慢"
)
_TENURE = re.compile(r"用了|办了|在网|合约|签了|老用户|开户")
_PAST = re.compile(r"了|已经|一直|以来")
_DEMAND = re.compile(r"赔")
_NOT_A_DEMAND = re.compile(r"不用赔|不要赔|不需要赔|别赔|无需赔|违约金|我赔")


def _clauses(s: str) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for m in _CLAUSE_BREAK.finditer(s):
        bounds.append((start, m.start()))
        start = m.end()
    return [*bounds, (start, len(s))]


class _Context:
    """The clause a span is in, and that clause with its neighbours."""

    def __init__(self, s: str):
        self.s, self.clauses = s, _clauses(s)

    def _index(self, pos: int) -> int:
        return next((i for i, (_, end) in enumerate(self.clauses) if pos < end), len(self.clauses) - 1)

    def clause(self, pos: int) -> str:
        start, end = self.clauses[self._index(pos)]
        return self.s[start:end]

    def before(self, pos: int) -> str:
        """The clause up to pos."""
        return self.s[self.clauses[self._index(pos)][0] : pos]

    def around(self, pos: int) -> str:
        i = self._index(pos)
        return " ".join(self.s[a:b] for a, b in self.clauses[max(i - 1, 0) : i + 2])

    def about(self, start: int, end: int) -> str:
        """The clause of a span, with its neighbours when it says little else (五个月前，你们多扣了钱);
        a clause of its own (去年双十一办的套餐) is about itself."""
        clause = self.clause(start)
        return self.around(start) if len(clause) - (end - start) <= 3 else clause


def _repair_implies(words: str, hours: float) -> str:
    urban = "已超过" if hours > URBAN_REPAIR_HOURS else "已达到"
    if hours > RURAL_REPAIR_HOURS:
        limits = f"{urban}城镇48小时、农村72小时的修复时限"
    elif hours == RURAL_REPAIR_HOURS:
        limits = f"{urban}城镇48小时的修复时限，也达到农村72小时的时限"
    else:
        limits = f"{urban}城镇48小时的修复时限，农村的时限为72小时"
    return f"所说的{words}{limits}；{REPAIR_LIMIT_TAIL}"


def _duration_provision(span: _Span, s: str, context: _Context) -> tuple[ArticleRef | None, str | None]:
    if _LIMIT_OR_FUTURE.match(s, span.end):
        return None, None  # 48小时内 is a time limit, 三天后 a time to come: nothing has been waited yet
    if _TENURE.search(context.before(span.start)):
        return None, None  # 用了三年: how long the customer has had the service
    around = context.around(span.start)
    if span.hours >= URBAN_REPAIR_HOURS and _FAULT.search(around):
        return REPAIR_LIMIT, _repair_implies(s[span.start : span.end], span.hours)
    if span.hours >= FEE_DISPUTE_HOURS and _FEE.search(around) and _PAST.search(context.clause(span.start)):
        return COMPLAINT_LIMIT, COMPLAINT_LIMIT_IMPLIES
    return None, None


# --- one turn --------------------------------------------------------------------------------


def _same_length_normal(text: str) -> str:
    """Half-width and simplified, one character for one, so offsets stay those of the turn."""
    half = "".join(n if len(n := unicodedata.normalize("NFKC", c)) == 1 else c for c in text)
    simple = to_simplified(half)
    if len(simple) != len(half):  # a phrase conversion changed the length: convert one by one
        simple = "".join(t if len(t := to_simplified(c)) == 1 else c for c in half)
    return simple


def _turn_facts(text: str, turn: int, today: datetime.date, figures: set[float]) -> list[Fact]:
    s = _same_length_normal(text)
    context = _Context(s)
    five_months_ago = _minus_months(today, FEE_DISPUTE_MONTHS)
    found: list[tuple[int, int, int, Fact]] = []  # start, end, priority, fact

    def add(start: int, end: int, priority: int, kind: Kind, value, day=None, statute=None, implies=None):
        found.append((start, end, priority, Fact(kind, text[start:end], turn, value, day, statute, implies)))

    def date_fact(start: int, end: int, day: datetime.date | None, latest: datetime.date) -> None:
        value = float((today - day).days) if day and day <= today else None
        fee_dispute = latest <= five_months_ago and _FEE.search(context.about(start, end))
        add(start, end, 0, "date", value, day, *((COMPLAINT_LIMIT, COMPLAINT_LIMIT_IMPLIES) if fee_dispute else ()))

    dates = list(_dates(s, today))
    for span in _durations(s):
        if ago := _AGO.match(s, span.end):  # 五个月前 is a date
            day = _ago(span, today)
            dates.append(_Date(span.start, ago.end(), day, day))
            continue
        add(span.start, span.end, 1, "duration", span.hours, None, *_duration_provision(span, s, context))
    day_before = None
    for d in sorted(dates, key=lambda d: (d.start, d.end)):
        if _NEXT_DAY_DATE.fullmatch(s, d.start, d.end) and day_before:  # 前天晚上……第二天
            next_day = day_before + datetime.timedelta(days=1)
            d = replace(d, date=next_day, latest=next_day)
        date_fact(d.start, d.end, d.date, d.latest)
        day_before = d.date
    for start, end, value, money in _amounts(s, context):
        if not (money or value in figures):
            continue  # a bare number: a price plan, a hotline, a code
        clause = context.clause(start)
        demand = _DEMAND.search(clause) and not _NOT_A_DEMAND.search(clause)
        add(start, end, 2, "amount", value, *((None, FRAUD_DAMAGES, FRAUD_DAMAGES_IMPLIES) if demand else ()))

    # Where matches overlap the earliest and longest wins, then dates over durations over amounts.
    kept, taken_until = [], -1
    for start, end, _, fact in sorted(found, key=lambda f: (f[0], f[0] - f[1], f[2])):
        if start >= taken_until:
            kept.append(fact)
            taken_until = end
    return _without_repeats(kept)


def _without_repeats(facts: list[Fact]) -> list[Fact]:
    """The same words said twice in a turn are one fact, with a provision if either mention had one."""
    first: dict[tuple[str, str], int] = {}
    out: list[Fact] = []
    for fact in facts:
        key = (fact.kind, fact.words)
        if key not in first:
            first[key] = len(out)
            out.append(fact)
        elif fact.statute and not out[first[key]].statute:
            out[first[key]] = replace(out[first[key]], statute=fact.statute, implies=fact.implies)
    return out


def extract_facts(texts: list[str], today: datetime.date) -> list[Fact]:
    """Amounts, durations and dates said in a conversation's turns (oldest first), in order of turn
    and position, with the provision each can be checked against where one applies. A number said without
    a unit is a sum in a clause about money, or where the call says the same figure as money (三百元 ...
    三百的话可以)."""
    figures = {
        value
        for s in map(_same_length_normal, texts)
        for _, _, value, money in _amounts(s, _Context(s))
        if money
    }
    return [fact for turn, text in enumerate(texts) for fact in _turn_facts(text, turn, today, figures)]
