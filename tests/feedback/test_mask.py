"""Phone, ID and other long numbers are masked in what the gaps log keeps; amounts, dates and
service numbers stay."""

import pytest

from app.feedback.mask import mask_numbers
from app.feedback.usage import kept_query


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        # mainland mobiles: 11 digits from 13 to 19, spaced, dashed, with the country code, full-width
        ("客户手机13812345678停机了", "客户手机[手机号]停机了"),
        ("号码是199 1234 5678，一直收到骚扰短信", "号码是[手机号],一直收到骚扰短信"),
        ("回拨138-1234-5678", "回拨[手机号]"),
        ("+86 138 1234 5678 打不通", "[手机号] 打不通"),
        ("+8613812345678", "[手机号]"),
        ("８６－１５９１２３４５６７８收不到验证码", "[手机号]收不到验证码"),
        ("1381234 5678", "[手机号]"),
        ("号码13812345678.", "号码[手机号]."),
        ("13812345678 2025年开的户", "[手机号] 2025年开的户"),
        # landlines with the area code
        ("家里座机010-12345678没声音", "家里座机[电话]没声音"),
        ("0755 8888 6666", "[电话]"),
        ("(021)12345678", "[电话]"),
        ("（0571）8765-4321", "[电话]"),
        ("02112345678", "[电话]"),
        ("座机0755-8888666", "座机[电话]"),
        # resident IDs: 18 digits, the last may be X; spaced or dashed
        ("身份证110101199003071234被冒用", "身份证[身份证号]被冒用"),
        ("11010119900307123X", "[身份证号]"),
        ("11010119900307123x办了卡", "[身份证号]办了卡"),
        ("110101 19900307 123X", "[身份证号]"),
        ("110101-19900307-1234", "[身份证号]"),
        # other long numbers: a 15-digit old ID (or an IMEI), a local landline, bank cards, accounts
        ("老身份证110101900307123", "老身份证[号码]"),
        ("串号861234567890123", "串号[号码]"),
        ("打88886666没人接", "打[号码]没人接"),
        ("银行卡6222021234567890123扣款", "银行卡[号码]扣款"),
        ("卡号6222 0212 3456 7890", "卡号[号码]"),
        ("6222-0212-3456-7890-123", "[号码]"),
        ("宽带账号2001234567", "宽带账号[号码]"),
    ],
)
def test_personal_numbers_are_masked(query, kept):
    assert kept_query(query) == kept


@pytest.mark.parametrize(
    "query",
    [
        "多扣了30元",
        "2025年开的户",
        "2025-03-01扣的费",
        "2025年12月3日停的机",
        "打10086没人接",
        "95555说不是他们扣的",
        "要赔1000-2000元",
        "要赔1000000元",
        "要赔 12345678 元",
        "套餐19.9元每月,用了3年",
        "1234567.89元",
        "第2次投诉,5G信号只有1格",
        "100000元的精神损失费",
        "流量20GB用了18GB",
    ],
)
def test_ordinary_numbers_stay(query):
    assert mask_numbers(query) == query


def test_masking_works_on_the_normalised_text():
    # Full-width digits and brackets, traditional characters: normalised first, then masked.
    assert kept_query("客戶電話（０１０）１２３４５６７８　打不通") == "客户电话[电话] 打不通"
