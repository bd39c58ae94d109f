"""douyin-async: an asyncio client for the Douyin Open Platform data APIs.

Paced under the server's QPS cap, streaming typed records, with one exception hierarchy.
`RedisRateLimiter` is imported on first use, so the package imports without the `redis` extra.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version
from typing import TYPE_CHECKING, Any

from .auth import (
    AuthorizerTokens,
    ClientCredentials,
    FileTokenStore,
    MemoryTokenStore,
    SharedToken,
    StaticToken,
    Token,
    TokenProvider,
    TokenStore,
    provider_from_env,
)
from .bills.links import BillLinks
from .bills.records import BillRecord
from .client import DOUYIN_OPEN_API, TALENT_MEDIA_ENDPOINT, TASK_VIDEO_ENDPOINT, DouyinClient
from .errors import (
    ApiError,
    ApiRetiredError,
    AuthenticationError,
    BillFileError,
    BillLinkExpiredError,
    ClientClosedError,
    DouyinError,
    InvalidParameterError,
    InvalidRecordError,
    InvalidRequestError,
    PermissionDeniedError,
    QueueTimeoutError,
    QuotaExceededError,
    RateLimitedError,
    ResponseDecodeError,
    ServerError,
    TransportError,
)
from .http.fake import FakeTransport
from .http.retry import RetryPolicy
from .http.transport import AiohttpTransport, Transport
from .models import (
    TalentMedia,
    TalentMediaPage,
    TalentMediaQuery,
    TaskVideoPage,
    TaskVideoQuery,
    VideoDailyData,
)
from .pacing.limiter import PacedLimiter, RateLimiter
from .stats import ClientStats
from .webapp.cache import MemoryPageCache, PageCache, RedisPageCache
from .webapp.lanes import LanePolicy

if TYPE_CHECKING:
    from .pacing.redis_limiter import RedisRateLimiter

try:
    __version__ = _version("douyin-async")
except PackageNotFoundError:  # pragma: no cover - run from a source tree never installed
    __version__ = "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "RedisRateLimiter":
        from .pacing.redis_limiter import RedisRateLimiter

        globals()[name] = RedisRateLimiter
        return RedisRateLimiter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

__all__ = [
    "DOUYIN_OPEN_API",
    "TALENT_MEDIA_ENDPOINT",
    "TASK_VIDEO_ENDPOINT",
    "AiohttpTransport",
    "ApiError",
    "ApiRetiredError",
    "AuthenticationError",
    "AuthorizerTokens",
    "BillFileError",
    "BillLinkExpiredError",
    "BillLinks",
    "BillRecord",
    "ClientClosedError",
    "ClientCredentials",
    "ClientStats",
    "DouyinClient",
    "DouyinError",
    "FakeTransport",
    "FileTokenStore",
    "InvalidParameterError",
    "InvalidRecordError",
    "InvalidRequestError",
    "LanePolicy",
    "MemoryPageCache",
    "MemoryTokenStore",
    "PacedLimiter",
    "PageCache",
    "PermissionDeniedError",
    "QueueTimeoutError",
    "QuotaExceededError",
    "RateLimitedError",
    "RateLimiter",
    "RedisPageCache",
    "RedisRateLimiter",
    "ResponseDecodeError",
    "RetryPolicy",
    "ServerError",
    "SharedToken",
    "StaticToken",
    "TalentMedia",
    "TalentMediaPage",
    "TalentMediaQuery",
    "TaskVideoPage",
    "TaskVideoQuery",
    "Token",
    "TokenProvider",
    "TokenStore",
    "Transport",
    "TransportError",
    "VideoDailyData",
    "provider_from_env",
    "__version__",
]
