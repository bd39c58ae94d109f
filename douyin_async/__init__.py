"""douyin-async: an asyncio client for the Douyin Open Platform data APIs.

Paced under the server's QPS cap, streaming typed records, with one exception hierarchy.
"""

from .auth import StaticToken, TokenProvider
from .client import DOUYIN_OPEN_API, TALENT_MEDIA_ENDPOINT, TASK_VIDEO_ENDPOINT, DouyinClient
from .errors import (
    ApiError,
    AuthenticationError,
    DouyinError,
    InvalidParameterError,
    InvalidRequestError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitedError,
    ResponseDecodeError,
    ServerError,
    TransportError,
)
from .models import (
    TalentMedia,
    TalentMediaPage,
    TalentMediaQuery,
    TaskVideoPage,
    TaskVideoQuery,
    VideoDailyData,
)
from .ratelimit import PacedLimiter, RateLimiter
from .retry import RetryPolicy
from .stats import ClientStats

__version__ = "0.1.0"

__all__ = [
    "DOUYIN_OPEN_API",
    "TALENT_MEDIA_ENDPOINT",
    "TASK_VIDEO_ENDPOINT",
    "ApiError",
    "AuthenticationError",
    "ClientStats",
    "DouyinClient",
    "DouyinError",
    "InvalidParameterError",
    "InvalidRequestError",
    "PacedLimiter",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitedError",
    "RateLimiter",
    "ResponseDecodeError",
    "RetryPolicy",
    "ServerError",
    "StaticToken",
    "TalentMedia",
    "TalentMediaPage",
    "TalentMediaQuery",
    "TaskVideoPage",
    "TaskVideoQuery",
    "TokenProvider",
    "TransportError",
    "VideoDailyData",
    "__version__",
]
