import json
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from app.search.threat_words import MIN_LINES, NGRAMS, REGULARISATION, ThreatWords

THREATS = ["我让他横着出去", "让他竖着进来横着出去", "你们店长最好晚上别一个人走", "我上门要他好看"]
OTHERS = ["我在门口等师傅", "他出去了", "横着放就行", "晚上一个人在家等网修好", "我上门去营业厅办"]


def test_the_words_are_read_as_scikit_learn_reads_them():
    """Fitted with scikit-learn at build, read with numpy alone in the service: the same probabilities."""
    words = ThreatWords.fit(THREATS, OTHERS)
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=NGRAMS, sublinear_tf=True, min_df=MIN_LINES)
    model = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=2000)
    model.fit(vectorizer.fit_transform(THREATS + OTHERS), [1] * len(THREATS) + [0] * len(OTHERS))
    lines = Path(__file__).parents[2] / "eval" / "threats.jsonl"
    texts = [json.loads(line)["text"] for line in lines.read_text(encoding="utf-8").splitlines()[:200]]
    texts += ["", "  ", "再来就让他  横着出去", "ABC横着"]  # nothing known, spaces folded, capitals
    expected = model.predict_proba(vectorizer.transform(texts))[:, 1]
    np.testing.assert_allclose(words.probabilities(texts), expected, atol=1e-12)
    assert words.probabilities(["我让他横着出去"])[0] > 0.5 > words.probabilities(["横着放就行"])[0]
