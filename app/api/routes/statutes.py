from fastapi import APIRouter, Path

from app.api.deps import EngineDep
from app.api.schemas import ArticleOut, StatuteOut, error_responses
from app.corpus.statutes import article_json

router = APIRouter(tags=["statutes"])


@router.get("/v1/statutes/{law}/{article_no}", responses=error_responses((404, "Unknown law or article"), 422, 503))
def get_statute(
    law: str, engine: EngineDep, article_no: int = Path(ge=1, le=100000, description="Article number, e.g. 55")
) -> StatuteOut:
    """One article by its law's full title, short name or alias (消法, 民法典, 电信条例, 合同法 ...).
    A repealed or renumbered provision answers with `superseded_by`, the provisions in force."""
    resolution = engine.book.resolve(law, article_no)
    article = resolution.cited
    superseded_by = None if article.in_force else [ArticleOut(**article_json(a)) for a in resolution.in_force]
    return StatuteOut(
        **article_json(article),
        short=article.short,
        level=article.level,
        chapter=article.chapter,
        status=article.status,
        superseded_by=superseded_by,
    )
