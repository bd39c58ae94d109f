"""douyin-async: an asyncio client for the Douyin Open Platform data APIs.

Paced under the server's QPS cap, streaming typed records, with one exception hierarchy.
"""

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
    "AuthorizerTokens",
    "ClientCredentials",
    "ClientStats",
    "DouyinClient",
    "DouyinError",
    "FileTokenStore",
    "InvalidParameterError",
    "InvalidRequestError",
    "MemoryTokenStore",
    "PacedLimiter",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitedError",
    "RateLimiter",
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
    "TransportError",
    "VideoDailyData",
    "provider_from_env",
    "__version__",
]
