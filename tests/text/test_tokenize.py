from app.text.normalize import normalize
from app.text.tokenize import LEGAL_TERMS, _legal_terms, legal_terms, tokenize


def test_domain_words_kept_whole():
    tokens = tokenize("客户说入网协议是霸王条款，还要达量降速")
    assert "霸王条款" in tokens
    assert "达量降速" in tokens
    assert "入网协议" in tokens


def test_search_mode_adds_the_parts_of_long_words():
    assert {"霸王", "条款", "霸王条款"} <= set(tokenize("霸王条款"))


def test_stopwords_and_punctuation_dropped():
    tokens = tokenize("我的流量，被偷了！！")
    assert "的" not in tokens and "，" not in tokens and "！" not in tokens
    assert "流量" in tokens


def test_traditional_and_full_width_input_tokenize_like_simplified():
    assert tokenize("客戶說條款是霸王條款") == tokenize("客户说条款是霸王条款")
    assert "40g" in tokenize("用到４０Ｇ就降速")


def test_everyday_words_bring_the_statutes_wording():
    assert {"出租人", "租赁"} <= set(legal_terms(normalize("房東要我月底搬走")))  # traditional input too
    assert {"饲养", "动物"} <= set(legal_terms(normalize("邻居家的狗把我孩子咬了")))
    assert legal_terms(normalize("客户说流量被偷了")) == []


def test_every_line_of_the_legal_terms_file_maps_a_word_to_tokens():
    lines = [line for line in LEGAL_TERMS.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]
    pairs = _legal_terms()
    assert len(pairs) == len(lines) > 100
    assert all(everyday and tokens for everyday, tokens in pairs)
