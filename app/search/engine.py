"""The search pipeline: one query in, detected scenarios, ranked scripts with their statutes,
relevant statutes and course passages out.

1. Normalise and tokenise the query; embed it, and when it has several clauses each clause
   too. Scenarios and scripts are matched by the clauses' mean, statutes and
   passages by the whole query.
2. Hybrid search (dense + BM25, fused) in each collection. Statute articles are indexed whole,
   paragraph by paragraph, and by the everyday questions they answer; an article scores by its
   best-matching text.
3. Scenario scores combine how well the scenario's own description matches with how well its
   best script matches (descriptions are short, scripts carry the customer's wording), for the
   whole query and for each clause, so that every demand of a long complaint counts (a clause
   of a few characters only when they name a matter: "这叫什么事" is no demand). A thing
   customers say when the scenario applies (`says`) counts as its description when it matches
   better. A linear probe fitted on all the sayings of each scenario adds its probability
   (scenario_probe.py): an implied demand is often nearest a saying of another scenario. A
   second one, over the query's characters (scenario_words.py), adds what a few characters say
   plainly and a small encoder misses.
4. A script's score adds its best scenario's score to its own match; when the query fits the
   scripts only partly (`match` weak), the scenario counts for more: a demand left unsaid shares
   few words with its scripts. The list is diversified: a script loses a little for each
   higher-ranked script of its scenario, so a complaint with several demands gets a script for
   each near the top. A script that cannot be said on the agent's channel (a counter script on
   the phone) loses a fixed amount: it stays findable, below the ones the agent can use as
   written. The first script is one of a scenario read near the best: words shared with another
   matter's script do not put that matter first.
5. Statutes cited by the top scripts are boosted: they are what the answer relies on. So are
   the provisions that govern the detected scenarios (`statutes` in scenarios.yaml): a
   complaint's wording rarely names the law, its kind does. The two articles that best match
   the query itself stay first, so a legal question still gets the article it asks about.
6. How well the answer fits (`match`, see match.py) is judged from signals that keep their scale
   across queries, for the whole query and, when some of its clauses are small talk
   (small_talk.py), for the rest. When nothing fits, the scripts are general handling scripts
   (listening, clarifying, committing to a reply), never confident look-alikes.
"""

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from app.corpus.scripts import Script
from app.corpus.statutes import Article, ArticleRef, StatuteBook, UnknownStatute
from app.embedding.encoder import QueryEncoder
from app.index.store import IndexVersion
from app.ingest.courses import Passage
from app.search.match import FEATURES, GENERAL_SCENARIOS, Calibration, Match, load_calibration
from app.search.small_talk import small_talk
from app.text.normalize import normalize, split_clauses
from app.text.tokenize import legal_terms, tokenize

MAX_CLAUSES = 6
# Above this, the whole query's vector is its clauses' mean: a long narration's own pass is the
# costliest one and tells no more than its clauses (docs/performance.md, "The tail").
LONG_QUERY_CHARS = 120
READINGS_KEPT = 4096  # texts whose scenario scores are kept: the turns of the calls in progress
DEFAULT_CHANNEL = "phone"  # the service's agents are on the phone unless they say otherwise


@dataclass(frozen=True)
class Weights:
    dense: float = 0.5  # share of the dense channel in each collection's fusion
    statute_dense: float = 0.6  # the same for statutes, whose plain-language questions suit e5 better
    scenario_description: float = 0.5  # scenario score: description match vs best script match
    exemplar: float = 1.0  # an exemplar's match counts at this share of a description's
    scenario_probe: float = 1.0  # a scenario's probability under the index's scenario probe, added to its score
    scenario_words: float = 1.5  # the same under the scenarios' character model (scenario_words.py)
    script_scenario: float = 0.5  # script score: share of its best scenario's score
    # A query that fits the scripts only partly (`match` weak): its own script match counts at this
    # share. A demand left unsaid shares few words with its scripts; its scenario, read from every
    # saying, knows it better.
    weak_query_script: float = 0.4
    detect_ratio: float = 0.7  # scenarios within this fraction of the best one are detected
    max_detected: int = 5
    clause_weight: float = 0.8  # a clause's scenario scores count at this share (0: clauses ignored)
    # A clause shorter than this ("这叫什么事", "我跟你说") says too little to be read alone: its
    # scores, min-max normalised over the library, name some scenario with full confidence
    # whatever it says. It is read alone only when its characters name a scenario plainly
    # ("要赔五千", "还要公开道歉": the character model at least `short_clause_named` sure).
    short_clause_chars: int = 7
    short_clause_named: float = 0.5
    context_weight: float = 1.0  # an earlier turn's scenario scores count at this share (a live call)
    unfit_turn_script: float = 0.5  # a latest turn that fits little alone: its own script match counts at this share
    # The first script belongs to a scenario scoring at least this share of the best one: a script
    # that matches the words well cannot lead for a matter the reading ranks far below.
    first_scenario_share: float = 0.8
    diversity: float = 1.0  # score a script loses per higher-ranked script of the same scenario
    other_channel: float = 0.2  # score a script loses when it is not written for the agent's channel
    citation_boost: float = 0.5  # statute score added per citing top script (times its score)
    scenario_statute_boost: float = 1.5  # statute score added per detected scenario it governs (times its score)
    cited_by_top: int = 5
    direct_statutes: int = 2  # statutes ranked first by match and citations, before scenario boosts
    statutes: int = 5
    passages: int = 3
    candidates: int = 50


@dataclass
class ScoredScenario:
    id: str
    name: str
    score: float


@dataclass
class ScoredScript:
    record: Script
    score: float


@dataclass
class ScoredArticle:
    article: Article
    score: float


@dataclass(frozen=True)
class Reading:
    """What one text says, before any ranking: its scenario scores and how well the library fits it."""

    scenario_score: dict[str, float]
    match: Match


@dataclass
class SearchResult:
    query: str
    index_version: str
    took_ms: float
    detected_scenarios: list[ScoredScenario]
    scripts: list[ScoredScript]
    statutes: list[ScoredArticle]
    passages: list[tuple[Passage, float]] = field(default_factory=list)
    match: Match | None = None


class SearchEngine:
    def __init__(
        self,
        index: IndexVersion,
        encoder: QueryEncoder,
        weights: Weights = Weights(),
        calibration: Calibration | None = None,
    ):
        index.check_model(encoder.model_id)
        self.index = index
        self.encoder = encoder
        self.weights = weights
        self.calibration = calibration or load_calibration(encoder.model_id)
        self.scenario_names = {s.id: s.name for s in index.taxonomy.scenarios}
        self.scenario_groups = {s.id: s.group for s in index.taxonomy.scenarios}
        self.scenario_statutes = {s.id: self._in_force(s.statutes) for s in index.taxonomy.scenarios}
        self._readings: OrderedDict[tuple[str, Weights], Reading] = OrderedDict()
        self._readings_lock = threading.Lock()

    @property
    def book(self) -> StatuteBook:
        return self.index.book

    def search(
        self,
        query: str,
        top_k: int = 5,
        scenarios: list[str] | None = None,
        weights: Weights | None = None,
        channel: str | None = DEFAULT_CHANNEL,
        context: Sequence[str] = (),
    ) -> SearchResult:
        """`context`: what the customer said earlier in the call, oldest first. Its scenarios
        count at `context_weight`, so the scripts cover the demands still open beside the latest
        turn's own; a latest turn that fits little by itself ("好的，谢谢") takes the call's
        fit."""
        started = time.perf_counter()
        w = weights or self.weights
        text = normalize(query)
        tokens = tokenize(text)
        whole_vector, scenario_score, script_match, match = self._read(text, tokens, w)
        earlier = [r for r in (self.read(t, w) for t in context) if r.match.level != "none"]
        for reading in earlier:
            for sid, score in reading.scenario_score.items():
                scenario_score[sid] = max(scenario_score[sid], w.context_weight * score)
        call_fit = max((r.match for r in earlier), key=lambda m: m.confidence, default=match)
        own_share = 1 - w.script_scenario
        if match.level != "strong" and call_fit.confidence > match.confidence:
            # "好的，谢谢" matches the script that says thanks, not the call's topic.
            match = call_fit
            own_share *= w.unfit_turn_script
        elif match.level == "weak":
            own_share *= w.weak_query_script
        collections = self.index.collections
        script_records = collections["scripts"].records
        detected = self._detect(scenario_score, w)

        # Each script's best scenario score: half of what ranks it, and whether it may come first.
        scenario_part = {p: max(scenario_score.get(i, 0.0) for i in script_records[p].scenarios) for p in script_match}
        script_score = {p: own_share * s + w.script_scenario * scenario_part[p] for p, s in script_match.items()}
        if channel:
            for p in script_score:
                if channel not in script_records[p].channels:
                    script_score[p] -= w.other_channel
        if match.level == "none" and not scenarios:
            # Nothing fits: general handling scripts, not look-alikes, and no scenario claimed.
            detected = []
            general = {p for p in script_score if script_records[p].scenarios[0] in GENERAL_SCENARIOS}
            script_score = {p: s for p, s in script_score.items() if p in general}
        if scenarios:
            wanted = set(scenarios)
            script_score = {p: s for p, s in script_score.items() if wanted & set(script_records[p].scenarios)}
        ranked = _diversify(script_score, script_records, w.diversity, top_k)
        if match.level != "none" and not scenarios:
            bar = w.first_scenario_share * max(scenario_score.values())
            ranked = _led_by_a_read_scenario(ranked, script_score, scenario_part, bar)
        scripts = [ScoredScript(script_records[p], script_score[p]) for p in ranked]

        statute_tokens = tokens + legal_terms(text)
        statutes = self._statutes(
            collections["statutes"].search(whole_vector, statute_tokens, w.candidates, w.statute_dense),
            scripts,
            detected,
            w,
        )
        passages_found = collections["passages"].search(whole_vector, tokens, w.candidates, w.dense)
        passages = [(collections["passages"].records[p], s) for p, s in _top(passages_found, w.passages)]
        took_ms = (time.perf_counter() - started) * 1000
        return SearchResult(query, self.index.name, took_ms, detected, scripts, statutes, passages, match)

    def read(self, query: str, weights: Weights | None = None) -> "Reading":
        """The scenario scores and fit of one text, kept for the next request: the turns of a
        call come back with every request of it."""
        w = weights or self.weights
        text = normalize(query)
        key = (text, w)
        with self._readings_lock:
            if key in self._readings:
                self._readings.move_to_end(key)
                return self._readings[key]
        _, scenario_score, _, match = self._read(text, tokenize(text), w)
        return Reading(scenario_score, match)

    def forget(self, query: str) -> None:
        """Drop what was kept of a text (the benchmark measures a turn read for the first time)."""
        text = normalize(query)
        with self._readings_lock:
            for key in [key for key in self._readings if key[0] == text]:
                del self._readings[key]

    def _read(
        self, text: str, tokens: list[str], w: Weights
    ) -> tuple[np.ndarray, dict[str, float], dict[int, float], Match]:
        """The whole text's vector, scenario scores, the scripts' own match and the fit; the
        scenario scores and the fit are kept (`read`)."""
        clauses = query_clauses(text) if w.clause_weight > 0 else []
        whole_vector, clause_vectors = encode_query_and_clauses(self.encoder.encode_queries, text, clauses)
        match = self.calibration.assess(self._match_signals(text, whole_vector, clause_vectors, tokens))
        if match.level != "strong":
            match = self._without_small_talk(match, clauses, clause_vectors)
        # Scenarios and scripts are matched by the clauses' normalised mean, where every demand
        # weighs the same; statutes and passages by the whole query, whose wording they answer.
        vector = clauses_mean(clause_vectors) if clauses else whole_vector
        scenario_score, script_match = self._scenario_scores(text, vector, tokens, w)
        # A demand stated in one clause of a long complaint is drowned in the whole query's
        # match; each clause on its own brings it back.
        for clause, clause_vector in zip(clauses, clause_vectors):
            if len(clause) < w.short_clause_chars and self._scenario_words_best(clause) < w.short_clause_named:
                continue
            clause_score, _ = self._scenario_scores(clause, clause_vector, tokenize(clause), w)
            for sid, score in clause_score.items():
                scenario_score[sid] = max(scenario_score[sid], w.clause_weight * score)
        with self._readings_lock:
            self._readings[(text, w)] = Reading(dict(scenario_score), match)
            self._readings.move_to_end((text, w))
            while len(self._readings) > READINGS_KEPT:
                self._readings.popitem(last=False)
        return whole_vector, scenario_score, script_match, match

    def _without_small_talk(self, match: Match, clauses: list[str], clause_vectors: list[np.ndarray]) -> Match:
        """The fit of the clauses that are not small talk (small_talk.py) when it is `strong`, else `match`:
        a complaint padded with talk of the weather is judged by its complaint, when that fits well."""
        if not clauses:
            return match
        kept = [i for i, talk in enumerate(small_talk(self.index.collections, np.stack(clause_vectors))) if not talk]
        if not kept or len(kept) == len(clauses):
            return match
        vectors = [clause_vectors[i] for i in kept]
        rest = "，".join(clauses[i] for i in kept)
        rest_match = self.calibration.assess(
            self._match_signals(rest, clauses_mean(vectors), vectors if len(vectors) > 1 else [], tokenize(rest))
        )
        return rest_match if rest_match.level == "strong" else match

    def match_signals(self, query: str) -> dict[str, float]:
        """The signals `match` is decided from, for calibrating it (`python -m app calibrate`)."""
        text = normalize(query)
        clauses = query_clauses(text)
        whole_vector, clause_vectors = encode_query_and_clauses(self.encoder.encode_queries, text, clauses)
        return self._match_signals(text, whole_vector, clause_vectors, tokenize(text))

    def _match_signals(
        self, text: str, whole_vector: np.ndarray, clause_vectors: list[np.ndarray], tokens: list[str]
    ) -> dict:
        collections = self.index.collections
        vectors = np.stack([whole_vector, *clause_vectors])
        script, scenario, elsewhere = (
            collections[name].dense.best(vectors) for name in ("scripts", "scenarios", "elsewhere")
        )
        bm25 = collections["scripts"].sparse.search(tokens, 1)
        covered = self.calibration.covered.logits(vectors)
        return {
            "script_cosine": float(script[0]),
            "scenario_cosine": float(scenario[0]),
            "margin": float(script[0] - elsewhere[0]),
            "clause_margin": float((script - elsewhere).max()),
            "clause_scenario_margin": float((scenario - elsewhere).max()),
            "bm25": max(bm25.values(), default=0.0),
            "telecom": float(self.calibration.telecom.logits(whole_vector)),
            "covered": float(covered[0]),
            "clause_covered": float(covered.max()),
            "telecom_words": self.calibration.telecom_words.logit(tokens),
            "scenario_words": self._scenario_words_best(text),
        }

    def _scenario_words_best(self, text: str) -> float:
        """The character model's probability for its likeliest scenario: a complaint names its
        matter in a few characters that another trade's matter lacks. A version built before the
        model gets the calibration's mean, which tips the fit neither way."""
        words = self.index.scenario_words
        if words is None:
            return self.calibration.mean[FEATURES.index("scenario_words")]
        return max(words.probabilities(text).values())

    def _scenario_scores(
        self, text: str, vector: np.ndarray, tokens: list[str], w: Weights
    ) -> tuple[dict[str, float], dict[int, float]]:
        """Scenario scores from the descriptions and the best script of each scenario, and the
        scripts' own match."""
        scripts = self.index.collections["scripts"]
        script_match = scripts.search(vector, tokens, len(scripts), w.dense)
        scenarios = self.index.collections["scenarios"]
        description_match = {
            scenarios.records[p].id: s for p, s in scenarios.search(vector, tokens, len(scenarios), w.dense).items()
        }
        # What customers say when a scenario applies stands for its description when it matches
        # better: an implied demand ("邻居上回赔了钱") shares no word with "高额赔偿".
        exemplars = self.index.collections["exemplars"]
        for p, s in exemplars.search(vector, tokens, w.candidates, w.dense).items():
            sid = exemplars.records[p].scenario
            description_match[sid] = max(description_match.get(sid, 0.0), w.exemplar * s)
        best_script_match: dict[str, float] = {}
        for position, score in script_match.items():
            for scenario_id in scripts.records[position].scenarios:
                best_script_match[scenario_id] = max(best_script_match.get(scenario_id, 0.0), score)
        scenario_score = {
            sid: w.scenario_description * description_match.get(sid, 0.0)
            + (1 - w.scenario_description) * best_script_match.get(sid, 0.0)
            for sid in self.scenario_names
        }
        # What the sayings of each scenario share, beyond the nearest one (scenario_probe.py).
        probe = self.index.scenario_probe
        if probe is not None and w.scenario_probe:
            for sid, p in probe.probabilities(vector).items():  # fitted on this version's scenarios
                scenario_score[sid] += w.scenario_probe * p
        # What a few characters say plainly, which a small encoder may miss (scenario_words.py).
        words = self.index.scenario_words
        if words is not None and w.scenario_words:
            for sid, p in words.probabilities(text).items():
                scenario_score[sid] += w.scenario_words * p
        return scenario_score, script_match

    def _detect(self, scenario_score: dict[str, float], w: Weights) -> list[ScoredScenario]:
        ranked = _top(scenario_score, w.max_detected)
        if not ranked:
            return []
        floor = ranked[0][1] * w.detect_ratio
        return [ScoredScenario(sid, self.scenario_names[sid], s) for sid, s in ranked if s >= floor and s > 0]

    def _statutes(
        self, matched: dict[int, float], scripts: list[ScoredScript], detected: list[ScoredScenario], w: Weights
    ) -> list[ScoredArticle]:
        records = self.index.collections["statutes"].records
        score: dict[tuple[str, int], float] = {}
        for position, s in matched.items():  # an article scores by its best-matching text
            key = (records[position].law, records[position].article_no)
            score[key] = max(score.get(key, 0.0), s)
        for script in scripts[: w.cited_by_top]:
            for article in self.citations(script.record):
                score[article.key] = score.get(article.key, 0.0) + w.citation_boost * script.score
        # The best matches so far (the query's words, the top scripts' citations) keep their place:
        # a legal question is answered by the article it asks about, not by the provisions of a
        # complaint it resembles.
        direct = [key for key, _ in _top(score, w.direct_statutes)]
        for scenario in detected:
            for article in self.scenario_statutes[scenario.id]:
                score[article.key] = score.get(article.key, 0.0) + w.scenario_statute_boost * scenario.score
        ranked = direct + [key for key, _ in _top(score, w.statutes + len(direct)) if key not in direct]
        return [ScoredArticle(self.book.articles[key], score[key]) for key in ranked[: w.statutes]]

    def citations(self, script: Script) -> list[Article]:
        """The provisions in force that a script's citations stand for."""
        return self._in_force(script.citations)

    def _in_force(self, refs: Iterable[ArticleRef]) -> list[Article]:
        articles: list[Article] = []
        for ref in refs:
            try:
                articles.extend(self.book.resolve(ref.law, ref.article_no).in_force)
            except UnknownStatute:
                continue  # citations are validated at build time, scenario statutes by the corpus tests
        return list({a.key: a for a in articles}.values())


def query_clauses(text: str) -> list[str]:
    """The clauses a search encodes beside the whole normalised query (none for a one-clause
    query). A narrated call of hundreds of clauses is matched in at most MAX_CLAUSES runs of
    consecutive clauses, so its cost stays bounded."""
    clauses = split_clauses(text)
    if len(clauses) > MAX_CLAUSES:
        size = math.ceil(len(clauses) / MAX_CLAUSES)
        clauses = ["，".join(clauses[i : i + size]) for i in range(0, len(clauses), size)]
    return clauses


def encode_query_and_clauses(encode, text: str, clauses: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The query's vector and its clauses' vectors. Two passes, not one batch: a batch pads
    every text to the longest, and the whole query is the longest, so one batch would cost
    (clauses + 1) x the whole query's pass instead of about twice it. A long narration is all
    in its clauses: their normalised mean stands for the whole, one pass fewer where a pass
    costs most."""
    if not clauses:
        return encode([text])[0], []
    clause_vectors = list(encode(clauses))
    if len(text) > LONG_QUERY_CHARS:
        return clauses_mean(clause_vectors), clause_vectors
    return encode([text])[0], clause_vectors


def clauses_mean(clause_vectors: list[np.ndarray]) -> np.ndarray:
    """The clauses' normalised mean: the direction where each clause weighs the same."""
    mean = np.mean(clause_vectors, axis=0)
    return mean / np.linalg.norm(mean)


def _top(scores: dict, n: int) -> list[tuple]:
    return sorted(scores.items(), key=lambda item: (-item[1], str(item[0])))[:n]


def _led_by_a_read_scenario(
    ranked: list[int], score: dict[int, float], scenario_part: dict[int, float], bar: float
) -> list[int]:
    """`ranked` with its first script replaced by the best-scoring one whose scenario scores `bar` or
    more (`scenario_part`), when it is not one already; the rest keep their order."""
    if not ranked or scenario_part[ranked[0]] >= bar:
        return ranked
    first = max((p for p in score if scenario_part[p] >= bar), key=lambda p: (score[p], -p), default=None)
    if first is None:
        return ranked
    return [first] + [p for p in ranked if p != first][: len(ranked) - 1]


def _diversify(score: dict[int, float], records: Sequence[Script], penalty: float, k: int) -> list[int]:
    """Greedy top-k where a script loses `penalty` for each chosen script sharing a scenario with
    it, so a second demand's best script can pass a third variant of the first demand's."""
    scenarios = {p: set(records[p].scenarios) for p in score}
    # Per remaining script, how many chosen ones share a scenario with it: updated once per pick
    # instead of recounted for every candidate at every pick.
    shared = dict.fromkeys(score, 0)
    chosen: list[int] = []
    while shared and len(chosen) < k:
        best = max(shared, key=lambda p: (score[p] - penalty * shared[p], -p))
        chosen.append(best)
        del shared[best]
        for p in shared:
            if scenarios[p] & scenarios[best]:
                shared[p] += 1
    return chosen
