"""Every hostile test runs under a memory and a time limit: a refusal that is slow or blows up memory is a
failure here, not a passing test on a big machine.

The limits are per test: the address space may grow by at most ``HOSTILE_MEMORY`` bytes beyond what the process
already has, and a test may take at most ``HOSTILE_SECONDS`` seconds (SIGALRM).  Both are restored afterwards.
"""

from __future__ import annotations

import os
import resource
import signal

import pytest

HOSTILE_MEMORY = 3 * 1024**3
HOSTILE_SECONDS = 120


def _address_space() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


class HostileTimeout(Exception):
    pass


@pytest.fixture(autouse=True)
def hostile_limits():
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _address_space() + HOSTILE_MEMORY
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))

    def expire(signum, frame):
        raise HostileTimeout(f"a hostile test ran longer than {HOSTILE_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(HOSTILE_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.fixture
def no_hang():
    """Fail instead of hanging forever if a read ever blocks on a FIFO (a guard, not a timing assertion)."""
    def boom(*_):
        raise AssertionError("reading blocked: the file was opened for a blocking read")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
