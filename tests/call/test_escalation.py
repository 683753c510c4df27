from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.call.escalation import assess_escalation
from app.measure.evaluation import evaluate_signs, load_queries




def customer(*texts):
    return [("customer", t) for t in texts]


def kinds(escalation):
    return {r.kind for r in escalation.reasons}


# (what the customer says, level, kinds)
CASES = [
    # media: a step taken or fixed for now is high, an intention under a condition is a sign
    ("我已经把视频发到抖音上了，好多人在转", "high", {"media"}),
    ("今晚我就把这事发到微博上", "high", {"media"}),
    ("我已经联系了电视台的记者", "high", {"media"}),
    ("再不解决我就去找记者曝光你们", "watch", {"media"}),
    ("我要把这事发到网上，让大家评评理", "watch", {"media"}),
    ("我有个做公众号的朋友，要是你们推三阻四，我就让他写一篇", "watch", {"media"}),
    ("那个营业员态度这么差，让他写一篇检讨给我", "none", set()),
    # regulator
    ("我今天上午已经打了12300", "high", {"regulator"}),
    ("我已经向通管局反映了", "high", {"regulator"}),
    ("我明天就去消协投诉，材料都写好了", "high", {"regulator"}),
    ("你们要是不想处理，我就去工信部", "watch", {"regulator"}),
    ("我去消协问过了，他们说这种可以不认", "watch", {"regulator"}),
    # legal
    ("我已经请了律师，准备起诉你们", "high", {"legal"}),
    ("我律师函都写好了", "high", {"legal"}),
    ("大不了跟你们打官司", "watch", {"legal"}),
    ("律师告诉我这样收费不合法", "watch", {"legal"}),
    # repeat contact
    ("这是我第三次打电话了", "watch", {"repeat-contact"}),
    ("我投诉了好几次，一直没人管", "watch", {"repeat-contact"}),
    ("这已经不是第一次了，每次打来都说在处理", "watch", {"repeat-contact"}),
    ("光猫坏了，来回营业厅跑三趟", "watch", {"repeat-contact"}),
    # vulnerable
    ("我妈八十多了，被营业员忽悠办了两百块的套餐", "watch", {"vulnerable"}),
    ("我老婆怀孕在家，宽带断了三天没人修", "watch", {"vulnerable"}),
    ("我孩子偷偷充值了游戏，扣了好多钱", "watch", {"vulnerable"}),
    ("我爸住院了，手机要开着等医生电话", "watch", {"vulnerable"}),
    # threats: always high
    ("再不给我解决，我就砸了你们营业厅", "high", {"threat"}),
    ("我跟你们拼了", "high", {"threat"}),
    ("钱都被扣光了，我不想活了", "high", {"threat"}),
    ("你们不退钱我就从楼上跳下去", "high", {"threat"}),
    ("把她工号给我，我去你们呼叫中心门口堵她", "high", {"threat"}),
    # two kinds of sign together
    ("我第三次打电话了，我爸瘫痪在床就靠这个电话", "high", {"repeat-contact", "vulnerable"}),
    ("打了五次电话没人管，不给解决我就去工信部", "high", {"repeat-contact", "regulator"}),
    # traditional characters and Cantonese
    ("我要搵記者曝光你哋", "watch", {"media"}),
    ("我已經搵咗律師", "high", {"legal"}),
    ("再唔處理我就去消委會投訴", "watch", {"regulator"}),
    ("我已經入咗表去通訊事務管理局投訴你哋", "high", {"regulator"}),
    # 唔係 after a demand is 否则, not 不是
    ("聽日之前幫我修好，唔係我就去通訊局反映", "watch", {"regulator"}),
    ("三日內退返錢，唔係嘅話我就搵傳媒", "watch", {"media"}),
    ("唔係我想嘈，係你哋真係搞錯咗", "none", set()),
    ("我要告你哋", "watch", {"legal"}),
    ("你哋再係咁我就跳樓", "high", {"threat"}),
    ("這是我第三次打電話了", "watch", {"repeat-contact"}),
    ("我阿媽八十幾歲，被你哋呃咗辦套餐", "watch", {"vulnerable"}),
    # not escalations: negations, jobs, workplaces, rules, past events, things seen, no grievance
    ("我不会去找记者的，就想把钱退回来", "none", set()),
    ("我儿子在电视台上班，他说这个很常见", "none", set()),
    ("我個仔喺電視台做嘢，佢話你哋個plan幾抵", "none", set()),
    ("我是律所的前台，单位宽带断了", "none", set()),
    ("我有个做律师的朋友看了合同，说条款没问题", "none", set()),
    ("上次打电话你们处理得挺好", "none", set()),
    ("你们广告说投诉必究", "none", set()),
    ("我老公是律师，不过这点小事不至于", "none", set()),
    ("我也没打算告你们，就是想问清楚", "none", set()),
    ("不至于去工信部，你们给我查清楚就行", "none", set()),
    ("工信部不是有规定吗，携号转网可以线上办", "none", set()),
    ("我在新闻上看到你们的新套餐", "none", set()),
    ("cx称不会投诉 只想知道去哪申诉", "none", set()),
    ("我在医院上班，晚上才有空", "none", set()),
    ("我不会跳楼的，你放心，就是生气", "none", set()),
    ("我带孩子出去玩了几天，回来宽带就坏了", "none", set()),
    ("我想帮我阿嬷办张副卡，她八十岁了，能打电话就行", "none", set()),
    ("你们聋了吗，我说了流量不对", "none", set()),
    ("我打死也不办这个套餐了", "none", set()),
    ("我的手机号是13812300456", "none", set()),
    ("我是第一次打电话，宽带很慢", "none", set()),
    ("之前也和你们打过几次交道，这次想办个宽带", "none", set()),
    # threats said without the usual words: the thing broken named first, a tool carried, a person to hurt
    ("再不来人修，我就把你们店的橱窗玻璃给砸了", "high", {"threat"}),
    ("明天我拎上一把斧头去营业厅找你们", "high", {"threat"}),
    ("那个装机师傅再来，我非得揍他一顿", "high", {"threat"}),
    ("让我碰到那个客服，打得他满地找牙", "high", {"threat"}),
    ("我明天带几个人堵在你们营业厅门口", "high", {"threat"}),
    ("我这把年纪了，这条命不要了也要讨个说法", "high", {"threat"}),
    ("你好，我想把旧的锤子手机换成新的，号码不变", "none", set()),
    ("手机屏幕摔碎了，玻璃都裂了，能修吗", "none", set()),
    ("楼下修路把路堵住了，装机师傅进不来", "none", set()),
    # the customer's character, not an intention; a later clause still counts
    ("我可不是那种一点小事就找记者的人，你们把网修好就行", "none", set()),
    ("我不是那种爱闹的人，但这次再不处理我就去工信部", "watch", {"regulator"}),
    # a past call to a regulator only to ask, or about another business
    ("之前打过12315，只是问问退货的规定", "none", set()),
    ("我上周打过12315，投诉的就是你们", "high", {"regulator"}),
    ("不给说法我就去工信部投诉，就是问问你们管不管", "watch", {"regulator"}),
    ("去年我找过律师，那是离婚的事，跟你们这个没关系", "none", set()),
    ("我找过律师了，他说你们这个合同有问题", "high", {"legal"}),
    # a joke taken back, praise sent to the paper, hearsay
    ("再扣我钱我就去法院告你们，哈哈开个玩笑", "none", set()),
    ("再扣我钱我就去法院告你们", "watch", {"legal"}),
    ("你们小王服务太好了，我要写感谢信寄到报社", "none", set()),
    ("我要写信寄到报社，说说你们怎么坑人", "watch", {"media"}),
    ("我朋友说找记者一曝光就解决了，不过我不想闹大", "none", set()),
    ("我朋友帮我联系了记者", "high", {"media"}),
    # a place as a landmark, a lawyer at work, a job the customer gives themselves
    ("我家就在消协对面那个小区，宽带一直掉线", "none", set()),
    ("我们所律师开庭要用网，今天必须修好", "none", set()),
    ("cx为律所行政 单位宽带断网", "none", set()),
    ("cx自称执业律师 表示只想要个说法", "none", set()),
    ("cx称已委托律师 准备起诉", "high", {"legal"}),
    ("我小时候就想去当记者", "none", set()),
    # a regulator asked about its rules
    ("cx询问工信部对提速降费有什么规定", "none", set()),
    ("cx称要去工信部投诉你们违反规定", "watch", {"regulator"}),
    ("我已经向工信部反映了你们不按规定收费", "high", {"regulator"}),
    # calls the company makes, or daily calls only threatened, are no repeat contact
    ("你们营销电话天天打给我，烦死了", "none", set()),
    ("仲有你哋啲推銷電話一日打三次", "none", set()),
    ("不给我退钱我就天天打你们电话", "none", set()),
    ("我天天打你们电话，没人理", "watch", {"repeat-contact"}),
    # the step said where at the place it was taken
    ("我已经在12315网站上提交了投诉", "high", {"regulator"}),
    ("法院那边我已经立案了", "high", {"legal"}),
    # the place only qualifies a noun
    ("记者证能办优惠套餐吗", "none", set()),
    ("律师费要发票吗", "none", set()),
    ("我住在法院宿舍，宽带装一下", "none", set()),
    ("我请律师的钱你们得出", "watch", {"legal"}),
    # more threats; a clearance sale is no jump
    ("我活不成了，卡里的钱全被扣光了", "high", {"threat"}),
    ("明天就去你们营业厅门口泼油漆", "high", {"threat"}),
    ("这个月流量掉得跟跳楼价一样", "none", set()),
    # threats left open, or with others brought along
    ("cx情绪激动 称要找人把营业员打一顿", "high", {"threat"}),
    ("信不信我叫一帮兄弟过去找你", "high", {"threat"}),
    ("师傅带几个人过来装就行", "none", set()),
    ("别逼我，逼急了我什么事都干得出来", "high", {"threat"}),
    ("我要是出点什么事，就是你们逼的", "high", {"threat"}),
    ("我一帮同事都过来办卡，有优惠吗", "none", set()),
    ("电话打过去又被训了一顿，还是没解决", "none", set()),
    # an earlier call said shortly; the intention denied after the cue; a complaint site; a lawsuit filed
    ("cx称前几天已来电反映过 至今未处理", "watch", {"repeat-contact"}),
    ("我就想问问工信部的投诉电话是多少，不是要投诉", "none", set()),
    ("我已经在黑猫上投诉你们了", "high", {"media"}),
    ("我想办个宽带，我们记者站要用", "none", set()),
    ("我已經入禀咗小額錢債審裁處", "high", {"legal"}),
    # regulators, papers and legal steps by other names
    ("要是再拖，我就去工业和信息化部投诉", "watch", {"regulator"}),
    ("我昨天已经在领导留言板上反映了", "high", {"regulator"}),
    ("我已经打过政务热线，他们说会转给你们", "high", {"regulator"}),
    ("我已经在工信部的网站上投诉了", "high", {"regulator"}),
    ("我刚刚联系了都市报的热线", "high", {"media"}),
    ("实在不行只能诉诸法律", "watch", {"legal"}),
    # repeat contact said another way
    ("一直打你们电话都没人接", "watch", {"repeat-contact"}),
    ("打了n次了都没用", "watch", {"repeat-contact"}),
    ("宽带的事我反映了快一个月了", "watch", {"repeat-contact"}),
    ("我上个礼拜就报修过了", "watch", {"repeat-contact"}),
    ("我一直打电话给我妈，她都没接", "none", set()),
    ("我想反映一个问题，快到月底了流量不够", "none", set()),
    # vulnerable said another way, with a grievance
    ("我爸有老年痴呆，被营业员办了三张卡", "watch", {"vulnerable"}),
    ("我奶奶不识字，被忽悠签了合约", "watch", {"vulnerable"}),
    ("我都快七十的人了，你们还骗我", "watch", {"vulnerable"}),
    ("我奶奶不识字，想办个只能打电话的套餐", "none", set()),
    # a lawyer already retained, a reporter coming, a letter on its way; a friend who is a lawyer is none of those
    ("我的律师会联系你们", "high", {"legal"}),
    ("我的律师朋友说这个不合理", "watch", {"legal"}),
    ("记者明天就来采访我", "high", {"media"}),
    ("记者说他有空来看看", "watch", {"media"}),
    ("律师函下周就寄到你们公司", "high", {"legal"}),
    ("下周再不处理我就起诉", "watch", {"legal"}),
    # a protest at the door
    ("我明天就去你们营业厅门口拉横幅", "high", {"media"}),
    ("再不退钱我就拉横幅", "watch", {"media"}),
    ("我不会去拉横幅的，你们放心", "none", set()),
    # the police against the company, not a scammer reported in a fraud call
    ("我已经报警了，说你们诈骗", "high", {"legal"}),
    ("你们这是诈骗，我要报警", "watch", {"legal"}),
    ("我被骗了，已经报警了", "none", set()),
    ("骗子冒充你们客服，我报警了", "none", set()),
    # a step put off
    ("打官司的事以后再说吧，先把网修好", "none", set()),
    # a court as a landmark, even asked about or gone to; a clearance sale
    ("请问人民法院旁边那个营业厅几点关门", "none", set()),
    ("我去法院对面那家营业厅办的宽带", "none", set()),
    ("這手機跳樓大拍賣是真的嗎", "none", set()),
    # a contact counted with words between, or said in English; a procedure's name is no count
    ("这是我第四次在网上找你们了", "watch", {"repeat-contact"}),
    ("第n次问了，积分礼品到底什么时候发", "watch", {"repeat-contact"}),
    ("我已經send咗兩次email，都冇人覆", "watch", {"repeat-contact"}),
    ("短信说要我二次实名认证", "none", set()),
    ("你們一直打電話來慰留，一天打三次", "none", set()),
    # a stroke is an illness; a child counts with what happened to it, not when the customer looks after one
    ("我爸去年中风了，你们还让他签两年合约", "watch", {"vulnerable"}),
    ("我眼睛看不见，APP上的刷脸根本做不了", "watch", {"vulnerable"}),
    ("放学联系不上家里，孩子在校门口等了一个小时", "watch", {"vulnerable"}),
    ("宽带每个月照样扣钱，我现在帮女儿带孩子", "none", set()),
    # threats said another way; a traffic jam at the door is none
    ("再不来修，我就把你们门口给堵了", "high", {"threat"}),
    ("门口堵车，师傅来晚了", "none", set()),
    ("那个师傅再敢来我家，我打断他的腿", "high", {"threat"}),
    ("再推我就拿把刀去你们店里讨个说法", "high", {"threat"}),
    ("今日再冇人嚟，我就落你哋門市掟爛啲嘢", "high", {"threat"}),
    # the regulator's number as said aloud; a newspaper office; a post on a platform one goes to
    ("我昨天已经打了一二三零零了", "high", {"regulator"}),
    ("再拖我就去找消保官", "watch", {"regulator"}),
    ("唔退錢我就搵報館", "watch", {"media"}),
    ("我老公係報館做記者嘅", "none", set()),
    ("不给我退差价，我就去微博发帖", "watch", {"media"}),
    # a protest prepared; a banner of the shop's own is none
    ("横幅都做好了，周六就去你们门口", "high", {"media"}),
    ("你们门口的横幅写着免费升级", "none", set()),
    # no complaint, said so; what the news reported, in the clause after it
    ("cx咨询12300受理范围 非投诉", "none", set()),
    ("我在新闻上看到，说有人把运营商告上了法院", "none", set()),
    # 是不是 asks, it does not deny
    ("是不是要去找工信部才有用", "watch", {"regulator"}),
    ("我不是要去找记者，就是想问问", "none", set()),
    # a wheelchair, a school grade
    ("我爷爷坐轮椅，你们还非要他本人来营业厅", "watch", {"vulnerable"}),
    ("女儿才读初一，游戏充了八百多全从话费里扣", "watch", {"vulnerable"}),
    # passed around and put off; the company calling; an earlier call that only asked
    ("今天打进来转了四个客服，每个都让我重新讲", "watch", {"repeat-contact"}),
    ("报了两次修，每次都说等通知", "watch", {"repeat-contact"}),
    ("你们客户经理这周给我打了三次电话推销副卡", "none", set()),
    ("说好给我打回来，这是我第三次打过来了", "watch", {"repeat-contact"}),
    ("我上周打过电话问宽带续费多少钱，今天来办", "none", set()),
    ("上周打过电话问过什么时候修，到现在还没人来", "watch", {"repeat-contact"}),
    # threats said indirectly; waiting for a call back is none
    ("再不给我修好，你们给我等着", "high", {"threat"}),
    ("好的，那我等着你们回电", "none", set()),
    ("那个装维我知道他住哪，别怪我不客气", "high", {"threat"}),
    # a reporter booked, a live stream at the shop, a lawyer's letter misheard; streaming for a living is none
    ("我已经约了报社记者明天上午来", "high", {"media"}),
    ("再不退钱我就去你们营业厅开直播", "watch", {"media"}),
    ("我在家做直播带货，断网一天损失不小", "none", set()),
    ("律师涵我已经写好了", "high", {"legal"}),
    # a transcript's pause around a filler ends no clause
    ("我昨天已经在那个 工信部网站上 那个申诉 提交了", "high", {"regulator"}),
    ("我是在那个 电视台 上班的，流量老是不够", "none", set()),
    # a summons in a scam text, a lawsuit with someone else, a paper or a body cited as a source, good news
    ("收到条短信说法院的传票，让我点链接", "none", set()),
    ("我在打官司 和前夫分财产，要补开购机发票", "none", set()),
    ("我份報紙話你哋有長者優惠", "none", set()),
    ("我昨日看新民晚报，上头登了伪基站的文章", "none", set()),
    ("我见消委会出了份报告，说你们宽带最稳定", "none", set()),
    ("律师说你们有责任赔", "watch", {"legal"}),
    ("抽中了耳机，运气好到可以上新闻了哈哈", "none", set()),
    ("我们单位是市民热线12345那个中心，要批量换套餐", "none", set()),
    ("我开了间小律师事务所，想装企业宽带", "none", set()),
    # put online; counted without a number; threats in northern speech; a programme that is not a question
    ("再不退我就放上网让大家看看", "watch", {"media"}),
    ("打了多少回了，到现在还扣我钱", "watch", {"repeat-contact"}),
    ("再让那小子来我家，我削他", "high", {"threat"}),
    ("不给停分期，我明天一把火给你们点了", "high", {"threat"}),
    ("已经联系了电视台问政栏目，记者明天来拍", "high", {"media"}),
    # the customer's own age, a salesman's push; a sum is no age
    ("我今年七十九了，你们营业员给我乱办套餐", "watch", {"vulnerable"}),
    ("被店员推销办了合约，我阿嬤八十幾歲了", "watch", {"vulnerable"}),
    ("这个月扣了我八十几块钱的彩铃", "none", set()),
    # a space around a number or a Latin word is typography, not a pause that ends the clause
    ("cx 称此事 10 号已来电反映过，至今无人联系", "watch", {"repeat-contact"}),
    ("我已经在 12345 上留言了", "high", {"regulator"}),
    ("顺便问一下 12315 电话是多少？不是你们的事哈", "none", set()),
    ("cx 称自己是律所前台，白天要远程接电话", "none", set()),
    ("我已经把合约照片整理好PO到PTT了", "high", {"media"}),
    # 若 is a condition: an intention, not yet a step
    ("若本周日前还装不上，会把今天的通话录音放到本地论坛上让大家看看", "watch", {"media"}),
    ("我已经去咗私隱專員公署填咗投訴表", "high", {"regulator"}),
    ("两天后仍不能转，就往部里反映携转受阻", "watch", {"regulator"}),
    ("不给恢复我就讲给《直播生活》栏目", "watch", {"media"}),
    # where the programme is, between the step and it; a people's-livelihood programme; handed over
    ("周五前还修不好，这段录音我就报给咱们市里那个《百姓帮》栏目", "watch", {"media"}),
    ("录音我已经交给市里的民生栏目了", "high", {"media"}),
    ("材料我交给你们营业厅了", "none", set()),
    # a stream of one's own in one clause, the company its subject in the next
    ("我今晚八点直播测网速，顺便讲讲你们怎么骗人", "high", {"media"}),
    ("明天我开播，到时候说说你们的宽带有多烂", "high", {"media"}),
    ("昨天看了个直播，说说你们这个套餐吧", "none", set()),
    ("你们直播间那个优惠，说说你们怎么办理", "none", set()),
    ("喂，我是做直播的，说说你们这个宽带", "none", set()),
    ("我现在就去你们门店，我让她今天出不了门", "high", {"threat"}),
    ("你哋今日唔處理佢，我就喺門口等佢收工，打到佢識講嘢為止", "high", {"threat"}),
    ("明天带人去把那家店的门头招牌拆下来", "high", {"threat"}),
    ("cx 称孕晚期，号码昨天被停机", "watch", {"vulnerable"}),
    ("来回打车加上咖啡馆的消费，一天一百多", "none", set()),
    ("我爷爷帮我挑的号，他老人家现在身体还硬朗，保底太贵想取消", "none", set()),
    # a step waved off is none, a talk waved off is not
    ("我朋友叫我直接打1950，我觉得没必要", "none", set()),
    ("我要去12315投诉，没必要再跟你们谈了", "watch", {"regulator"}),
    # hearsay covers someone else's clauses in its sentence, not the customer's own
    ("我之前听同事说，他去年出国回来账单好几千，最后打了12315才给他减了一部分", "none", set()),
    ("我听同事说能退，我昨天已经打了12315", "high", {"regulator"}),
    # quotation marks and a pause before where at the place end no clause
    ("cx称如不全免，就去“管你们的那个部里”反映", "watch", {"regulator"}),
    ("我女儿昨天已经帮我在那个 幺二三零零 上面登记了", "high", {"regulator"}),
    ("我尋日已經喺消委會網站登記咗", "high", {"regulator"}),
    ("我已经在法院网上立了案，上周就收到受理通知", "high", {"legal"}),
    ("我那段录屏已经剪好了，今天晚上八点就发", "high", {"media"}),
    ("不然我就去通管局，顺便在微博上@你们官方", "high", {"media", "regulator"}),
    ("你哋再咁講，我就將個廣告放上連登", "watch", {"media"}),
    ("我已经跟县里那个拍短视频的小伙子讲好了，他下周过来拍", "high", {"media"}),
    ("我拍短视频的，网老是卡", "none", set()),
    ("不然我看到他一次扁他一次，我說到做到", "high", {"threat"}),
    ("再没人来我就拎着那个扳手到你们营业厅去", "high", {"threat"}),
    # withdrawn; the company's own calls counted
    ("cx称上月曾说要找通管局，后我司已处理，不再追究", "none", set()),
    ("你们公司的人一直给我打电话，前前后后打了七八次", "none", set()),
    # a question ends the negation before it in a transcript with no punctuation
    ("你这不是文字游戏吗我已经打了那个幺二三零零了", "high", {"regulator"}),
    ("我不是要去打那个幺二三零零", "none", set()),
    # a place that says where the signal is; a job there; a court's judgment cited; the office's broadband
    ("出门到县政府那边才偶尔有个5G标", "none", set()),
    ("cx称是某律师事务所行政，所里一部工作手机发不出短信", "none", set()),
    ("cx称是市晚报社财务部会计，报社办公宽带要开专票", "none", set()),
    ("离婚时法院判决书载明该号码归cx使用", "none", set()),
    ("不给我过户，我就去法院起诉", "watch", {"legal"}),
    # a lawyer somewhere, not the customer's workplace
    ("到时仲係冇，我就交俾我喺廣州嘅律師朋友幫我處理", "watch", {"legal"}),
    ("我在律所上班，宽带断了", "none", set()),
    # a live stream that sells is a job
    ("我在抖音上做直播卖茶叶的，一卡观众全跑了", "none", set()),
    ("不给我退我就在抖音上直播你们怎么坑人", "watch", {"media"}),
    # a regulator called about another matter; a procedure only asked about
    ("上次打12315是因为外卖平台的事，这次只要钱退回来就行", "none", set()),
    ("去年打过12315是投诉外卖平台的事，跟本次无关", "none", set()),
    ("我要打12315，是因为你们乱扣费的事", "watch", {"regulator"}),
    ("工信部那边投诉一般是怎么个流程啊，要准备啥材料？只是问问哈", "none", set()),
    # told off by someone, a question asked again at one visit: no contact counted
    ("老闆都講咗我幾次，開會成日甩線", "none", set()),
    ("我当时问了好几遍是不是全新的，店员说百分之百全新", "none", set()),
    ("我问了好几遍了，还是没人处理", "watch", {"repeat-contact"}),
    # a call before a holiday, a promise not kept; a salesgirl's persuading is no promise
    ("这事我春节前就打过你们电话，也说给我处理，结果屁都没有", "watch", {"repeat-contact"}),
    ("我上个月被门市小姐说服升级成5G，结果一过40G就降速", "none", set()),
    # posted online for all to judge; the regulator as a recogniser writes it
    ("你們這樣我真的會把整個過程PO上網給大家評評理", "watch", {"media"}),
    ("你们再这么拖着我就去那个通信管里局反映去", "watch", {"regulator"}),
]


@pytest.mark.parametrize("text,level,expected", CASES, ids=[c[0] for c in CASES])
def test_level_and_kinds(text, level, expected):
    escalation = assess_escalation(customer(text))
    assert (escalation.level, kinds(escalation)) == (level, expected)


@pytest.mark.parametrize("text,level,expected", CASES, ids=[c[0] for c in CASES])
def test_evidence_is_the_words_in_the_turn(text, level, expected):
    turns = [
        ("agent", "您好，请问有什么可以帮您？"),
        ("customer", "流量不对"),
        ("agent", "我帮您查一下"),
        ("customer", text),
    ]
    escalation = assess_escalation(turns)
    for reason in escalation.reasons:
        assert reason.turn == 3
        assert reason.evidence and reason.evidence in turns[3][1]


def test_the_evidence_shows_the_step():
    [reason] = assess_escalation(customer("再不解决我就去找记者曝光你们")).reasons
    assert reason.evidence == "找记者曝光"
    [reason] = assess_escalation(customer("我要搵記者曝光你哋")).reasons
    assert reason.evidence == "搵記者曝光"
    [reason] = assess_escalation(customer("我已经去12315投诉了")).reasons
    assert reason.evidence == "去12315投诉"


def test_a_condition_keeps_an_intention_a_sign_until_the_step_is_taken():
    assert assess_escalation(customer("不然我明天就去工信部")).level == "watch"
    assert assess_escalation(customer("我明天就去工信部")).level == "high"
    assert assess_escalation(customer("你们要是再拖，我已经联系了电视台")).level == "high"
    assert assess_escalation(customer("不认的话我找律师问问")).level == "watch"


def test_agent_turns_never_count():
    turns = [
        ("customer", "我的宽带断了三天"),
        ("agent", "如果您不满意，也可以打12300向工信部申诉，或者找律师起诉，我第三次跟您确认"),
        ("customer", "好的，那你们尽快修"),
    ]
    assert assess_escalation(turns) == assess_escalation([turns[0], ("agent", ""), turns[2]])
    assert assess_escalation(turns).level == "none"


def test_a_threat_is_high_whatever_came_before():
    turns = customer("流量不对", "我要一个说法", "你们再推我就跟你们拼了")
    escalation = assess_escalation(turns)
    assert escalation.level == "high"
    assert [(r.kind, r.turn) for r in escalation.reasons] == [("threat", 2)]


def test_a_threat_the_rules_miss_is_read_by_meaning_unless_denied_reported_or_said_in_jest():
    asked = []

    def reader(clauses):  # reads every clause it is given as a threat, and notes what it was given
        asked.extend(clauses)
        return ["violence"] * len(clauses)

    turns = customer("流量不对", "行吧", "再拖下去，我可不保证那个经理能平平安安")
    escalation = assess_escalation(turns, read_threats=reader)
    assert escalation.level == "high"
    assert [(r.kind, r.evidence, r.turn) for r in escalation.reasons] == [("threat", "我可不保证那个经理能平平安安", 2)]
    # each clause of six characters or more ("流量不对", "行吧", "再拖下去" are too short), and the whole turn
    assert asked == ["我可不保证那个经理能平平安安", "再拖下去,我可不保证那个经理能平平安安"]  # normalised

    def whole_turn_only(texts):  # a threat in the whole turn (the one text with a comma) only
        return ["violence" if "," in t else None for t in texts]

    # the whole turn is the evidence when no clause of it alone reads as a threat
    [reason] = assess_escalation(turns, read_threats=whole_turn_only).reasons
    assert (reason.evidence, reason.turn) == ("再拖下去，我可不保证那个经理能平平安安", 2)

    asked.clear()
    for said in ("我不会去找那个经理麻烦的", "我听同事说有人把营业厅的经理堵了", "我都想去天台吹吹风了哈哈开玩笑的"):
        assert assess_escalation(customer(said), read_threats=reader).level == "none"
    # a turn where the rules read a threat is not read again
    assert assess_escalation(customer("再不修我就去营业厅把你们柜台砸了"), read_threats=reader).reasons[0].evidence == "把你们柜台砸"
    assert asked == []
    # a clause beside a denied one is read alone
    assert assess_escalation(customer("我不会去找他麻烦的，放心吧我的朋友"), read_threats=reader).level == "high"
    assert asked == ["放心吧我的朋友"]


def test_a_reader_that_reads_no_threat_changes_nothing():
    for text, level, expected in CASES:
        escalation = assess_escalation(customer(text), read_threats=lambda clauses: [None] * len(clauses))
        assert escalation == assess_escalation(customer(text))


def test_signs_in_different_turns_add_up():
    escalation = assess_escalation(customer("我都打了好几次了", "我妈七十多岁了，手机停了联系不上"))
    assert escalation.level == "high"
    assert [(r.kind, r.turn) for r in escalation.reasons] == [("repeat-contact", 0), ("vulnerable", 1)]


def test_the_same_kind_twice_is_still_one_sign():
    escalation = assess_escalation(customer("我问过律师了", "律师说你们这样不对"))
    assert escalation.level == "watch"
    assert [r.turn for r in escalation.reasons] == [0, 1]


def test_a_demand_far_above_the_bill_is_high_amount():
    turns = customer("你们多扣了我200块", "我要你们赔我5000块精神损失费")
    escalation = assess_escalation(turns, [(0, "200块", 200.0), (1, "5000块", 5000.0)])
    assert escalation.level == "watch"
    assert [(r.kind, r.evidence, r.turn) for r in escalation.reasons] == [("high-amount", "5000块", 1)]


def test_treble_damages_are_not_a_high_amount():
    turns = customer("你们多扣了我200块", "按法律要赔三倍，赔我600块")
    assert assess_escalation(turns, [(0, "200块", 200.0), (1, "600块", 600.0)]).level == "none"


def test_without_the_disputed_sum_a_thousand_yuan_demand_is_high():
    turns = customer("宽带断了一个星期", "你们至少赔我一千块")
    assert kinds(assess_escalation(turns, [(1, "一千块", 1000.0)])) == {"high-amount"}
    assert assess_escalation(turns, [(1, "一千块", 300.0)]).level == "none"


def test_a_disputed_charge_is_high_from_three_thousand_yuan():
    turns = customer("去日本玩了五天，回来账单一万二", "提前解约要交一千五违约金")
    escalation = assess_escalation(turns, [(0, "一万二", 12000.0), (1, "一千五", 1500.0)])
    assert [(r.kind, r.evidence, r.turn) for r in escalation.reasons] == [("high-amount", "一万二", 0)]
    assert assess_escalation(turns[1:], [(0, "一千五", 1500.0)]).level == "none"


def test_a_regular_bill_is_not_a_disputed_charge():
    turns = customer("我们公司开了15条号，都是集团户，每个月快一万的费用，财务要专票")
    assert assess_escalation(turns, [(0, "一万", 10000.0)]).level == "none"
    turns = customer("这个月账单一万，全是漫游费")
    assert assess_escalation(turns, [(0, "一万", 10000.0)]).level == "watch"
    turns = customer("一个月就扣了我三千多话费")
    assert assess_escalation(turns, [(0, "三千多", 3500.0)]).level == "watch"


def test_a_refund_of_a_charge_is_not_a_claim():
    turns = customer("孩子用话费充了一千二的游戏，你们得给我退了")
    assert "high-amount" not in kinds(assess_escalation(turns, [(0, "一千二", 1200.0)]))


def test_a_sum_said_twice_is_read_where_it_is_said_each_time():
    # The first time it is what the shop sold less; the second, a loss the company is asked to bear.
    turns = customer("店里少卖了三千多块，顾客都走了，我也认了，可网到现在还没修好，这三千多的损失你们总得管")
    escalation = assess_escalation(turns, [(0, "三千多块", 3000.0), (0, "三千多", 3000.0)])
    assert [(r.kind, r.evidence) for r in escalation.reasons] == [("high-amount", "三千多")]


def test_amounts_said_by_the_agent_or_not_in_the_turn_are_ignored():
    turns = [("agent", "最多赔您5000块"), ("customer", "赔我5000块")]
    escalation = assess_escalation(turns, [(0, "5000块", 5000.0), (1, "8000块", 8000.0)])
    assert escalation.level == "none"


def test_advice_for_each_kind_and_none_for_nothing():
    assert assess_escalation(customer("宽带断了")).advice == ""
    threat = assess_escalation(customer("我跟你们拼了")).advice
    assert "安抚情绪" in threat and "层层上报" in threat and "专人处理" in threat
    media = assess_escalation(customer("我要找记者曝光")).advice
    assert all(step in media for step in ("层层上报", "专人处理", "固定证据", "回复时间"))


def test_advice_for_several_kinds_says_each_step_once():
    advice = assess_escalation(customer("我要去工信部投诉，还要找记者曝光，我第三次打电话了")).advice
    for step in ("层层上报", "专人处理", "固定证据", "回复时间"):
        assert advice.count(step) == 1
    assert "媒体" in advice and "主管部门" in advice and "多次来电" in advice


def test_advice_is_calm():
    turns = customer("我要去工信部，找记者，请律师告你们，我跟你们拼了，第三次打了")
    advice = assess_escalation(turns).advice
    assert not any(word in advice for word in ("威胁", "无理", "闹事", "后果自负", "知难而退"))


def test_empty_and_odd_text():
    assert assess_escalation([]).level == "none"
    assert assess_escalation(customer("\u200b", "  ", "？？？")).level == "none"


PIECES = [
    "我已经",
    "不会",
    "找",
    "記者",
    "消委會",
    "告你哋",
    "律师",
    "第三次打",
    "老人",
    "八十多了",
    "被骗",
    "跳樓",
    "，",
    "。",
    " ",
    "\u200b",
    "ＡＢ",
    "冇",
    "咗",
    "12300",
    "了",
    "明天就",
    "不然",
    "搵",
    "一萬二",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["customer", "agent"]), st.lists(st.sampled_from(PIECES)).map("".join))))
def test_evidence_is_always_words_of_a_customer_turn(turns):
    escalation = assess_escalation(turns)
    assert escalation.level in ("none", "watch", "high")
    assert (escalation.level == "none") == (not escalation.reasons) == (escalation.advice == "")
    for reason in escalation.reasons:
        role, text = turns[reason.turn]
        assert role == "customer" and reason.evidence and reason.evidence in text


def test_an_appeal_to_a_third_party_platform_is_not_a_regulator():
    assert assess_escalation(customer("这个号被别人绑了微信", "那我去申诉一下")).level == "none"
    assert assess_escalation(customer("你们乱扣费", "我要申诉")).level == "watch"


@pytest.mark.parametrize(
    "text,amount,level",
    [
        # the claim a clause or two before the sum
        ("我要精神损失费，也不多要，三千块", (0, "三千块", 3000.0), "watch"),
        ("上个月交的宽带费，两年的，一千八", (0, "一千八", 1800.0), "none"),
        # a loss the customer counts
        ("这几天店里亏了两千多", (0, "两千多", 2000.0), "watch"),
        ("我充了两千块预存话费", (0, "两千块", 2000.0), "none"),
        # a sum asked for outright
        ("隔壁都拿到了，也给我一千二", (0, "一千二", 1200.0), "watch"),
        ("朋友信号不好，你们给他补了两千话费，我也要一样的", (0, "两千", 2000.0), "watch"),
        ("钱都退给我们，再多补一点，要不给五千吧", (0, "五千", 5000.0), "watch"),
        ("给我办个一千二的宽带包年", (0, "一千二", 1200.0), "none"),
        # the charge said in the clause after the sum
        ("出国回来收到一张单要四千几，说全是漫游流量", (0, "四千几", 4000.0), "watch"),
        ("我买了四千多的手机，用着挺好", (0, "四千多", 4000.0), "none"),
    ],
)
def test_high_amounts_read_around_the_sum(text, amount, level):
    escalation = assess_escalation(customer(text), [amount])
    assert escalation.level == level
    assert kinds(escalation) == ({"high-amount"} if level == "watch" else set())


def test_a_regulator_described_after_the_step_it_was_taken_with():
    escalation = assess_escalation(customer("我前天已经拨了那个号了，嗯，就是上面管你们的部门"))
    assert (escalation.level, kinds(escalation)) == ("high", {"regulator"})
    # the step before it not taken: only a mention
    escalation = assess_escalation(customer("我不会去找的，就是上面管你们的部门"))
    assert escalation.level == "watch"


@pytest.mark.parametrize(
    "text,level,expected",
    [
        ("我已经把这事发到黑猫投诉上了", "high", {"media"}),
        ("我家黑猫把网线咬断了", "none", set()),
        ("视频我拍好了，等大家看看你们怎么对待客户", "high", {"media"}),
        ("等大家都下班了你们再来装", "none", set()),
        ("我爸七十多了，被乱扣了话费，要退钱", "watch", {"vulnerable"}),
        ("帮我爸把用不完的流量包退掉，他七十多了", "none", set()),
    ],
)
def test_media_sites_and_grievances_said_another_way(text, level, expected):
    escalation = assess_escalation(customer(text))
    assert (escalation.level, kinds(escalation)) == (level, expected)


def test_a_joke_denied_is_no_joke():
    assert assess_escalation(customer("我已经找了律师，不是开玩笑")).level == "high"
    assert assess_escalation(customer("我已经找了律师，开玩笑的")).level == "none"
    assert assess_escalation(customer("我已经找了律师，你以为我在说笑吗")).level == "high"


def test_an_appeal_is_the_platform_s_only_where_the_number_is_tied_to_an_account():
    assert assess_escalation(customer("我宽带账号一直扣费", "我要申诉")).level == "watch"
    assert assess_escalation(customer("这个号在美团上被注册过了", "我去申诉")).level == "none"


def test_a_minister_s_mailbox_is_a_regulator():
    assert kinds(assess_escalation(customer("不给降套餐我就写信到部长信箱"))) == {"regulator"}
    # online, it is still the regulator and not the public
    assert kinds(assess_escalation(customer("再不降我就发到网上的部长信箱"))) == {"regulator"}
    assert kinds(assess_escalation(customer("再不降我就发到网上让大家看看"))) == {"media"}
    assert assess_escalation(customer("我的信箱收不到你们的账单")).level == "none"


@pytest.mark.parametrize(
    "text,own_life",
    [
        ("我真的不想活了", True),
        ("再這樣我就從樓上跳下去", True),
        ("我會喺你哋門口淋自己汽油", True),
        ("冬天在家烧炭取暖，你们的网又断了，我就砸了你们营业厅", False),
        ("今天再不修，我就把你们营业厅砸了", False),
    ],
)
def test_a_threat_against_the_customer_s_own_life_is_told_from_one_against_others(text, own_life):
    (reason,) = assess_escalation(customer(text)).reasons
    assert reason.kind == "threat" and reason.self_harm == own_life


def test_a_threat_read_by_meaning_is_against_the_customer_s_own_life_as_the_reader_says():
    def reader(clauses):
        return ["self-harm" if "这世界" in c else "violence" if "经理" in c else None for c in clauses]

    [reason] = assess_escalation(customer("钱没了工作也没了", "这世界我待够了，你们不用再打来"), read_threats=reader).reasons
    assert (reason.kind, reason.evidence, reason.turn, reason.self_harm) == ("threat", "这世界我待够了", 1, True)
    [reason] = assess_escalation(customer("我可不保证那个经理能平平安安"), read_threats=reader).reasons
    assert reason.self_harm is False
    # a turn with a threat of each kind is one against the customer's own life too
    [reason] = assess_escalation(customer("我可不保证那个经理能平平安安，这世界我待够了"), read_threats=reader).reasons
    assert reason.self_harm is True


CUE_LINES = load_queries(Path(__file__).with_name("data") / "escalation_cues.jsonl")


@pytest.mark.parametrize("line", [c for c in CUE_LINES if "limit" not in c], ids=lambda c: c["text"])
def test_cues_said_every_way_and_their_look_alikes(line):
    # Written blind by several writers: each kind in many words and voices, and look-alikes that are no sign.
    # A sign is read in a complaint call; a look-alike alone (a pregnancy, say, counts in every call).
    (outcome,) = evaluate_signs([line])
    assert outcome.read == line["escalates"]


def test_the_cue_lines_name_what_they_leave_out():
    limits = [c for c in CUE_LINES if "limit" in c]
    assert len(limits) <= 0.03 * len(CUE_LINES) and all(c["limit"] for c in limits)
