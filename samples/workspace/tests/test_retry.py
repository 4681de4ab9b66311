"""Backoff arithmetic and the retry-or-dead-letter decision."""

import random

from tidepool.errors import JobTimeout, PermanentFailure
from tidepool.retry import RetryPolicy, format_error


def test_exponential_delays_capped_by_backoff_max():
    assert [RetryPolicy(backoff_jitter=0).delay_for(n) for n in range(1, 6)] == [2, 4, 8, 16, 32]
    policy = RetryPolicy(backoff_base=10, backoff_max=60, backoff_jitter=0)
    assert (policy.delay_for(3), policy.delay_for(4), policy.delay_for(500)) == (40, 60, 60)


def test_jitter_bounds():
    rng = random.Random(7)
    delays = [RetryPolicy(backoff_jitter=0.2).delay_for(4, rng) for _ in range(1000)]
    assert 12.8 <= min(delays) and max(delays) <= 19.2


def test_should_retry():
    policy = RetryPolicy(max_attempts=3, retry_on=(ConnectionError, JobTimeout))
    assert policy.should_retry(2, ConnectionResetError())
    assert not policy.should_retry(3, ConnectionResetError())  # attempts exhausted
    assert not policy.should_retry(1, KeyError("user_id"))     # not in retry_on
    assert not RetryPolicy().should_retry(1, PermanentFailure("gone"))


def test_format_error():
    assert format_error(ValueError("bad id")) == "ValueError: bad id"
    assert format_error(JobTimeout(12, "build", 300)) == (
        "tidepool.errors.JobTimeout: job 12 (build) exceeded job_timeout of 300s")
