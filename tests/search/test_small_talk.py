"""The small-talk reader on the real index, with lines written here (in no corpus or evaluation file)."""

from app.search.small_talk import small_talk
from app.text.normalize import normalize


def read(engine, texts: list[str]) -> list[bool]:
    vectors = engine.encoder.encode_queries([normalize(t) for t in texts])
    return small_talk(engine.index.collections, vectors).tolist()


def test_small_talk_is_told_from_the_matter_and_from_other_trades(engine):
    talk = ["刚去早市买了两斤韭菜，准备包盒子", "今天降温了，早上出门差点冻僵", "我家老二学会走路了，满屋子跑"]
    matter = [
        "你们装网的师傅把我家地板刮花了",  # the complaint
        "我爸八十多了，你们改了套餐他根本不知道",  # the customer's life, as part of it
        "健身房不给我退卡，我要投诉他们",  # another trade's complaint is no small talk
    ]
    assert read(engine, talk) == [True] * 3
    assert read(engine, matter) == [False] * 3


def test_a_complaint_padded_with_small_talk_is_judged_by_the_complaint(engine):
    padded = "今天降温了，早上出门差点冻僵。说正事，你们给我开了个彩铃我没同意过，每月扣五块，我要全部退回来。我家老二学会走路了，满屋子跑。"
    result = engine.search(padded, top_k=3)
    assert result.match.level != "none"
    assert "unauthorized-service" in result.scripts[0].record.scenarios


def test_another_trade_padded_with_small_talk_still_fits_nothing(engine):
    padded = "今天降温了，早上出门差点冻僵。说正事，燃气公司这个月多收了我两百块燃气费，我要他们退。刚去早市买了两斤韭菜，准备包盒子。"
    assert engine.search(padded, top_k=3).match.level == "none"
