"""What Cloudflare allows and what it charges: hard limits, free-plan limits and Paid prices.

Read on PRICES_READ_ON from Cloudflare's limits and pricing pages (SOURCES). Free-plan limits
are per account per day (every stack on the account shares them), reset at 00:00 UTC, and
operations over them fail; Workers Paid bills per billing cycle beyond what it includes (D1's
allowances reset on the subscription's renewal date, not on the 1st of the month). Prices change: re-read the pages and update the
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
# 16 KB together, 20 doubles and one index of at most 96 bytes; 250 data points per invocation.
# Data points are kept three months, so a query reaches back about 90 days.
AE_MAX_BLOBS = 20
AE_MAX_DOUBLES = 20
AE_MAX_BLOB_BYTES = 16 * 1024
AE_MAX_INDEX_BYTES = 96
AE_RETENTION_DAYS = 90
AE_MAX_DATA_POINTS_PER_INVOCATION = 250

# --- free-plan limits and Paid prices ---------------------------------------------------------

PRICES_READ_ON = dt.date(2026, 11, 26)
SOURCES = (
    "https://developers.cloudflare.com/kv/platform/pricing/",
    "https://developers.cloudflare.com/d1/platform/pricing/",
    "https://developers.cloudflare.com/workers/platform/pricing/",
    "https://developers.cloudflare.com/workers/observability/logs/workers-logs/#pricing",
    "https://developers.cloudflare.com/observability/pricing/",
    "https://developers.cloudflare.com/analytics/analytics-engine/pricing/",
)
# "Beginning December 1, 2026, Workers Logs will use Cloudflare Observability pricing" (the
# Workers pricing page). The figures are those of that pricing page (WORKERS_LOGS_PRICING_PAGE,
# "Last updated Oct 2, 2026"), read on 2026-12-06: Free "0.5 GB per day", "Seven-day
# retention included", "Additional ingestion: Not available" ("On Free, Cloudflare stops
# ingesting new data when the account reaches its daily limit. Ingestion resumes when the
# allowance resets at 00:00 UTC"); Paid "50 GB per billing cycle" and "12 GB-month per billing
# cycle", then "$0.25 per GB" and "$0.10 per GB-month"; an account-level allowance that Workers
# Traces and the account's other logs share.
WORKERS_LOGS_PRICING_CHANGES_ON = dt.date(2026, 12, 1)
WORKERS_LOGS_PRICING_PAGE = "https://developers.cloudflare.com/observability/pricing/"
WORKERS_LOGS_FIGURES_CONFIRMED = True

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
    unit: str = "operations"  # or "bytes" (Workers Logs), for the report's number format
    # False while Cloudflare publishes the price without charging it yet (Analytics Engine).
    billed: bool = True


@dataclass(frozen=True)
class StorageMeter:
    key: str
    label: str
    free_limit_bytes: float | None  # the most the free plan stores (None: no limit of its own)
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
    # Workers Logs is billed by volume since WORKERS_LOGS_PRICING_CHANGES_ON (Cloudflare
    # Observability pricing): Free ingests 0.5 GB a day, then ingestion stops for the day; Paid
    # includes 50 GB ingested per cycle, then $0.25 per GB (stored: WORKERS_LOGS_STORED below).
    # Priced per million bytes here, so the meter arithmetic stays one kind.
    Meter(
        "workers_logs_bytes",
        "Workers Logs ingested",
        0.5 * GB,
        50 * GB,
        0.25 / (GB / 1_000_000),
        over_free_effect="after which ingestion stops: the rest of the day's log lines are dropped "
        "(the Worker still answers)",
        unit="bytes",
    ),
    # Workers CPU time: Paid includes 30 million CPU-ms a month, then $0.02 per million; the
    # Free plan bills none (it caps each invocation instead: WORKERS_FREE_CPU_MS_PER_INVOCATION).
    Meter("workers_cpu_ms", "Workers CPU time (ms)", None, 30_000_000, 0.02, unit="ms"),
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
    # Workers Logs kept: Paid includes 12 GB-month a cycle, then $0.10 per GB-month (Cloudflare
    # Observability pricing); Free keeps 7 days and bills none (no limit of its own: None).
    StorageMeter("workers_logs_stored_bytes", "Workers Logs stored", None, 12 * GB, 0.10),
)

# Workers Logs are kept seven days on either plan (the Observability pricing page: "Logs and traces
# in the shared allowance have a default seven-day retention"; the 3 days Free kept before
# 2026-12-01 are gone): stored = a day's ingest x that.
WORKERS_LOGS_RETENTION_DAYS = {"free": 7, "paid": 7}

# The most one D1 database holds, per plan: beyond it the database refuses writes.
D1_MAX_DATABASE_BYTES = {"free": 500_000_000, "paid": 10 * GB}

# Workers Free allows 10 ms of CPU per invocation (the Workers limits page; past it the invocation fails).
WORKERS_FREE_CPU_MS_PER_INVOCATION = 10

# Workers Free: at most 1,000 requests a minute per account (the Workers limits page, "Burst
# rate"); past it requests are refused (error 1015) until the minute is over.
WORKERS_FREE_REQUESTS_PER_MINUTE = 1_000
