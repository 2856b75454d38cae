"""Cloudflare's free-plan daily limits and Workers Paid prices, as the cost estimator uses them.

Read on PRICES_READ_ON from Cloudflare's pricing and limits pages:
  https://developers.cloudflare.com/kv/platform/pricing/      (and /kv/platform/limits/)
  https://developers.cloudflare.com/d1/platform/pricing/      (and /d1/platform/limits/)
  https://developers.cloudflare.com/workers/platform/pricing/ (and /workers/platform/limits/)
Free-plan limits are per account per day, reset at 00:00 UTC, and operations over them
fail; the paid plan bills per month beyond what it includes. Prices change: re-read the
pages and update the figures and the date together.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PRICES_READ_ON = dt.date(2026, 11, 25)
SOURCES = (
    "https://developers.cloudflare.com/kv/platform/pricing/",
    "https://developers.cloudflare.com/d1/platform/pricing/",
    "https://developers.cloudflare.com/workers/platform/pricing/",
)

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
)

STORAGE_METERS = (
    # KV: 1 GB per account on the free plan; 1 GB included on paid.
    StorageMeter("kv_storage_bytes", "KV storage", 1 * GB, 1 * GB, 0.50),
    # D1: 500 MB per database on the free plan (5 GB per account); 5 GB included on paid.
    # This project keeps everything in one database, so the per-database ceiling binds first.
    StorageMeter("d1_storage_bytes", "D1 storage", 500_000_000, 5 * GB, 0.75),
)

# Not modelled: Workers CPU time (paid: 30 M CPU-ms a month included, then $0.02 per
# million CPU-ms; free: 10 ms per invocation). This Worker spends a few ms per request.
