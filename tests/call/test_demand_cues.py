"""Demands stated in words: each cue with the look-alikes it must leave alone, and the written lines
(tests/call/data/demand_cues.jsonl: two writers, six demands, each said every way, with look-alikes; two more
writers for a child's or a relative's purchase charged to the bill; two more for a company that cannot be
reached, a phone on a contract or in instalments, a scam, a line cut off, home broadband down, no mobile signal
and an offer missed)."""

import json
from pathlib import Path

import pytest

from app.call.assist import turn_demands
from app.call.demand_cues import stated_demands

LINES = [
    json.loads(line)
    for line in (Path(__file__).with_name("data") / "demand_cues.jsonl").read_text(encoding="utf-8").splitlines()
]


@pytest.mark.parametrize(
    "text,demand",
    [
        ("喂，我兩個月前喺營業廳簽咗個無限流量嘅合約，職員話任用唔限速，點知用到三十G就慢到連微信都發唔出", "false-advertising"),
        ("你们业务员上我家来，拍胸脯说装宽带头一年白给，这整完了一年收我六百多", "false-advertising"),
        ("说好的送宽带呢？", "false-advertising"),
        ("宽带讲好三百兆，装好一测才五十", "false-advertising"),
        ("嗯对对，就是那个副卡，我想把副卡取消掉，然后那个，主卡套参也顺便降一档", "plan-change"),
        ("cx要求恢复原tc 退差价", "plan-change"),
        ("我根本不知道话费还能付游戏钱，谁给开的这个功能", "unauthorized-service"),
        ("cx 称未成年子女通过话费支付进行游戏充值，户主未授权，要求退款", "unauthorized-service"),
        ("cx称学生优惠被拒 已提供学生证 要求重新审核", "promotion-eligibility"),
        ("我请了半天假在家等师傅，来回打车六十多，这些钱你们得给我报了", "travel-lost-wages"),
        ("我是按天拿工钱的，你们师傅放我鸽子那天我可是一分钱没挣着", "travel-lost-wages"),
        ("手机一直没信号，我是跑网约车的，三天没出车", "travel-lost-wages"),
        ("断网害我开不了会，出差在外的损失你们认不认", "travel-lost-wages"),
        ("还有那个师傅，得让他上门给我道歉，态度也太差了，全程板着脸", "service-attitude"),
        ("我当时签了两年合约，现在搬去外地了还要交违约金？", "contract-lockin"),
        ("你们说我有合约转不了网，我根本不记得签过", "contract-lockin"),
        ("我想提前解約，合約期仲有八個月", "contract-lockin"),
        ("升级5G要重新签约吗？我不想绑那么久", "contract-lockin"),
        ("我昨天在支付宝充了五十，到现在还没到账", "recharge-payment"),
        ("我明明交了话费，怎么还是停机", "recharge-payment"),
        ("我明明上個禮拜交咗話費，仲話我欠費停機", "recharge-payment"),
        ("送的耳机根本不响，那个合约你们也得给我解了", "contract-lockin"),
        ("你们的推销电话一天打四五个，烦不烦", "privacy-marketing"),
        ("你哋啲推銷電話一日打三次", "privacy-marketing"),
        ("我的个人信息是不是被你们卖了", "privacy-marketing"),
        ("嗰個職員態度好差，問兩句就黑面", "service-attitude"),
        ("明明有缴费啊，系统还说我没交", "recharge-payment"),
        ("打你们热线转人工，排了半个钟头队都没人接", "unreachable-service"),
        ("上周提的工单到现在没人回复", "unreachable-service"),
        ("你們客服電話打唔通，一直係錄音", "unreachable-service"),
        ("营业员劝我爸办了个合约机，八十岁的人哪用得了智能机", "installment-phone"),
        ("手机都丢了，分期还要每个月照扣？", "installment-phone"),
        ("接到一个自称你们客服的电话，说我套餐要降级，让我点链接", "fraud-security"),
        ("对方让我报验证码，我报了，卡里的钱就没了", "fraud-security"),
        ("昨天刚充的钱，今天号码就停机了", "suspension-arrears"),
        ("家里光猫一直亮红灯，网根本连不上", "broadband-fault"),
        ("宽带要移到新家，你们说那边没有端口", "broadband-fault"),
        ("我家卧室一点信号都没有，打电话老掉线", "network-quality"),
        ("新人专享价才十九，我这种老客户就没份", "promotion-eligibility"),
        ("上个月那个五折活动现在还能办吗", "promotion-eligibility"),
    ],
)
def test_a_demand_said_in_its_own_words_is_raised(text, demand):
    assert demand in stated_demands(text)


@pytest.mark.parametrize(
    "text,demand",
    [
        ("我被冒充你们客服的骗了8000，说我套餐要升级不操作就扣费", "false-advertising"),  # a scam, not the company's claim
        ("营业员说要带身份证和户口本，我都带齐了", "false-advertising"),  # information, no claim of a price or a gift
        ("你们广告上说的那个满一百减二十我用了，确实减了，挺划算", "false-advertising"),
        ("好，那我先不升，週末去門市試試看訊號再說", "false-advertising"),  # 再说 is no one's claim
        ("我家在三樓，5G訊號很不穩定，常常跳回4G", "plan-change"),
        ("套餐我不换，你们别再打电话推销了", "plan-change"),
        ("那个彩铃是我自己开的，我就想换一首歌", "unauthorized-service"),
        ("我没办法每天都查话费", "unauthorized-service"),
        ("我儿子买游戏点卡是我同意的，用话费付也是我开的", "unauthorized-service"),
        ("请问话费能拿来在游戏里付钱吗？我想提前设置一下，防止我家孩子乱买", "unauthorized-service"),
        ("你好，我想鞋号转网，你们APP上查说我不能转，说有什么融合套餐", "promotion-eligibility"),
        ("我这三天没法接单，流量根本不够用", "promotion-eligibility"),
        ("那就好，不用我再跑一趟", "travel-lost-wages"),
        ("师傅已经来过两趟了，讲是光猫问题", "travel-lost-wages"),
        ("我就是给业主群里的人发那个停车费的通知啊", "travel-lost-wages"),
        ("我请了半天假去营业厅，我请假的事无所谓，是我自己愿意去的", "travel-lost-wages"),
        ("cx称装维师傅准时上门 未耽误上班 表扬", "travel-lost-wages"),
        ("我下个月出差，想问问漫游怎么开", "travel-lost-wages"),
        ("这周工作忙，晚点再去营业厅办", "travel-lost-wages"),
        ("说好了周五上门装宽带，师傅准时来了", "false-advertising"),  # a visit agreed, no claim of a price or a term
        ("我不是说她态度不好，我是说你们告诉我的价钱不对", "service-attitude"),
        ("你们那个客服态度挺好的，问题也解决了", "service-attitude"),
        ("我的合约上个月已经到期了，想看看有什么新套餐", "contract-lockin"),
        ("不用交违约金就好，那我下个月再来办", "contract-lockin"),
        ("我没签什么合约，就是普通的月租卡", "contract-lockin"),
        ("你们这个宽带包年一年多少钱", "contract-lockin"),
        ("我充了一百，送的五十还没到账", "recharge-payment"),
        ("我想问一下交话费有哪些方式", "recharge-payment"),
        ("我已经说了明天交话费", "recharge-payment"),
        ("我的号被标记成骚扰电话了，客户都不接", "privacy-marketing"),
        ("我不是说你们泄露了信息，就是想查一下", "privacy-marketing"),
        ("营业员态度好，解释得也清楚", "service-attitude"),
        ("热线一下就接通了，人工客服也很耐心", "unreachable-service"),
        ("手机号给标成诈骗电话了，打给客户都没人接", "unreachable-service"),
        ("合约机屏幕碎了，在保修期内能修吗", "installment-phone"),
        ("我的手机是全款买的，不是合约机", "installment-phone"),
        ("合约还没到期，提前解约送的手机要交违约金吗", "installment-phone"),  # the penalty is contract-lockin's
        ("这号码被别人标注为诈骗电话了", "fraud-security"),
        ("我没被骗，就是想问问来电显示怎么开", "fraud-security"),
        ("主卡欠费了，我的副卡也跟着停了", "suspension-arrears"),
        ("想办个停机保号，出国一年", "suspension-arrears"),
        ("我没欠费，就是查一下余额", "suspension-arrears"),
        ("有人冒充你们说我号码要停机，让我报验证码", "suspension-arrears"),  # a scammer's pretext
        ("整个小区从昨晚开始就没信号，宽带也断了", "network-quality"),
        ("整个小区从昨晚开始就没信号，宽带也断了", "broadband-fault"),
        ("宽带修好了，现在网速也正常", "broadband-fault"),
        ("信号没问题，就是想问问套餐", "network-quality"),
        ("你们现在有什么优惠活动", "promotion-eligibility"),  # a question about today's offers, nothing missed
        ("我这个老客户的订单被别人抢走了", "promotion-eligibility"),  # the shop's customer, no offer
    ],
)
def test_a_look_alike_raises_nothing(text, demand):
    assert demand not in stated_demands(text)


@pytest.mark.parametrize("line", [c for c in LINES if not c["positive"]], ids=lambda c: c["text"][:40])
def test_the_written_look_alikes_raise_nothing_by_their_words(line):
    assert line["demand"] not in stated_demands(line["text"])


def test_the_written_demands_are_raised_by_a_turn_s_reading_and_its_words(engine):
    # The cues add to what a turn's likeness to the scenarios raises; together they must find most
    # of the demands, and the cues must be what finds a good share of them.
    positives = [c for c in LINES if c["positive"]]
    read = [c["demand"] in turn_demands(engine, c["text"]) for c in positives]
    both = [r or c["demand"] in stated_demands(c["text"]) for r, c in zip(read, positives)]
    assert sum(both) / len(positives) >= 0.90
    assert (sum(both) - sum(read)) / len(positives) >= 0.15
