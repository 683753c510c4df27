"""What the admin API and the command line do to the index versions, written once."""

from app.core.config import Settings
from app.embedding.encoder import model_identity
from app.index.store import check_version, previous_version, set_current


def use_version(settings: Settings, version: str | None = None) -> str:
    """Make `version` current (by default the one before the current: a rollback), once it is
    checked intact and built by the settings' model; returns the version made current."""
    target = version or previous_version(settings.index_dir)
    set_current(settings.index_dir, check_version(settings.index_dir, target, model_identity(settings)))
    return target
