"""Rate limits (``--rate-limit N``): a token bucket per key on the mock clock, the X-RateLimit headers,
429 ``rate_limited`` with Retry-After, and none of it by default. The buckets are checked without HTTP
first, on plain float times."""

from __future__ import annotations

import pytest
from app_client import AppClient

from conftest import KEY, OTHER_KEY, make_exchange
from pf_mock import cli, server
from pf_mock.api import AppOptions, create_app
from pf_mock.api.controls import limit_headers
from pf_mock.ratelimit import RateLimiter
from pf_mock.clock import DEFAULT_EPOCH
from pf_mock.server import ServeOptions, build_app
from contract_asserts import assert_error
from http_steps import advance

T0 = DEFAULT_EPOCH
LIMIT = 5
PRICE = "/v1/markets/BTC-PERP/price"
RATE_HEADERS = {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after"}


def limits(response) -> tuple[int, int, int]:
    h = response.headers
    return int(h["x-ratelimit-limit"]), int(h["x-ratelimit-remaining"]), int(h["x-ratelimit-reset"])


@pytest.fixture
def limited(exchange):
    exchange.authenticate(KEY), exchange.authenticate(OTHER_KEY)    # agents already: each key has its bucket
    with AppClient(create_app(exchange, AppOptions(rate_limit=LIMIT))) as c:
        yield c


# ---- the buckets, without HTTP ------------------------------------------------------------------
def test_bucket_bursts_n_then_refuses():
    limiter = RateLimiter(3)
    verdicts = [limiter.take("a", T0) for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.remaining for v in verdicts] == [2, 1, 0, 0]
    assert [v.reset_at for v in verdicts] == [T0 + 20, T0 + 40, T0 + 60, T0 + 60]
    assert verdicts[-1].retry_after == 20
    assert limit_headers(verdicts[-1]) == {"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "0",
                                      "X-RateLimit-Reset": str(int(T0 + 60)), "Retry-After": "20"}
    assert "Retry-After" not in limit_headers(verdicts[0])


def test_bucket_refills_n_per_minute():
    limiter = RateLimiter(6)        # one request every 10 s
    for _ in range(6):
        assert limiter.take("a", T0).allowed
    assert not limiter.take("a", T0 + 9.5).allowed
    assert limiter.take("a", T0 + 10).allowed
    assert not limiter.take("a", T0 + 10).allowed
    assert [limiter.take("a", T0 + 600).allowed for _ in range(7)] == [True] * 6 + [False]   # never past N


def test_bucket_retry_after_rounds_up():
    limiter = RateLimiter(7)        # 60/7 = 8.57 s a request
    for _ in range(7):
        limiter.take("a", T0)
    refused = limiter.take("a", T0)
    assert (refused.allowed, refused.retry_after) == (False, 9)
    assert not limiter.take("a", T0 + 8.5).allowed
    assert limiter.take("a", T0 + 8.58).allowed


def test_a_refused_request_uses_up_nothing():
    limiter = RateLimiter(2)
    limiter.take("a", T0), limiter.take("a", T0)
    for _ in range(10):
        assert not limiter.take("a", T0 + 10).allowed
    assert limiter.take("a", T0 + 30).allowed


def test_buckets_are_per_key():
    limiter = RateLimiter(1)
    assert limiter.take("a", T0).allowed and not limiter.take("a", T0).allowed
    assert limiter.take("b", T0).allowed


def test_a_clock_that_goes_back_refills_nothing():
    limiter = RateLimiter(2)
    limiter.take("a", T0 + 100), limiter.take("a", T0 + 100)
    assert not limiter.take("a", T0).allowed


def test_clear_fills_every_bucket():
    limiter = RateLimiter(1)
    limiter.take("a", T0)
    limiter.clear()
    assert limiter.take("a", T0).allowed


def test_buckets_are_bounded_and_the_least_recently_used_goes():
    limiter = RateLimiter(1, max_keys=3)          # one request a minute: nothing refills within the test
    for key in "abc":
        limiter.take(key, T0)
    limiter.take("a", T0 + 0.5)                 # a is asked again (refused): b is now the least recently used
    limiter.take("d", T0 + 1)
    assert len(limiter) == 3
    assert limiter.level("b", T0 + 1) == limiter.capacity       # forgotten: as good as full
    assert limiter.level("a", T0 + 1) < limiter.capacity and limiter.level("c", T0 + 1) < limiter.capacity
    for i in range(1000):                       # however many keys come, never more than the bound
        limiter.take(f"k{i}", T0 + 2)
    assert len(limiter) == 3


def test_a_full_table_is_not_scanned(monkeypatch):
    """Finding a bucket is a dict lookup: with the table full, a new key reads no other bucket's level."""
    limiter = RateLimiter(60, max_keys=100)
    for i in range(100):
        limiter.take(f"k{i}", T0)
    reads = []
    level = RateLimiter.level
    monkeypatch.setattr(RateLimiter, "level", lambda self, key, now: reads.append(key) or level(self, key, now))
    limiter.take("new", T0 + 1)
    assert reads == ["new"]


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, None])
def test_a_limit_must_be_a_positive_whole_number(bad):
    with pytest.raises(ValueError):
        RateLimiter(bad)


# ---- over HTTP ----------------------------------------------------------------------------------
def test_off_by_default_no_headers_and_no_429(client, auth):
    for _ in range(LIMIT * 4):
        r = client.get("/v1/account", headers=auth)
        assert r.status_code == 200
        assert not RATE_HEADERS & set(r.headers)


def test_burst_then_429_with_headers_and_body(limited, auth):
    answers = [limited.get("/v1/account", headers=auth) for _ in range(LIMIT)]
    assert [r.status_code for r in answers] == [200] * LIMIT
    assert [limits(r) for r in answers] == [(LIMIT, LIMIT - 1 - i, int(T0) + 12 * (i + 1)) for i in range(LIMIT)]
    refused = limited.get("/v1/account", headers=auth)
    body = assert_error(refused, 429, "rate_limited")
    assert body["retry_after_seconds"] == 12
    assert refused.headers["retry-after"] == "12"
    assert limits(refused) == (LIMIT, 0, int(T0) + 60)


def test_a_refused_request_does_not_reach_the_exchange(limited, auth, exchange):
    mid = limited.get(PRICE).json()["mid"]           # the host's bucket, not the key's
    for _ in range(LIMIT):
        assert limited.get("/v1/account", headers=auth).status_code == 200
    agent = exchange.agent_for_key(KEY)
    r = limited.post("/v1/mm/quote", headers=auth, json={"symbol": "BTC-PERP", "bid_price": mid * 0.998,
                                                          "bid_size": 100, "ask_price": mid * 1.002,
                                                          "ask_size": 100})
    assert_error(r, 429, "rate_limited")
    assert exchange.open_orders(agent) == [] and agent.sessions == {} and agent.ledgers == {}
    r = limited.post("/v1/faucet/claim", headers=auth)
    assert_error(r, 429, "rate_limited")
    assert not agent.faucet_claimed


def test_refill_follows_the_manual_clock(limited, auth):
    for _ in range(LIMIT):
        limited.get("/v1/account", headers=auth)
    assert limited.get("/v1/account", headers=auth).status_code == 429
    advance(limited, 11)
    r = limited.get("/v1/account", headers=auth)
    assert (r.status_code, r.headers["retry-after"]) == (429, "1")
    advance(limited, 1)                                 # 12 s: one request's worth
    r = limited.get("/v1/account", headers=auth)
    assert r.status_code == 200 and limits(r) == (LIMIT, 0, int(T0) + 72)
    assert limited.get("/v1/account", headers=auth).status_code == 429
    advance(limited, 60)                                # a whole minute: the whole burst again
    assert [limited.get("/v1/account", headers=auth).status_code for _ in range(LIMIT + 1)] == \
        [200] * LIMIT + [429]


def test_keys_have_their_own_buckets(limited, auth, other_auth):
    for _ in range(LIMIT):
        limited.get("/v1/account", headers=auth)
    assert limited.get("/v1/account", headers=auth).status_code == 429
    r = limited.get("/v1/account", headers=other_auth)
    assert r.status_code == 200 and limits(r)[1] == LIMIT - 1
    r = limited.get(PRICE)                              # no key: the client host's bucket
    assert r.status_code == 200 and limits(r)[1] == LIMIT - 1


def test_bearer_and_x_api_key_share_the_keys_bucket(limited):
    for _ in range(LIMIT):
        assert limited.get("/v1/account", headers={"X-API-Key": OTHER_KEY}).status_code == 200
    assert_error(limited.get("/v1/account", headers={"Authorization": f"Bearer {OTHER_KEY}"}), 429, "rate_limited")


def test_requests_without_a_key_share_the_hosts_bucket(limited):
    for _ in range(LIMIT):
        assert limited.get(PRICE).status_code == 200
    assert_error(limited.get("/v1/markets"), 429, "rate_limited")
    assert limited.get(PRICE, headers={"X-API-Key": KEY}).status_code == 200


def test_every_answer_carries_the_headers_errors_too(limited, auth):
    r = limited.get("/v1/markets/NOPE-PERP")
    assert r.status_code == 404 and limits(r)[1] == LIMIT - 1
    r = limited.get("/v1/account")
    assert r.status_code == 401 and limits(r)[1] == LIMIT - 2
    r = limited.post("/v1/mm/quote", headers=auth, json={})
    assert r.status_code == 400 and limits(r)[1] == LIMIT - 1      # the key's own bucket
    r = limited.get("/no/such/route")
    assert r.status_code == 404 and limits(r)[1] == LIMIT - 3


def test_mock_routes_are_not_limited_and_carry_no_headers(limited):
    for _ in range(LIMIT):
        limited.get(PRICE)
    assert limited.get(PRICE).status_code == 429
    for _ in range(LIMIT * 2):
        r = limited.get("/_mock/state")
        assert r.status_code == 200 and not RATE_HEADERS & set(r.headers)
    assert limited.get(PRICE).status_code == 429


def test_a_fault_answer_counts_and_carries_the_headers(limited):
    limited.post("/_mock/faults", json={"path": PRICE, "status": 503})
    r = limited.get(PRICE)
    assert r.status_code == 503 and limits(r)[1] == LIMIT - 1
    for _ in range(LIMIT - 1):
        limited.get(PRICE)
    assert_error(limited.get(PRICE), 429, "rate_limited")      # the limit answers before the fault


def test_reset_fills_the_buckets(limited, auth):
    for _ in range(LIMIT):
        limited.get("/v1/account", headers=auth)
    assert limited.get("/v1/account", headers=auth).status_code == 429
    assert limited.post("/_mock/reset", json={}).status_code == 200
    r = limited.get("/v1/account", headers=auth)
    assert r.status_code == 200 and limits(r) == (LIMIT, LIMIT - 1, int(T0) + 12)


def test_the_serve_option_reaches_the_app():
    app = build_app(ServeOptions(clock="manual", rate_limit=2))
    with AppClient(app) as c:
        assert [c.get(PRICE).status_code for _ in range(3)] == [200, 200, 429]
    with AppClient(build_app(ServeOptions(clock="manual"))) as c:
        assert not RATE_HEADERS & set(c.get(PRICE).headers)


def test_the_command_line_option():
    assert cli.parser().parse_args(["serve", "--rate-limit", "30"]).rate_limit == 30
    assert cli.parser().parse_args(["serve"]).rate_limit is None
    for bad in ("0", "-3", "many"):
        with pytest.raises(SystemExit):
            cli.parser().parse_args(["serve", "--rate-limit", bad])


def test_the_command_line_passes_the_limit_to_serve(monkeypatch):
    seen = []
    monkeypatch.setattr(server, "serve", seen.append)      # the command line loads the server when it runs
    assert cli.main(["serve", "--rate-limit", "12", "--clock", "manual"]) == 0
    assert seen[0].rate_limit == 12


def test_an_app_with_a_bad_limit_is_refused():
    with pytest.raises(ValueError):
        create_app(make_exchange(), AppOptions(rate_limit=0))
