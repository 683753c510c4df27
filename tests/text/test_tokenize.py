from app.text.tokenize import tokenize


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
