"""The bounds of the server's options (``pf-mock serve``, ``pf-mock simulate``), which a snapshot's config
and the contract's requests are held to as well. A module that imports nothing: the command line checks
its options without loading the contract's models or numpy, and the latency model reads its default here
without climbing above the streams it draws from."""

MAX_SEED = 2**53 - 1                # seeds are echoed in JSON; every JSON client reads this exactly
MAX_SPEED = 10_000.0                # a week of mock time per minute of wall time; faster starves requests
MAX_STARTING_BALANCE = 1e9          # keeps money to well under 1e-6 USD in a double
MAX_FEE_BPS = 100.0                 # 1% of notional
# Order-entry latency's median: the default (Hyperliquid's documented median, models/latency.py) and the
# highest a regime or ``--latency-ms`` may set.
DEFAULT_LATENCY_MS = 200.0
MAX_LATENCY_MS = 60_000.0
