from app.core.config import REPO_ROOT
from app.corpus.loader import SMALL_TALK_LOOK_ALIKES_FILE, read_lines
from app.measure.evaluation import load_queries, record_texts
from app.text.normalize import normalize
from tests.conftest import CORPUS_DIR


def test_every_scenario_has_things_customers_say(corpus):
    for scenario in corpus.taxonomy.scenarios:
        assert len(scenario.says) >= 4, scenario.id
        assert len(set(scenario.says)) == len(scenario.says), scenario.id


def evaluation_texts() -> set[str]:
    queries = set()
    for path in (REPO_ROOT / "eval").glob("*.jsonl"):
        for record in load_queries(path):
            queries.update(text.strip() for text in record_texts(record))
    return queries


def test_nothing_customers_say_is_copied_from_an_evaluation_file(corpus):
    """They are matched beside the descriptions: a query copied into them would measure nothing."""
    queries = evaluation_texts()
    copied = [said for s in corpus.taxonomy.scenarios for said in s.says if said.strip() in queries]
    assert not copied


def test_the_threat_lines_are_labelled_once_and_copied_from_no_evaluation_file(corpus):
    """The threat reader's nearest neighbours: a line copied from a measured file would measure itself."""
    threats, self_harm, look_alikes = set(corpus.threats), set(corpus.self_harm), set(corpus.threat_look_alikes)
    assert len(threats) >= 500 and len(self_harm) >= 200 and len(look_alikes) >= 500
    assert not threats & self_harm and not (threats | self_harm) & look_alikes
    assert not (threats | self_harm | look_alikes) & evaluation_texts()


def test_the_small_talk_lines_are_labelled_once_and_copied_from_no_evaluation_file(corpus):
    """The small-talk reader's nearest neighbours: a padding copied from a measured file would measure itself.
    Its own lines share no run of eight characters with one."""
    talk, look_alikes = set(corpus.small_talk), set(read_lines(CORPUS_DIR / SMALL_TALK_LOOK_ALIKES_FILE))
    assert len(talk) >= 250 and len(look_alikes) >= 250 and look_alikes <= set(corpus.not_small_talk)
    assert not talk & set(corpus.not_small_talk)
    runs = {text[i : i + 8] for text in map(normalize, evaluation_texts()) for i in range(len(text) - 7)}
    lines = [normalize(line) for line in talk | look_alikes]
    assert not [line for line in lines if any(line[i : i + 8] in runs for i in range(len(line) - 7))]
