import pytest

from app.text.normalize import normalize, split_clauses


def test_traditional_becomes_simplified():
    assert normalize("客戶說我們的條款是霸王條款") == "客户说我们的条款是霸王条款"


def test_full_width_becomes_half_width():
    assert normalize("ＡＢＣ１２３，流量") == "ABC123,流量"


def test_white_space_collapsed_and_trimmed():
    assert normalize("  宽带\t断了 \n\n 三天  ") == "宽带 断了 三天"


def test_invisible_and_control_characters_removed():
    assert normalize("霸王\u200b条款\u202e\x00款") == "霸王条款 款"


def test_a_complaint_splits_into_its_clauses():
    assert split_clauses("客户说流量被偷了，要双倍赔偿，不然找记者曝光") == ["客户说流量被偷了", "要双倍赔偿", "不然找记者曝光"]
    assert split_clauses("宽带断了三天还要赔钱并且要道歉") == ["宽带断了三天", "还要赔钱", "并且要道歉"]


def test_a_single_clause_or_tiny_fragments_give_no_clauses():
    assert split_clauses("宽带坏了报修两天还没人来修") == []
    assert split_clauses("宽带坏了，好吗") == []


@pytest.mark.parametrize(
    "dialect, mandarin",
    [
        ("你哋門口條電線勾到我阿媽", "你们门口条电线勾到我妈妈"),
        ("我部手機冇訊號，吃到飽又俾你哋降速", "我部手机没有信号,不限量又给你们降速"),
        ("門市話要攜碼先要解綁約", "营业厅话要携号转网先要解合约"),
        ("寬頻月費計劃幾時到期", "宽带套餐什么时候到期"),
        ("我想問下點解我今個月張單多咗八十幾蚊數據費", "我想问下为什么我这个月账单多了八十几块流量费"),
        ("我頭先喺便利店買咗張一百蚊增值卡", "我刚才在便利店买了张一百块充值卡"),
        ("你哋係咪聽日下晝派師傅嚟", "你们是不是明天下午派师傅来"),
        ("呢張單唔啱", "这个账单不对"),
        ("仲話我欠費，仲有推銷電話", "还说我欠费,还有推销电话"),
        ("嗰個職員冇講清楚，佢係咁講嘅", "那个职员没有讲清楚,他是这么讲的"),
        ("家裡光世代斷線，行動上網又好慢", "家里光纤宽带断线,手机上网又好慢"),
        # 唔係 after a demand is 否则; before what one is, 不是
        ("快啲退錢，唔係我會去消委會", "快些退钱,不然我会去消委会"),
        ("唔係我做嘅", "不是我做的"),
    ],
)
def test_cantonese_and_taiwanese_words_become_the_mandarin_ones(dialect, mandarin):
    assert normalize(dialect) == mandarin


@pytest.mark.parametrize(
    "text",
    [
        "系统仲裁", "重点解决话费问题", "重点解读资费", "然而家里宽带断了", "个人数据被泄露", "今天听日本新闻",
        "这张单子", "一张单程票", "师傅开了一张单", "蚊子太多", "没关系",
    ],
)
def test_mandarin_that_looks_like_dialect_is_left_alone(text):
    assert normalize(text) == text


@pytest.mark.parametrize(
    "transcript, meant",
    [
        ("喂 那个 我家款待又断了", "喂 那个 我家宽带又断了"),
        ("按照消费者那个法是要退一陪三的", "按照消费者那个法是要退一赔三的"),
        ("套参里的刘量用完了，话废还扣了", "套餐里的流量用完了,话费还扣了"),
        ("我要携号转往，你们说我有和约", "我要携号转网,你们说我有合约"),
    ],
)
def test_a_recogniser_s_misheard_telecom_words_become_the_words_meant(transcript, meant):
    assert normalize(transcript) == meant


@pytest.mark.parametrize("text", ["流浪猫", "我点了个套菜", "宽带断了"])
def test_words_a_customer_may_mean_are_left_alone(text):
    assert normalize(text) == text
