"""Pacing under the QPS cap: the paced limiter, and the Redis limiter shared by processes."""
