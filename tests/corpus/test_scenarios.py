from app.core.config import REPO_ROOT
from app.measure.evaluation import load_queries, record_texts


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
