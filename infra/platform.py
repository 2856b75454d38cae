"""What Cloudflare allows and what it charges: hard limits, free-plan limits and Paid prices.

Read on PRICES_READ_ON from Cloudflare's limits and pricing pages (SOURCES). Free-plan limits
are per account per day, reset at 00:00 UTC, and operations over them fail; Workers Paid
bills per month beyond what it includes. Prices change: re-read the pages and update the
figures and the date together. The policy pack keeps its own copy of the KV limits (it may
not import this package); tests/test_policy.py holds the copies equal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# --- hard limits --------------------------------------------------------------------------

KV_MIN_EXPIRATION_TTL_S = 60
KV_MAX_KEY_BYTES = 512
KV_MAX_VALUE_BYTES = 25 * 1024 * 1024
KV_MAX_METADATA_BYTES = 1024

# Worker script names double as a workers.dev subdomain label.
WORKER_NAME_MAX_CHARS = 63
# Names of D1 databases and KV namespace titles share this loose ceiling in the API.
D1_NAME_MAX_CHARS = 64
KV_TITLE_MAX_CHARS = 512

# Workers environment variables (text and JSON vars and secrets, each a binding): at most 64 per
# Worker on Workers Free (128 on Paid), each at most 5 KB (the limits page; an upload over it is
# refused, API code 10054 "... exceeds the limit of 5.1 kB").
WORKER_ENV_VARS_MAX = 64
WORKER_ENV_VAR_MAX_BYTES = 5 * 1024

# The `ratelimit` binding only supports these windows.
RATELIMIT_PERIODS_S = (10, 60)

# Workers Analytics Engine, per `writeDataPoint` (its limits page): at most 20 blobs of at most
# 16 KB together, 20 doubles and one index of at most 96 bytes; 25 data points per invocation.
# Data points are kept three months, so a query reaches back about 90 days.
AE_MAX_BLOBS = 20
AE_MAX_DOUBLES = 20
AE_MAX_BLOB_BYTES = 16 * 1024
AE_MAX_INDEX_BYTES = 96
AE_RETENTION_DAYS = 90

# --- free-plan limits and Paid prices ---------------------------------------------------------

PRICES_READ_ON = dt.date(2026, 11, 26)
SOURCES = (
    "https://developers.cloudflare.com/kv/platform/pricing/",
    "https://developers.cloudflare.com/d1/platform/pricing/",
    "https://developers.cloudflare.com/workers/platform/pricing/",
    "https://developers.cloudflare.com/workers/observability/logs/workers-logs/#pricing",
    "https://developers.cloudflare.com/analytics/analytics-engine/pricing/",
)
# "Beginning December 1, 2026, Workers Logs will use Cloudflare Observability pricing. Until
# then, the pricing above applies." (the Workers pricing page, read on PRICES_READ_ON; the
# Observability pricing page it points to published no Workers Logs figures yet). The estimate
# says so until the figures here are re-read.
WORKERS_LOGS_PRICING_CHANGES_ON = dt.date(2026, 12, 1)

# Workers Paid: a $5 monthly minimum that includes the monthly allowances below.
WORKERS_PAID_MINIMUM_USD = 5.00
# Paid usage is billed per calendar month; the estimate uses a 30-day month.
DAYS_PER_MONTH = 30
GB = 1_000_000_000  # Cloudflare bills storage in decimal gigabytes


@dataclass(frozen=True)
class Meter:
    """One billed quantity: its free-plan ceiling and its price on Workers Paid."""

    key: str  # the estimate's field name
    label: str
    free_daily_limit: float | None  # per day on the free plan (None: not limited per day)
    paid_included_monthly: float
    paid_usd_per_million: float
    # What happens past the free plan's daily amount, in the warning's words.
    over_free_effect: str = "after which they fail"
    # False while Cloudflare publishes the price without charging it yet (Analytics Engine).
    billed: bool = True


@dataclass(frozen=True)
class StorageMeter:
    key: str
    label: str
    free_limit_bytes: float  # the most the free plan stores
    paid_included_bytes: float
    paid_usd_per_gb_month: float


METERS = (
    Meter("kv_reads", "KV reads", 100_000, 10_000_000, 0.50),
    Meter("kv_writes", "KV writes", 1_000, 1_000_000, 5.00),
    Meter("kv_deletes", "KV deletes", 1_000, 1_000_000, 5.00),
    Meter("kv_lists", "KV lists", 1_000, 1_000_000, 5.00),
    Meter("d1_rows_read", "D1 rows read", 5_000_000, 25_000_000_000, 0.001),
    Meter("d1_rows_written", "D1 rows written", 100_000, 50_000_000, 1.00),
    Meter("worker_requests", "Worker requests", 100_000, 10_000_000, 0.30),
    # Every invocation log and every line the Worker writes is one event, times the sampling.
    # The pages read say no more than "200,000 per day" for the Free plan.
    Meter(
        "workers_log_events",
        "Workers Logs events",
        200_000,
        20_000_000,
        0.60,
        over_free_effect="past which the pages read do not say what is kept: sample less, or move to Workers Paid",
    ),
    # "Currently, you will not be billed for your use of Workers Analytics Engine. Pricing
    # information here is shared in advance" (its pricing page): priced, not yet billed.
    Meter(
        "ae_data_points",
        "AE data points",
        100_000,
        10_000_000,
        0.25,
        over_free_effect="past which the pages read do not say what happens",
        billed=False,
    ),
    Meter(
        "ae_read_queries",
        "AE read queries",
        10_000,
        1_000_000,
        1.00,
        over_free_effect="past which the pages read do not say what happens",
        billed=False,
    ),
)

STORAGE_METERS = (
    # KV: 1 GB per account on the free plan; 1 GB included on paid.
    StorageMeter("kv_storage_bytes", "KV storage", 1 * GB, 1 * GB, 0.50),
    # D1: 500 MB per database on the free plan (5 GB per account); 5 GB included on paid.
    # This project keeps everything in one database, so the per-database ceiling binds first.
    StorageMeter("d1_storage_bytes", "D1 storage", 500_000_000, 5 * GB, 0.75),
)

# The most one D1 database holds, per plan: beyond it the database refuses writes.
D1_MAX_DATABASE_BYTES = {"free": 500_000_000, "paid": 10 * GB}

# Not modelled: Workers CPU time (paid: 30 M CPU-ms a month included, then $0.02 per
# million CPU-ms; free: 10 ms per invocation). This Worker spends a few ms per request.
