from app.core.config import REPO_ROOT
from app.measure.evaluation import load_queries, record_texts


def test_every_scenario_has_things_customers_say(corpus):
    for scenario in corpus.taxonomy.scenarios:
        assert len(scenario.says) >= 4, scenario.id
        assert len(set(scenario.says)) == len(scenario.says), scenario.id


def test_nothing_customers_say_is_copied_from_an_evaluation_file(corpus):
    """They are matched beside the descriptions: a query copied into them would measure nothing."""
    queries = set()
    for path in (REPO_ROOT / "eval").glob("*.jsonl"):
        for record in load_queries(path):
            queries.update(text.strip() for text in record_texts(record))
    copied = [said for s in corpus.taxonomy.scenarios for said in s.says if said.strip() in queries]
    assert not copied
