"""Demands a customer states in words, whatever the turn is mostly about.

A turn's likeness to the scenarios (`SearchEngine.read`) ranks its main matter first. A second
matter said in passing falls below the bar a turn's demands must clear: in "我两个月前签了个无限流量
合约，职员话任用唔限速，点知用到三十G就慢", the throttling leads and the salesman's word that proved
untrue (false advertising) ranks eleventh. Some demands have words of their own, and those words
raise the demand: a salesman's or an advert's claim the customer says proved untrue, a plan to
change, a service opened without consent or bought on the bill by a child or a relative, an offer
refused, past its end or cheaper for others, travel or working time lost, staff who treated the customer badly, a
contract term or an early-exit penalty that binds the customer, money paid that the account does not
show, sales calls or personal data let out, a company that cannot be reached, a phone bought on a
contract or in instalments, a scam, a line cut off, home broadband down, no mobile signal.

Each cue is read in its clause: "我不是说你们态度不好" and "误工费就不要了" raise nothing. The text is
normalised first (dialect and misheard words to the words meant, traditional to simplified).
"""

import re

from app.text.normalize import normalize

_CLAUSE_BREAK = re.compile(r"[，。！？；：、,.!?;:~…\s]+")

# --- false-advertising: what a seller or an advert claimed --------------------------------------------------
_SELLER = (
    r"(?:营业员|营业厅|店员|门市|门店|业务员|业务|职员|销售|推销员?|小哥|小伙子|小姑娘|工作人员|经理|"
    r"摆摊的|卖给我的?|客服|广告|宣传单?|宣传页|海报|传单|单张|官网|网站|网页|页面|活动页|直播间|短信|app|banner)"
)
_CLAIMED = re.compile(
    _SELLER + r"[^。！？.!?]{0,12}?(?:(?<!再)说(?!明|法)|讲|(?<!电)话(?!费)|写着?|写的|印着?|承诺|保证|拍着?胸脯|答应)"
    r"|(?:当时|当初|办的时候|签的时候|明明|口头上?)[^，。！？,.!?]{0,6}?(?:说(?!明|法)|讲|(?<!电)话(?!费)|承诺|保证|答应)"
    r"|(?:说|讲)好(?:的)?(?!了|听|话)|说得好好的|拍着?胸(?:脯|口)"  # 说好三百兆, not 说好了明天来
)
# What a seller claims: a price, a gift, a speed, a term. "营业员说要带身份证" is no claim.
_SALES = re.compile(
    r"免费|免月租|白给|白送|限速|随便用|不变|不涨|\d+g|送(?!去|到|修|回|给你)|赠|不限|无限|吃到饱|不降速|随时|千兆|百兆|"
    r"\d+m(?!in)|网速|信号|覆盖|全包|只要|才要|便宜|平.{0,2}块|划算|优惠|[打几八九七六五]折|保底|[一两二三四\d]+年|[一二三四五六七八九十两\d]+个月|不要钱|"
    r"不收|不用钱|不用另外|0元|零元|结转|光纤|路由器|返|[一二三四五六七八九十百千\d]+(?:块|元|个台)"
)
# A scam in the company's name is fraud, not a claim of the company's: "被冒充客服的骗了".
_SCAM = re.compile(r"冒充|假冒|自称|诈骗|骗子")
_UNTRUE = re.compile(
    r"虚假宣传|虚假广告|夸大宣传|与宣传不符|跟宣传不一样|和宣传的?不一样|误导(?:我|消费者|老人)?|"
    r"(?:骗|忽悠|哄)(?:我|她|他|老人|我妈|我爸)?(?:办|签|转|换|升)|天花乱坠|" + _SELLER + r".{0,4}骗"
)
_TRUE = re.compile(
    r"说的(?:没错|对|是真的)|说得(?:没错|对)|确实(?:是|有)|没骗|真是这样|果然|写得(?:很|挺)?清楚|挺快|挺好|不错|"
    r"只是想问|就是想问|想确认|满意|无误|我都知|我知道"
)

# --- plan-change: a plan to change, go down or go back ------------------------------------------------------
_PLAN = r"(?:套餐|tc|plan)"
_CHANGE = re.compile(
    r"(?:换|改|降|转|调|变更|恢复|退回|回到)(?:个|成|回|到|为|去|掉|做)?[^，。！？,.!?]{0,10}?" + _PLAN
    + r"|" + _PLAN + r"[^，。！？,.!?]{0,6}?(?:换|改|降|转|调)(?:成|回|到|掉|为|做|一下|个)"
    + r"|降(?:一|两)?档|降套餐|降级套餐|换个便宜|换成[^，。！？,.!?]{0,8}?(?:元|块)|改回(?:原来|以前|之前)|"
    r"换回(?:原来|以前|之前)|降回|改回去|换回去|(?:改回|换回|回到|退回)(?:原来的)?4g"
)
# Kept, or changed already: "还是不换了", "上个月改的套餐已经生效了".
_KEEP = re.compile(
    r"不(?:想|用|要|打算|需要)(?:换|改|降|变)|(?:先|还是)?不换了?|保留|继续用|维持|没必要|生效了|改完了|已经改了"
)

# --- contract-lockin: a contract term that binds the customer, or its early-exit penalty ----------------------
# "签了两年合约", "你们说我有合约转不了", "提前解约要交违约金"; "我不用交违约金吧" is read with its negation.
_LOCKED_IN = re.compile(
    r"违约金|违约费|解约金|赔违约|提前解约|提前解除|合约期|合约(?:还|都)?(?:没|未)到期|还有[^，]{0,6}?才到期|"
    r"(?:签|绑)了?[^，]{0,4}?[一两二三四五\d]+年|[一两二三四五\d]+年(?:的)?(?:合约|合同|约期)|"
    r"有合约|不想绑|绑(?:太|那么|这么|咁)(?:久|长|耐)|重新签约|被绑|绑住|绑死|(?:合约|合同)[^，]{0,6}?(?:解了|解掉|解除)"
)

# --- recharge-payment: money paid that the account does not show -------------------------------------------
# "充了一百还没到账", "我刚交的话费", "重复扣款"; a gift that did not arrive ("充值后赠款未到账") is an offer's matter.
# A time may come between: "我明明上个礼拜交了话费".
_WHEN = r"(?:[^，说讲话要会去算定想准]{0,5}?(?:天|日|周|礼拜|星期|月|号|晚上?|早上?|下午|中午)(?:就|都)?)"
_PAID = re.compile(
    r"(?:充|交|缴|存)(?:了|过|完)?[^，]{0,8}?(?:还没到|还是停|还停|没恢复)|"
    r"(?:刚|早就|已经|明明)" + _WHEN + r"?都?(?:交|缴|充)(?:了|过|完)?的?(?:话费|电话费)|重复扣(?:款|费|钱)|"
    r"充值卡[^，]{0,6}?(?:无效|失败|用不了|充不进)|明明(?:有|都有)?(?:交|缴|充|付)(?:过|了)?费|"
    r"(?:收|扣)了?(?:我的?)?钱[^，]{0,4}?(?:不认|不承认)"
)
_PAYING = re.compile(r"充|交|缴|存|付|转账")
_UNSEEN = re.compile(r"(?:没|未|没有|不)(?:到账|入账)")
_GIFT = re.compile(r"赠款|送的|返的|返还|赠送")

# --- privacy-marketing: sales calls and messages, personal data let out ------------------------------------
# A number flagged as a nuisance caller ("我的号被标记成骚扰电话") is another scenario's matter, and says neither.
_MARKETED = re.compile(
    r"营销短信|推销电话|营销电话|推销短信|推销[^，]{0,6}(?:电话|短信)|"
    r"(?:个人)?(?:信息|资料|个资|隐私|身份证号?)[^，]{0,6}?(?:泄露|外泄|卖|被人|给别人)|"
    r"(?:泄露|卖|外泄)(?:了)?(?:我的?)?(?:个人)?(?:信息|资料|个资|隐私)|一(?:天|日)(?:打|call)[^，]{0,4}?[几两三四五六七八九十\d]+(?:次|个|通)"
)

# --- unauthorized-service: a paid service the customer never agreed to ---------------------------------------
_SERVICE = re.compile(r"业务|会员|铃|包|服务|功能|增值|管家|视频|游戏|订阅|加值|扣|收费|保险|咨询")
_UNASKED = re.compile(
    r"(?:没|没有|未)(?:经过?|征得)?(?:我|本人)?的?同意|私自|擅自|偷偷(?:地|的)?(?:给我|帮我)?(?:开|订|加|办)|"
    r"莫名其妙(?:地|的)?(?:开|订|多了|扣|被)|顺手(?:给我|帮我)?(?:加|开|办)|默认(?:开通|勾选)|"
    r"(?:我|本人|她|他|老人)(?:从来|根本|压根|都|也)?(?:就)?(?:没|没有|未|莫得|冇)(?:开|订|办|点|申请|要)(?!法)"
    r"(?:过|通)?|"
    r"谁(?:给我?|帮我?|给她|给他)?(?:开|订|办)(?:的|了)|不记得(?:办|开|订)过|未本人办理|不是我(?:开|订|办)的|偷开|"
    r"被(?:加装|加了|加开|开通)|未告知|不知道(?:这|那)?是(?:啥|什么)|不知道(?:是)?(?:什么时候|几时)开|怎么会有"
)

# A child's or a relative's purchase charged to the account holder's bill: "我儿子玩游戏充值扣的话费，我根本不知道".
_SOMEONE_ELSE = re.compile(
    r"孩子|小孩|子女|未成年|儿子|女儿|孙子|孙女|外孙|外甥|侄子|弟弟|妹妹|小朋友|娃|细路|细佬|细妹|个仔|个女|学生仔|"
    r"老人|我妈|我爸|老妈|老爸|老伴|老太太|老爷子|阿嬷|阿公|阿婆|外婆|奶奶|爷爷|kid"
)
_BOUGHT = re.compile(
    r"游戏|充值|充了|充钱|买|购|刷礼物|氪金|课金|皮肤|装备|礼包|点卡|道具|会员|包月|订了|订阅|点了|按到|弹窗"
)
_ON_THE_BILL = re.compile(r"话费|电话费|通信|账单|账上|扣|划走|小额|代扣|支付")
_NOT_AGREED = re.compile(
    r"不知道|不知情|不晓得|不知(?:点解|怎么|为什么)|(?:没|没有|未)(?:经过?)?(?:我|本人)?的?(?:同意|授权)|不认|没让|不懂|不会弄|"
    r"点错|误触|乱按|偷偷|趁我|没有(?:任何)?(?:限制|提醒|验证|密码|确认)|要求(?:全部|全额|全)?退|"
    r"(?:怎么|为什么|凭什么)[^，]{0,12}?(?:能|可以)"
)
_AGREED = re.compile(
    r"我同意|是我让|我让(?:他|她)|我(?:自己)?(?:开|订|买)的|我自己(?:开|订|买|充|付|用|同意)|我是知|我知道|(?:已经|早就)(?:给我)?退|"
    r"退回来了|还没出|没出过|防止|提前设置|我说不行|没问题"
)


def _bought_by_someone_else(clauses: list[str]) -> bool:
    text = "，".join(clauses)
    return bool(
        _SOMEONE_ELSE.search(text) and _BOUGHT.search(text) and _ON_THE_BILL.search(text)
        and _NOT_AGREED.search(text) and not _AGREED.search(text)
    )


# --- promotion-eligibility: an offer the customer was refused or counted out of -----------------------------
_OFFER = re.compile(
    r"(?:只有|仅限|限)新用户|新用户(?:才|就|能|可以|专享|有|便宜|反而)|"
    r"老用户(?:反而|不能|不给|没有|就|活该|更贵|吃亏)|"
    r"(?:不符合|不够|没有?资格|不给参加|不能参加|参加不了|不让参加|不算)(?:活动|优惠)|"
    r"我(?:是)?符合(?:条件|资格)|活动(?:已经)?(?:结束|过期|没了|过了)|送完了|"
    r"(?:凭什么|为什么|凭啥)(?:他|别人|人家|新用户)(?:能|可以|就)"
)
_ACCEPTED = re.compile(r"我知道|我理解|我自己忘了|不怪你们|算了")
_OFFER_WORD = re.compile(r"优惠|打折|[八九七六五]折|活动|特价|流量包|赠送|返还?|新用户|老用户")
_REFUSED = re.compile(
    r"被拒|不给(?:打|办|参加|享受|领)?|不能(?:参加|享受|领|办)|领不了|办不了|不算|才算|才行|不符合|不合适|不行|"
    r"没有?份|不在名单|不让"
)


def _counted_out(clauses: list[str]) -> bool:
    """An offer and, in its clause or the next two, the customer told it is not for them."""
    if any(_ACCEPTED.search(c) for c in clauses):
        return False
    if _in_clause(_OFFER, clauses):
        return True
    return any(
        _OFFER_WORD.search(c) and any(_REFUSED.search(n) for n in clauses[i : i + 3])
        for i, c in enumerate(clauses)
    )


# --- promotion-eligibility, past its end or cheaper for others: "那个活动现在还能办吗", "新人专享价，我们老客户
# 就没份", "朋友在外地办的比我们这便宜一半". A plain question about the offers of today ("有什么优惠") is none.
_OFFER_NAMED = re.compile(r"优惠|活动|特价|专享|折扣|[二三四五六七八九]折|名额|送(?!去|到|修|回|给你)|免费")
_OFFER_STILL = re.compile(r"还(?:能|可以|有没有)[^，]{0,4}?(?:办|参加|补|领)")
_LOYAL = re.compile(
    r"我[^，]{0,6}?老(?:用户|客户)|老(?:用户|客户)(?:反而|就|都|却|没|不|吃亏|活该|更贵)|欺负老(?:用户|客户)"
)
_OTHERS_PAY_LESS = re.compile(
    r"(?:新(?:用户|客户|人|来的|入网|办)|刚入网|同事|朋友|别人|人家)[^。！？]{0,14}?"
    r"(?:便宜|优惠|才|只要|只交|送|专享|[\d一二三四五六七八九十]+(?:块|元)|啥都有)"
)

_CHEAPER_ELSEWHERE = re.compile(
    r"(?:外地|外省|别的(?:省|城市|地方)|隔壁|其他(?:省|城市)|[^，]{2}办的)[^，]{0,12}?"
    r"(?:比[^，]{0,6}?便宜|便宜[^，]{0,6}?(?:一半|块|元))|同(?:样|一)的?[^，]{0,4}?套餐[^，]{0,6}?便宜"
)


def _offer_missed(clauses: list[str]) -> bool:
    text = "，".join(clauses)
    if _ACCEPTED.search(text):
        return False
    compared = _LOYAL.search(text) and _OTHERS_PAY_LESS.search(text)
    past_end = _OFFER_NAMED.search(text) and _in_clause(_OFFER_STILL, clauses)
    return bool(compared or past_end or _in_clause(_CHEAPER_ELSEWHERE, clauses))

# --- unreachable-service: a company that cannot be reached, or does not answer -------------------------------
# "热线转人工等了二十分钟", "工单提交五天没人回", "一直坐席繁忙", "全是机器人"; "热线一下就接通了" says neither.
_HOTLINE = r"(?:客服|热线|人工|专线|100\d\d|你们的?电话|投诉电话|服务电话)"
_UNREACHED = re.compile(
    _HOTLINE + r"[^，]{0,6}?(?:打不通|占线|没有?人接|无人接|转不[了到进]|排队|等了[^，]{0,6}?(?:分钟|小时|半天))|"
    r"转人工[^，]{0,8}?(?:转了|等了|没有?人|失败|转不|排队)|转不[了到进]人工|"
    r"(?:找不[着到]|没有?|听不到)[^，]{0,4}?(?:真人|人工)|排队排了|排了[^，]{0,6}?队|坐席(?:繁忙|忙)|线路(?:繁忙|忙)|忙线|"
    r"才(?:接通|打通|打进来)|"
    r"(?:工单|投诉|反映)[^，]{0,6}?(?:没有?人(?:回|理|管|处理|跟进)|石沉大海|没有?(?:下文|回音|回复))|"
    r"(?:一直|从来|到现在|至今|都|根本|也)没有?人?(?:给我)?回(?:电话|电|复)|没有?人(?:联系我|打给我|打来|跟进)|"
    r"无人(?:回电|回访|回复|联系|跟进|接听)|一个电话都没|(?:全|都|只)(?:是|有)机器人"
)

# --- installment-phone: a phone bought on a contract or in instalments ---------------------------------------
# "被营业员忽悠办了个合约机", "手机没了还得还14期", "存钱送手机"; a contract phone's invoice or its faults
# are other matters, unless the customer speaks of what is left to pay; a phone bought outright is none.
_INSTALMENTS = r"[\d一二三四五六七八九十两]+期"  # 还有八期, 24期
_PHONE_ON_TERMS = re.compile(
    r"合约机|上台[^，]{0,8}?机|分期[^，]{0,4}?(?:手机|机|买|购|还|扣)|(?:手机|机|买|购)[^，]{0,6}?分期|分期的(?:钱|款)|"
    r"购机|机款|送(?:部|台|个)?(?:新)?手机|[0零]首付|还[^，]{0,3}?" + _INSTALMENTS + r"|"
    r"(?:绑约|合约|签约)[^，]{0,4}?买[^，]{0,3}?(?:手机|机)|比[^，]{0,6}?(?:裸机|空机)"
)
_PHONE_MATTER = re.compile(r"发票|专票|开票|黑屏|花屏|屏幕|翻新|死机|质量|故障|维修|保修|返修")
_LEFT_TO_PAY = re.compile(
    _INSTALMENTS + r"|剩下|剩余|月供|还款|解约|取消|每个月(?:还)?(?:在)?扣|还在扣|接着还|不想(?:还|交|付)"
)
# A phone bought outright, a contract run its course, or an early-exit penalty (contract-lockin's matter).
_OWN_PHONE = re.compile(r"全款|到期以后|约满|好用|没有?问题|违约金|违约费")


def _phone_on_terms(clauses: list[str]) -> bool:
    if not _in_clause(_PHONE_ON_TERMS, clauses) or any(_OWN_PHONE.search(c) for c in clauses):
        return False
    return not any(_PHONE_MATTER.search(c) for c in clauses) or any(_LEFT_TO_PAY.search(c) for c in clauses)


# --- fraud-security: a scam through the phone ---------------------------------------------------------------
# "接到自称你们客服的电话", "让我报验证码", "转到安全账户"; a number flagged as a scam caller ("被标记成诈骗
# 电话") is another matter, and so is a customer who says they are no swindler.
_SCAMMED = re.compile(
    r"冒充|假冒|假(?:客服|警察|公安|银行)|扮(?:成|作)?[^，]{0,4}?(?:客服|职员|工作人员|警察)|"
    r"自称[^，]{0,6}?(?:客服|你们|工作人员|营业厅|银行|警察|公安)|"
    r"说是(?:你们|什么)?[^，]{0,2}?(?:客服|电信|移动|联通|营业厅|公安|警察|银行|法院)|"
    r"被骗|骗走|骗了我|上当|(?:碰上|遇到|遇上|碰到)[^，]{0,2}?骗子|诈骗电话|scam|骗子[^，]{0,4}?(?:打|知道|发)|"
    r"验证码[^，]{0,8}?(?:被|给了|告诉|泄露|报)|报(?:了)?验证码|安全账户|屏幕共享|共享屏幕|链接[^，]{0,8}?(?:填|下载|输入)|"
    r"(?:填|输入)了?[^，]{0,4}?(?:银行卡|卡号|密码)|被转走|盗号|盗刷|伪基站|钓鱼(?:链接|网站|短信)|木马"
)
_FLAGGED = re.compile(r"标记|标成|标注|显示|识别|骚扰|不是骗子|又不是|当成|算诈骗|告我们")

# --- suspension-arrears: a line cut off, arrears disputed --------------------------------------------------
# A secondary card cut off with its main card, or the SMS function stopped, are other matters; 停机保号, a
# stop asked for, and when a line would be cut off are the customer's own questions.
_CUT_OFF = re.compile(
    r"停机|停话|停了?机|欠费|复机|断号|暂停服务|(?:号码?|电话|手机)[^，]{0,3}?停了|"
    r"欠(?:了|你们)[^，]{0,6}?(?:钱|话费|块|元)"
)
_CUT_OFF_OTHER = re.compile(r"短信|简讯|功能|保号|办停|办理停|会停|多少天|多久")

# --- broadband-fault and network-quality: home broadband down or moved, no mobile signal ----------------------
_LINE_DOWN = re.compile(
    r"(?:宽带|光猫|网线|wifi|路由器|光纤)[^，]{0,8}?(?:断|掉线|坏|红灯|上不了|连不上|用不了|没有?网|报障|报修|故障|闪)|"
    r"家里[^，]{0,4}?(?:没有?网|断网|上不了网)|灯[^，]{0,6}?红|移机|(?:没有?|无)(?:资源|端口)|端口(?:满|不够|没了)"
)
# Without the line named in the clause, a connection lost counts where the turn speaks of a home line.
_OFFLINE = re.compile(r"网[^，]{0,4}?(?:一直|老是|总是|经常|又)?断|断网|上不了网|连不上")
_HOME_LINE = re.compile(r"宽带|光猫|wifi|路由器|网线|电脑|盒子|网课")
_NO_SIGNAL = re.compile(
    r"信号[^，]{0,4}?(?:差|不好|弱|没有|时有时无|不稳|一格|很烂|好烂|不行)|(?:没|没有|无|收不到)信号|"
    r"(?:通话|打电话|语音)[^，]{0,4}?(?:断|掉线|听不清)"
)
_WORKING = re.compile(r"没有?(?:问题|毛病)|没有?断|没坏|正常|挺好|很好|不错|满格|修好|恢复了|已修复")
# A district down at once ("整个小区没信号", "邻居家也断了") is an outage of its own.
_AREA = re.compile(
    r"整个|整片|整条|一片|全(?:小区|村|楼|镇|区|市)|我们(?:小区|楼|这栋|这片|这条街|这一带)|周边|附近[^，]{0,3}?都|"
    r"邻居[^，]{0,3}?(?:也|都)|大家都|停电"
)

# --- travel-lost-wages: fares, trips in vain, leave taken, work lost ----------------------------------------
_LOST = re.compile(
    r"误工|打车(?:费|钱|的钱|的?发票)|(?<!停)车费|车钱|路费|交通费|油钱|跑了[^，。！？,.!?]{0,3}?趟|跑过|白跑|"
    r"(?:跑|去|来回)[^，。！？,.!?]{0,4}?[两三四五几\d]趟|(?:扣|少)(?:了)?(?:我)?的?(?:工资|工钱|钞票)|工资(?:被)?扣|"
    r"工资没了|"
    r"(?:活|单子?|订单|生意|工)[^，。！？,.!?]{0,3}?(?:推了|推掉|没接|没做|没法做|接不了|耽误)|"
    r"(?<![未没不])耽误(?:了)?(?:我)?[^，。！？,.!?]{0,3}?(?:上班|工作|做生意|挣钱|赚钱|接单|时间|功夫)|"
    r"损失的?(?:薪水|工资)|浪费(?:了)?我?(?:多少|这么多|半天|一天)?时间|(?:没|少)(?:挣|赚)|白干|"
    # a day's work the outage cost: "出差在外的损失", "上不了班", "三天没出车"
    r"(?:出差|上班|工作|开工|生意|直播|接单|出车)[^，。！？,.!?]{0,6}?损失|(?:上不了|没法上|没能上|不能上)班|"
    r"[一两三几\d]天(?:都)?没(?:法)?(?:播|开播|开工|出车|接单)"
)
# Leave taken counts when it was taken for the company's matter: "请假在家陪孩子看病" is no claim.
_LEAVE = re.compile(r"请(?:了)?[^，。！？,.!?]{0,4}?假")
_FOR_US = re.compile(r"等|师傅|营业厅|这事|这个事|你们|跑|办")
_FARE = re.compile(r"打车[^。！？.!?]{0,15}?(?:钱|费|发票|报销|赔)")
_WAIVED = re.compile(r"不要了|算了|不用了|就不要|不用赔|不用出|不用报|无所谓|公司报销|单位报销|给报销|报销用")

# --- service-attitude: how staff treated the customer -------------------------------------------------------
_TREATED = re.compile(
    r"态度(?:也|真|太|很|极|非常|特别|实在)?(?:太|很|超|好|巨|贼|蛮|十分|极其|真的)?(?:差|恶劣|不好|冷淡|傲慢|蛮横|恶心)|"
    r"(?:甩|摆|拉)(?:脸|脸子|脸色)|脸(?:马上)?就?拉下来|翻白眼|爱答不理|爱理不理|不耐烦|凶巴巴|"
    r"(?:骂|吼|凶)(?:了)?我|(?:对|冲)我(?:大)?(?:喊|嚷|吼)|推来推去|踢皮球|互相推诿|推诿|板着(?:个)?脸|"
    r"冷冰冰|不理(?:我|人)|(?:抢|夺)(?:我的?)?(?:手机|电话)|推了?我一下|阴阳怪气|看不起(?:我|人)|"
    r"让我找别人|不归(?:她|他|我们)管|挂(?:了)?我(?:的)?电话|敷衍|说脏话|讲粗口|爆粗|(?:话|说话)(?:也|真|太)*难听|"
    r"(?:不|没)穿鞋套|在我家(?:里)?抽烟|关我们?什么事|不搭理|爱搭不理|嘲讽|冷嘲热讽"
)
_KIND = re.compile(r"态度(?:还|挺|很|蛮|都)?(?:好(?!差)|不错|可以)|不是说(?:你们|你|他们|她|他)?态度")

# A clause that says the customer will not, or did not, mean it; or a cue denied just before it ("我没被骗",
# "不是欠费", "非合约机").
_NEGATED = re.compile(r"不是(?:说|要|来|想)|并不是|没说|不会|不打算|没打算|不用")
_DENIED = re.compile(r"(?:没有?|不是|并非|非|无|未)[^，]{0,2}$")
# A matter the customer says is settled or was never one ("已经办好了，谢谢", "幸亏没上当", "难怪没信号").
_SETTLED = re.compile(
    r"谢谢|多谢|感谢|幸亏|没事|别担心|不用担心|办好了|挺快|好快|很快就|难怪|打扰了|说一声|(?:只是|就是)想(?:问|确认|查)|不要那个"
)


def _clauses(text: str) -> list[str]:
    return [c for c in _CLAUSE_BREAK.split(normalize(text).lower()) if c]


def _in_clause(pattern: re.Pattern, clauses: list[str], unless: re.Pattern | None = None) -> bool:
    for clause in clauses:
        if unless and unless.search(clause):
            continue
        for m in pattern.finditer(clause):
            if not _NEGATED.search(clause, 0, m.start()) and not _DENIED.search(clause, 0, m.start()):
                return True
    return False


def _misrepresented(clauses: list[str]) -> bool:
    """A seller's or an advert's claim of a price, a gift or a term (in its clause or the next),
    retold in a complaint: unless the customer says it proved true, the retelling is the complaint."""
    if _in_clause(_UNTRUE, clauses, unless=_SCAM):
        return True
    if any(_TRUE.search(c) or _SCAM.search(c) for c in clauses):
        return False
    text = "，".join(clauses)
    for claim in _CLAIMED.finditer(text):
        clause_start = text.rfind("，", 0, claim.start()) + 1
        said_end = _clause_end(text, _clause_end(text, claim.end()) + 1)  # the claim's clause and the next
        if not _NEGATED.search(text, clause_start, claim.start()) and _SALES.search(text, claim.start(), said_end):
            return True
    return False


def _clause_end(text: str, at: int) -> int:
    end = text.find("，", at)
    return len(text) if end == -1 else end


def _paid_not_shown(clauses: list[str]) -> bool:
    """A payment the account does not show: said in one clause, or paid in one ("我昨天充了五十") and
    not arrived in another ("到现在还没到账")."""
    if _in_clause(_PAID, clauses, unless=_GIFT):
        return True
    return any(_PAYING.search(c) for c in clauses) and _in_clause(_UNSEEN, clauses, unless=_GIFT)


def _time_or_fares_lost(clauses: list[str]) -> bool:
    leave = [c for c in clauses if _LEAVE.search(c) and _FOR_US.search(c)]
    lost = _in_clause(_LOST, clauses) or _in_clause(_LEAVE, leave) or _FARE.search("，".join(clauses))
    return bool(lost) and not any(_WAIVED.search(c) for c in clauses)


def stated_demands(text: str) -> list[str]:
    """The demands a customer turn states in words (scenario ids), in the taxonomy's order."""
    clauses = _clauses(text)
    district = any(_AREA.search(c) for c in clauses)
    home_line = any(_HOME_LINE.search(c) for c in clauses)
    settled = any(_SETTLED.search(c) for c in clauses)
    secondary = any("副卡" in c for c in clauses)
    scam = not settled and _in_clause(_SCAMMED, clauses, unless=_FLAGGED)
    stated = {
        "travel-lost-wages": _time_or_fares_lost(clauses),
        "unauthorized-service": (any(_SERVICE.search(c) for c in clauses) and _in_clause(_UNASKED, clauses))
        or _bought_by_someone_else(clauses),
        "false-advertising": _misrepresented(clauses),
        "promotion-eligibility": _counted_out(clauses) or _offer_missed(clauses),
        "service-attitude": _in_clause(_TREATED, clauses, unless=_KIND),
        "plan-change": _in_clause(_CHANGE, clauses) and not any(_KEEP.search(c) for c in clauses),
        "contract-lockin": _in_clause(_LOCKED_IN, clauses),
        "recharge-payment": _paid_not_shown(clauses),
        "privacy-marketing": _in_clause(_MARKETED, clauses),
        "unreachable-service": _in_clause(_UNREACHED, clauses),
        "installment-phone": not settled and _phone_on_terms(clauses),
        "fraud-security": scam,
        # a scammer's threat to cut the line ("说我号码要停，让我报验证码") is the scam's matter
        "suspension-arrears": not settled and not scam and not secondary
        and _in_clause(_CUT_OFF, clauses, unless=_CUT_OFF_OTHER),
        "broadband-fault": not settled and not district and (
            _in_clause(_LINE_DOWN, clauses, unless=_WORKING)
            or (home_line and _in_clause(_OFFLINE, clauses, unless=_WORKING))
        ),
        "network-quality": not settled and not district and not home_line
        and _in_clause(_NO_SIGNAL, clauses, unless=_WORKING),
    }
    return [scenario for scenario, said in stated.items() if said]
