"""Cloudflare platform limits the settings are checked against.

Source: Cloudflare's Workers KV, D1 and Workers limits pages as of 2026-06.
Kept in one place so the settings, the seeds and the policy pack agree.
"""

KV_MIN_EXPIRATION_TTL_S = 60
KV_MAX_KEY_BYTES = 512
KV_MAX_VALUE_BYTES = 25 * 1024 * 1024
KV_MAX_METADATA_BYTES = 1024

# Worker script names double as a workers.dev subdomain label.
WORKER_NAME_MAX_CHARS = 63
# Names of D1 databases and KV namespace titles share this loose ceiling in the API.
D1_NAME_MAX_CHARS = 64
KV_TITLE_MAX_CHARS = 512

# The `ratelimit` binding only supports these windows.
RATELIMIT_PERIODS_S = (10, 60)
