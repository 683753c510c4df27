import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.call.facts import extract_facts
from app.corpus.statutes import StatuteBook

TODAY = datetime.date(2026, 6, 15)  # a Monday
STATUTES_DIR = Path(__file__).resolve().parents[2] / "corpus" / "statutes"

COMPLAINT_LAW = "电信用户申诉处理办法"
REPAIR_LAW = "中华人民共和国电信条例"
CONSUMER_LAW = "中华人民共和国消费者权益保护法"


def facts(*turns):
    return extract_facts(list(turns), TODAY)


def one(text):
    found = facts(text)
    assert len(found) == 1, found
    return found[0]


def cited(fact):
    return (fact.statute.law, fact.statute.article_no) if fact.statute else None


# --- amounts ---


@pytest.mark.parametrize(
    ("text", "words", "yuan"),
    [
        ("我交了1500元", "1500元", 1500),
        ("多扣了我二百块", "二百块", 200),
        ("办的八十八块的套餐", "八十八块", 88),
        ("扣了¥200", "¥200", 200),
        ("这手机3k买的", "3k", 3000),
        ("两千多啊", "两千多", 2000),
        ("一百多块钱", "一百多块钱", 100),
        ("又扣了1.5万", "1.5万", 15000),
        ("每个月多二十块", "二十块", 20),
        ("就八块五", "八块五", 8.5),
        ("月租1,500元", "1,500元", 1500),
    ],
)
def test_amounts_with_their_value_in_yuan(text, words, yuan):
    fact = one(text)
    assert (fact.kind, fact.words, fact.value) == ("amount", words, yuan)
    assert fact.date is None and fact.statute is None and fact.implies is None


def test_a_package_price_is_an_amount_only_with_a_currency_unit():
    assert [f.words for f in facts("我办的是199元套餐")] == ["199元"]
    assert facts("我用的129的套餐") == []
    assert facts("5G套餐199") == []


@pytest.mark.parametrize(
    ("text", "words", "yuan"),
    [
        ("月费$288", "$288", 288),
        ("上台送HK$500", "HK$500", 500),
        ("方案NT$1,399", "NT$1,399", 1399),
        ("收了我三百港币", "三百港币", 300),
        ("多扣了三十余元", "三十余元", 30),
        ("才9块9", "9块9", 9.9),
    ],
)
def test_currencies_said_before_or_after_the_number(text, words, yuan):
    fact = one(text)
    assert (fact.kind, fact.words, fact.value) == ("amount", words, yuan)


@pytest.mark.parametrize(
    ("text", "words", "yuan"),
    [
        ("每个月扣三十五", "三十五", 35),
        ("光猫押金200还没退", "200", 200),
        ("违约金要六百多", "六百多", 600),
        ("升级以后贵了五十", "五十", 50),
        ("宽带月租八十九", "八十九", 89),
        ("这个月账单二百七十多", "二百七十多", 270),
        ("少一分都不行，按三百赔", "三百", 300),
        ("续费价960/年", "960", 960),
        ("营业员说要收一百五的调试费", "一百五", 150),
    ],
)
def test_a_number_without_a_unit_is_a_sum_in_a_clause_about_money(text, words, yuan):
    found = [f for f in facts(text) if f.kind == "amount"]
    assert [(f.words, f.value) for f in found] == [(words, yuan)]


def test_a_number_alone_between_breaks_is_read_with_the_clauses_next_to_it():
    assert [f.words for f in facts("又扣费了，九十九，我根本没用")] == ["九十九"]
    assert facts("我问了，九十九，他没说") == []


def test_a_figure_said_as_money_in_the_call_is_a_sum_where_it_comes_again_without_a_unit():
    found = facts("新的套餐一百五十元", "一百五的话我能接受")
    assert [(f.turn, f.words, f.value) for f in found] == [(0, "一百五十元", 150), (1, "一百五", 150)]
    assert facts("一百五的话我能接受") == []


@pytest.mark.parametrize(
    "text",
    [
        "我妈今年七十三了，被扣了话费",  # an age, in a clause of its own
        "扣费短信一天发了16条",
        "打12315投诉你们乱扣费",
        "拨了120，急救费用另算",
        "尾号6666每月扣费",
        "积分2万多也被扣了",
        "合约还剩12期没还",
        "凌晨两三点的流量费",
        "要收百分之三十的违约金",
        "按消法退一赔三",
        "帮我退一下话费",
        "10:30扣的费",
    ],
)
def test_numbers_in_a_clause_about_money_that_are_not_sums(text):
    assert [f for f in facts(text) if f.kind == "amount"] == []


# --- durations ---


@pytest.mark.parametrize(
    ("text", "words", "hours"),
    [
        ("等了三天", "三天", 72),
        ("整整48小时", "48小时", 48),
        ("两个礼拜了", "两个礼拜", 336),
        ("半个月没人管", "半个月", 360),
        ("一个多月了", "一个多月", 720),
        ("排了三个钟头", "三个钟头", 3),
        ("仨月没用过", "仨月", 3 * 720),
        ("通话一个半小时", "一个半小时", 1.5),
        ("两三天吧", "两三天", 48),
        ("两天多了", "两天多", 48),
    ],
)
def test_durations_in_hours(text, words, hours):
    fact = one(text)
    assert (fact.kind, fact.words, fact.value, fact.date) == ("duration", words, hours, None)


@pytest.mark.parametrize(
    ("text", "words", "hours"),
    [
        ("三个工作日内回复", "三个工作日", 72),
        ("十四個工作天內退款", "十四個工作天", 336),
        ("要一到两个工作日到账", "一到两个工作日", 24),  # the lower end, as with 两三天
        ("等三到五天", "三到五天", 72),
        ("退近三月的费用", "三月", 3 * 720),
    ],
)
def test_working_days_ranges_and_recent_months(text, words, hours):
    fact = one(text)
    assert (fact.kind, fact.words, fact.value) == ("duration", words, hours)


@pytest.mark.parametrize(
    "text", ["保险多少钱一个月", "一天十几个推销电话", "一天能接好几个", "一个月合五十块", "清零上一年度的积分"]
)
def test_a_rate_is_not_a_duration(text):
    assert [f for f in facts(text) if f.kind == "duration"] == []


# --- dates ---


@pytest.mark.parametrize(
    ("text", "words", "day"),
    [
        ("五个月前办的", "五个月前", datetime.date(2026, 1, 15)),
        ("上个月十号那次", "上个月十号", datetime.date(2026, 5, 10)),
        ("昨天打过", "昨天", datetime.date(2026, 6, 14)),
        ("前天来过", "前天", datetime.date(2026, 6, 13)),
        ("去年双十一买的", "去年双十一", datetime.date(2025, 11, 11)),
        ("3月5号那天", "3月5号", datetime.date(2026, 3, 5)),
        ("上周三报的", "上周三", datetime.date(2026, 6, 10)),
        ("两个礼拜前", "两个礼拜前", datetime.date(2026, 6, 1)),
        ("二〇二五年三月五日", "二〇二五年三月五日", datetime.date(2025, 3, 5)),
        ("2026-01-03那天", "2026-01-03", datetime.date(2026, 1, 3)),
    ],
)
def test_dates_resolved_against_today(text, words, day):
    fact = one(text)
    assert (fact.kind, fact.words, fact.date) == ("date", words, day)
    assert fact.value == (TODAY - day).days


def test_a_day_and_month_without_a_year_is_the_last_one_before_today():
    fact = one("12月31号扣的")
    assert fact.date == datetime.date(2025, 12, 31)


def test_a_date_after_today_has_no_days_before_today():
    fact = one("2026年10月1日到期")
    assert fact.date == datetime.date(2026, 10, 1)
    assert fact.value is None


def test_a_month_or_year_without_a_day_is_a_date_left_unresolved():
    for text, words in [("上个月就这样", "上个月"), ("去年办的", "去年")]:
        fact = one(text)
        assert (fact.kind, fact.words, fact.date, fact.value) == ("date", words, None, None)


def test_an_impossible_day_is_not_a_date():
    assert facts("2月30号") == []


@pytest.mark.parametrize(
    ("text", "words", "day"),
    [
        ("去年五月十二号开通的", "去年五月十二号", datetime.date(2025, 5, 12)),
        ("上个月二十五号", "上个月二十五号", datetime.date(2026, 5, 25)),
        ("今天必须给答复", "今天", TODAY),
        ("今晚就发抖音", "今晚", TODAY),
        ("三月底扣的", "三月底", datetime.date(2026, 3, 31)),
        ("上个月底结束了", "上个月底", datetime.date(2026, 5, 31)),
    ],
)
def test_more_dates_resolved_against_today(text, words, day):
    fact = one(text)
    assert (fact.kind, fact.words, fact.date, fact.value) == ("date", words, day, (TODAY - day).days)


@pytest.mark.parametrize(
    ("text", "words", "day"),
    [
        ("明天去营业厅", "明天", datetime.date(2026, 6, 16)),
        ("聽日再嚟", "聽日", datetime.date(2026, 6, 16)),
        ("后天上门", "后天", datetime.date(2026, 6, 17)),
        ("下个月五号生效", "下个月五号", datetime.date(2026, 7, 5)),
        ("下周三上门", "下周三", datetime.date(2026, 6, 24)),
        ("账单月底要交", "月底", datetime.date(2026, 6, 30)),
        ("明年三月底到期", "明年三月底", datetime.date(2027, 3, 31)),
    ],
)
def test_days_ahead_are_dates_with_no_days_before_today(text, words, day):
    fact = one(text)
    assert (fact.kind, fact.words, fact.date, fact.value) == ("date", words, day, None)


@pytest.mark.parametrize("text", ["下周发货", "下个月生效", "今年春天办的", "去年冬天装的", "明年到期"])
def test_a_week_month_year_or_season_without_a_day_is_left_unresolved(text):
    fact = one(text)
    assert (fact.kind, fact.date, fact.value) == ("date", None, None)


def test_the_next_day_is_the_day_after_the_day_said_before_it():
    assert [(f.words, f.date) for f in facts("前天报的修，第二天才有人来")] == [
        ("前天", datetime.date(2026, 6, 13)),
        ("第二天", datetime.date(2026, 6, 14)),
    ]
    assert [(f.words, f.date) for f in facts("上周办的卡，第二天就有推销电话")] == [("上周", None), ("第二天", None)]
    assert [(f.words, f.date) for f in facts("装完第二天就坏了")] == [("第二天", None)]


@pytest.mark.parametrize(
    "text",
    ["这几天一直断网", "好几天了", "前几天看到的", "最近老是卡", "当天就报修了", "下午再打", "我今年七十三", "看一下周边", "今日头条上看到的", "积分每年底清零"],
)
def test_vague_times_are_not_dates(text):
    assert facts(text) == []


# --- traditional characters, Cantonese, full width ---


def test_traditional_and_cantonese_words_are_reported_as_said():
    found = facts("上個月十號扣咗我兩百蚊")
    assert [(f.kind, f.words, f.value) for f in found] == [("date", "上個月十號", 36), ("amount", "兩百蚊", 200)]
    assert found[0].date == datetime.date(2026, 5, 10)


@pytest.mark.parametrize(
    ("text", "kind", "words", "value"),
    [
        ("等咗三日", "duration", "三日", 72),
        ("兩個禮拜都冇網", "duration", "兩個禮拜", 336),
        ("琴日打過", "date", "琴日", 1),
        ("尋日", "date", "尋日", 1),
        ("兩千多蚊", "amount", "兩千多蚊", 2000),
        ("賠我一萬", "amount", "一萬", 10000),
        ("交咗１５００元", "amount", "１５００元", 1500),
        ("￥２００", "amount", "￥２００", 200),
    ],
)
def test_traditional_cantonese_and_full_width(text, kind, words, value):
    fact = one(text)
    assert (fact.kind, fact.words, fact.value) == (kind, words, value)


# --- what is not a fact ---


@pytest.mark.parametrize(
    "text",
    [
        "我的手机号是13812345678",
        "号码138 1234 5678",
        "一三八一二三四五六七八",
        "身份证号110101199003071234",
        "订单号DD2026100112345",
        "我要打12300投诉你们",
        "你稍等一下，我查一点东西",
        "一直都这样，一般不会",
        "千兆宽带",
        "我们一块去营业厅",
        "几十块的事",
        "等了半天",
        "第三天",
        "孩子三年级",
        "三点钟来",
        "看4K视频",
        "千万别断网",
    ],
)
def test_not_facts(text):
    assert facts(text) == []


# --- provisions ---


def test_a_fault_waited_48_hours_or_more_is_checked_against_the_repair_limit():
    fact = one("宽带断了三天了还没人来修")
    assert cited(fact) == (REPAIR_LAW, 32)
    assert "城镇48小时" in fact.implies and "农村72小时" in fact.implies
    assert "月租" in fact.implies  # what the article gives when the limit is missed, and nothing more
    assert "赔偿" not in fact.implies


def test_the_repair_limit_reads_the_fault_from_the_clause_next_to_the_duration():
    assert cited(one("我家没网，都48小时了")) == (REPAIR_LAW, 32)
    assert cited(one("斷網三天了")) == (REPAIR_LAW, 32)
    assert cited(one("宽带没网，到现在已经三天了")) == (REPAIR_LAW, 32)


def test_the_repair_limit_sentence_says_which_limits_the_time_said_passes():
    assert "已达到城镇48小时" in one("报障两天了还没修").implies
    assert "已超过城镇48小时、农村72小时" in one("故障一个礼拜了").implies


@pytest.mark.parametrize(
    "text",
    [
        "三天后给您回复",  # nothing to do with a fault
        "宽带故障，三天后再来",  # a time to come
        "报障后48小时内修好",  # a time limit, not a wait
        "断网一天了",  # under 48 hours
        "用了三年宽带，最近断网",  # how long the customer has had the service
    ],
)
def test_no_repair_limit(text):
    assert all(f.statute is None for f in facts(text))


def test_a_fee_dispute_five_months_back_is_checked_against_the_complaint_limit():
    date, amount = facts("五个月前多扣了我八十八块钱")
    assert cited(date) == (COMPLAINT_LAW, 11)
    assert "五个月" in date.implies and "不予受理" in date.implies
    assert amount.statute is None


@pytest.mark.parametrize("text", ["你们乱扣费半年了", "去年的话费一直多收", "一年多以前扣的费"])
def test_older_fee_disputes_said_other_ways(text):
    assert [cited(f) for f in facts(text)] == [(COMPLAINT_LAW, 11)]


@pytest.mark.parametrize(
    "text",
    [
        "两个月前多收了费",  # within five months
        "上个月十号扣了我两百块",
        "五个月前换了套餐",  # not about a fee
        "这个套餐半年",  # a duration, not a time past
        "办了半年的套餐，多扣了钱",  # how long the customer has had the plan
    ],
)
def test_no_complaint_limit(text):
    assert all(f.statute is None for f in facts(text))


def test_a_demanded_compensation_is_checked_against_the_fraud_damages_article():
    fact = facts("要求三倍赔偿，赔我一万")[0]
    assert (fact.words, cited(fact)) == ("一万", (CONSUMER_LAW, 55))
    assert "三倍" in fact.implies and "五百元" in fact.implies
    assert "以经营者有欺诈行为为前提" in fact.implies


@pytest.mark.parametrize("text", ["你们要三倍赔偿我两百块", "退一赔三，赔偿两千块"])
def test_other_compensation_demands(text):
    assert [cited(f) for f in facts(text)] == [(CONSUMER_LAW, 55)]


@pytest.mark.parametrize("text", ["我交了两百块话费", "不用赔两百块", "赔偿违约金两百块", "多扣了两百块，我要投诉"])
def test_no_fraud_damages(text):
    assert [f.statute for f in facts(text)] == [None]


def test_every_provision_named_is_in_force_in_the_corpus_and_says_what_the_sentence_says():
    book = StatuteBook.load(STATUTES_DIR)
    found = facts("宽带断了三天了还没人来修", "五个月前多扣了我八十八块钱", "要求三倍赔偿，赔我一万", "乱扣费半年了")
    linked = [f for f in found if f.statute]
    assert {cited(f) for f in linked} == {(REPAIR_LAW, 32), (COMPLAINT_LAW, 11), (CONSUMER_LAW, 55)}
    key_words = {
        32: ["48小时", "72小时", "月租"],
        11: ["收费争议", "五个月", "不予受理"],
        55: ["欺诈", "三倍", "五百元"],
    }
    for fact in linked:
        resolution = book.resolve(fact.statute.law, fact.statute.article_no)
        assert resolution.in_force == [resolution.cited]
        assert resolution.cited.law == fact.statute.law
        for word in key_words[fact.statute.article_no]:
            assert word in resolution.cited.text and word in fact.implies


def test_no_sentence_promises_an_outcome():
    found = facts("宽带断了三天了还没人来修", "五个月前多扣了我八十八块钱", "要求三倍赔偿，赔我一万")
    assert [f for f in found if f.implies]
    for fact in (f for f in found if f.implies):
        assert not any(word in fact.implies for word in ("一定", "肯定", "保证", "会赔", "可以获得"))


# --- a conversation ---


def test_facts_come_in_order_of_turn_then_position_with_repeats_in_a_turn_dropped():
    found = facts("上个月十号扣了我两百块，两百块啊", "您好，请问是哪个号码", "三天了，两百块")
    assert [(f.turn, f.words) for f in found] == [(0, "上个月十号"), (0, "两百块"), (2, "三天"), (2, "两百块")]


def test_a_repeated_mention_keeps_the_provision_either_one_had():
    found = facts("三天前说的三天，宽带断了三天")
    assert [(f.kind, f.words) for f in found] == [("date", "三天前"), ("duration", "三天")]
    assert cited(found[1]) == (REPAIR_LAW, 32)


def test_no_turns_no_facts():
    assert extract_facts([], TODAY) == []
    assert facts("", "好的") == []


# Characters the patterns look at, so random turns exercise them: numerals, units, date words, breaks.
CALL_CHARACTERS = (
    "0123456789,.¥kw 〇零一二两三四五六七八九十百千万廿俩仨几多半个粒"
    "块元蚊钱天日号月年周星期礼拜小时钟头前后内上这去昨第断扣费赔，。兩個號萬"
    "今明下底到余$工作春二"
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(alphabet=CALL_CHARACTERS, max_size=40), max_size=3))
def test_any_turns_give_well_formed_facts(turns):
    found = extract_facts(turns, TODAY)
    for fact in found:
        assert fact.words and fact.words in turns[fact.turn]
        assert fact.kind in ("amount", "duration", "date")
        assert (fact.statute is None) == (fact.implies is None)
        if fact.kind == "date":
            assert fact.value is None or (fact.value >= 0 and fact.date == TODAY - datetime.timedelta(days=fact.value))
        else:
            assert fact.date is None and fact.value is not None and fact.value >= 0
    assert [f.turn for f in found] == sorted(f.turn for f in found)


def test_a_date_with_a_clause_of_its_own_is_not_read_as_the_fee_dispute_next_to_it():
    found = facts("去年双十一办的那个199元套餐，五个月前开始每个月多扣我二十块")
    assert [(f.words, cited(f)) for f in found] == [
        ("去年双十一", None),
        ("199元", None),
        ("五个月前", (COMPLAINT_LAW, 11)),
        ("二十块", None),
    ]
    assert cited(one("五个月前，你们多扣了我的钱")) == (COMPLAINT_LAW, 11)
