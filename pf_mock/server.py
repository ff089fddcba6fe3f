"""Running the app under uvicorn: one process, one event loop thread that owns the exchange."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import uvicorn

from .api import AppOptions, create_app
from .clock import ManualClock, RealtimeClock
from .exchange import Exchange, ExchangeConfig
from .scenarios import apply_scenario, load_scenario


@dataclass
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    seed: int = 0
    clock: str = "realtime"
    speed: float = 1.0
    scenario: str | None = None
    strict_auth: bool = False
    starting_balance: float = 10_000.0
    rate_limit: int | None = None
    admin: bool = True
    admin_token: str | None = None
    maker_rebate_bps: float = 2.5
    taker_fee_bps: float = 4.5


def build_exchange(opts: ServeOptions) -> Exchange:
    clock = ManualClock() if opts.clock == "manual" else RealtimeClock(speed=opts.speed)
    config = ExchangeConfig(seed=opts.seed, starting_balance=opts.starting_balance, strict_auth=opts.strict_auth,
                            maker_rebate_bps=opts.maker_rebate_bps, taker_fee_bps=opts.taker_fee_bps)
    scenario = load_scenario(opts.scenario) if opts.scenario else None     # a bad one fails before anything starts
    exchange = Exchange(config, clock)
    if scenario is not None:
        apply_scenario(exchange, scenario)
    return exchange


def build_app(opts: ServeOptions, exchange: Exchange | None = None):
    exchange = exchange or build_exchange(opts)
    return create_app(exchange, AppOptions(admin=opts.admin, admin_token=opts.admin_token,
                                           rate_limit=opts.rate_limit))


class ReadyServer(uvicorn.Server):
    """A uvicorn server that says so, in one line, once its socket is listening."""

    def __init__(self, config: uvicorn.Config, banner: str = "", quiet: bool = False):
        super().__init__(config)
        self.banner = banner
        self.quiet = quiet
        self.bound_port: int | None = None

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        if self.servers and self.servers[0].sockets:
            self.bound_port = self.servers[0].sockets[0].getsockname()[1]
        if not self.quiet:
            host = self.config.host
            print(f"pf-mock ready on http://{host}:{self.bound_port} {self.banner}".rstrip(), flush=True)


def uvicorn_config(app, opts: ServeOptions) -> uvicorn.Config:
    """How every pf-mock server runs under uvicorn (``serve`` and ``pf_mock.testing.run_server``)."""
    return uvicorn.Config(app, host=opts.host, port=opts.port, log_level="warning", access_log=False,
                          lifespan="off")


def serve(opts: ServeOptions) -> None:
    app = build_app(opts)
    config = uvicorn_config(app, opts)
    exchange = app.state.exchange       # its seed is the scenario's if --scenario brought one
    speed = "" if opts.clock == "manual" else f" x{opts.speed:g}"
    scenario = f", scenario {exchange.scenario_name}" if exchange.scenario_name else ""
    banner = f"(seed {exchange.seed}, clock {opts.clock}{speed}{scenario})"
    ReadyServer(config, banner).run()
    sys.exit(0)
