"""Settings: every setting a stack has, validated in one pass by pydantic.

Each field's own rules live with its model (catalog, worker, traffic, adopt, local_data);
this model adds what spans fields: tiers named by flags and dev data, names Cloudflare
accepts, seeded values within KV's limits, renamed settings read under their old names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

from cronsim import CronSim, CronSimError
from pydantic import AliasChoices, AliasPath, Field, ValidationInfo, field_validator, model_validator

from infra import platform, worker_contract
from infra.names import LOCAL, NAME_PATTERN, ResourceNames, resource_names
from infra.settings.adopt import Adopt
from infra.settings.base import Issue, SettingModel, problem, raise_if
from infra.settings.catalog import DEFAULT_TIERS, FLAG_NAME, FeatureFlag, Tier
from infra.settings.clients import Client, clients_issues
from infra.settings.local_data import DEFAULT_DEV_SUBSCRIPTIONS, DevSubscription
from infra.settings.observability import Metrics, Observability, RequestLog
from infra.settings.routing import CustomDomain, Route
from infra.settings.traffic import Traffic
from infra.settings.worker import (
    BurstRateLimit,
    ClientRateLimit,
    Ttls,
    client_limit_default,
    derived_namespace_id,
    tiers_max_age_problem,
    usage_window_problem,
)

ACCOUNT_ID_ENV = "CLOUDFLARE_ACCOUNT_ID"
# The longest GET /entitlements may serve a count from memory: past a few minutes the count
# would mislead more than it saves.
ENTITLEMENTS_COUNT_MAX_AGE_S = 300
# Stacks that are production unless their file says `production: false` (the policy pack's
# default `productionStacks` names the same).
PRODUCTION_STACKS = ("prod",)

# Settings still accepted but deprecated: config key -> what to do instead ({value}: the stack's).
DEPRECATED = {
    "ttls.usage": (
        "no route caches usage data (usage is counted in D1), so the Worker no longer gets USAGE_TTL; "
        "remove it: `pulumi config rm --path ttls.usage`"
    ),
    "ttls.tierConfig": (
        "renamed tiersMaxAge: it is GET /tiers' Cache-Control max-age, not a KV lifetime; move it: "
        "`pulumi config set tiersMaxAge {value}` then `pulumi config rm --path ttls.tierConfig`"
    ),
    "ttls.rateLimit": (
        "renamed usageWindowSeconds: it is the length of the window POST /usage counts in; move it: "
        "`pulumi config set usageWindowSeconds {value}` then `pulumi config rm --path ttls.rateLimit`"
    ),
    "legacyFlagKeys": (
        "a flags:<name> KV key per flag is written beside config:catalog, two resources per flag; once "
        "their readers read config:catalog, `pulumi config rm legacyFlagKeys` "
        "(docs/deploying.md, 'Retiring the per-flag keys')"
    ),
}
# Renamed settings: new key -> old key, still read (AliasPath) when the new one is unset.
RENAMED = {"tiersMaxAge": "ttls.tierConfig", "usageWindowSeconds": "ttls.rateLimit"}


class Settings(SettingModel):
    app_name: str = "guruai"
    # Validated even when unset: a missing account id is reported with the rest.
    account_id: str | None = Field(default=None, validate_default=True)
    ttls: Ttls = Ttls()
    # GET /tiers' `Cache-Control: private, max-age`, in seconds; read from `ttls.tierConfig`, its
    # deprecated name, when unset.
    tiers_max_age: int = Field(
        default=3600,
        validation_alias=AliasChoices("tiersMaxAge", AliasPath("ttls", "tierConfig")),
    )
    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    # What a subscription whose tier is no longer configured gets; None: the first tier.
    fallback_tier: str | None = None
    # Deprecated: also seed a `flags:<name>` key per flag (two resources a flag), for readers
    # that have not moved to `config:catalog` yet. Before featureFlags: its checks depend on it.
    legacy_flag_keys: bool = False
    feature_flags: dict[str, FeatureFlag] = Field(default_factory=dict)
    cron: str = "0 3 * * *"
    compatibility_date: str = "2026-04-01"
    burst_rate_limit: BurstRateLimit = BurstRateLimit()
    # Every authenticated route, per client; its limit unset: sized from `traffic`.
    client_rate_limit: ClientRateLimit = ClientRateLimit()
    usage_retention_days: int = Field(default=35, ge=1, le=3650)
    # How long POST /usage replays the answer to an Idempotency-Key (seconds); the cron deletes older keys.
    idempotency_window_seconds: int = Field(default=86400, ge=1, le=7 * 86400)
    # The length of the window POST /usage counts in (D1), in seconds; read from `ttls.rateLimit`,
    # its deprecated name, when unset. After usageRetentionDays, which bounds it.
    usage_window_seconds: int = Field(
        default=86400,  # a UTC day
        validation_alias=AliasChoices("usageWindowSeconds", AliasPath("ttls", "rateLimit")),
    )
    # Protect and retain KV namespaces and D1 databases: no replace, no delete drops data.
    protect_stateful_resources: bool = True
    # A production stack retains its namespaces and databases whatever the setting above
    # says, and protects and retains its seeded keys. Unset: true for the stacks in
    # PRODUCTION_STACKS (Pulumi.prod.yaml says so explicitly).
    production: bool | None = Field(default=None, validate_default=True)
    observability: Observability = Observability()
    # Beside Cloudflare's block: which of its own log lines the Worker writes, and its metrics.
    request_log: RequestLog = RequestLog()
    metrics: Metrics = Metrics()
    # Seconds GET /entitlements may serve today's count from the isolate's memory (0: read D1
    # every time); its answer says how old the count is (`usageAsOf`).
    entitlements_count_max_age: int = Field(default=10, ge=0, le=ENTITLEMENTS_COUNT_MAX_AGE_S)
    # Where the Worker answers: optionally the app's own domain (one of customDomain or route),
    # and <script>.<account subdomain>.workers.dev.
    custom_domain: CustomDomain | None = None
    route: Route | None = None
    # Unset: on only without an own domain, whose WAF and rate-limiting rules workers.dev would
    # bypass. After customDomain and route, which decide its default.
    workers_dev: bool = Field(default=None, validate_default=True)
    # Validated even when defaulted: the default users name the default tiers, which a stack may rename.
    dev_subscriptions: tuple[DevSubscription, ...] = Field(default=DEFAULT_DEV_SUBSCRIPTIONS, validate_default=True)
    # Existing namespaces/databases to take over by id instead of creating them.
    adopt: Adopt = Adopt()
    traffic: Traffic = Traffic()
    # Who may call the Worker (infra/settings/clients.py); empty: the deprecated service token.
    clients: dict[str, Client] = Field(default_factory=dict)

    @field_validator("app_name")
    @classmethod
    def _app_name(cls, value: str, info: ValidationInfo) -> str:
        if not NAME_PATTERN.match(value):
            raise problem(
                "Cloudflare names accept only lowercase letters, digits and inner hyphens",
                "use e.g. 'guruai' or 'my-app'",
            )
        stack = (info.context or {}).get("stack", "dev")
        problems = resource_names(value, stack).problems()
        if problems:
            raise problem("; ".join(problems), "shorten appName, or use a lowercase stack name")
        return value

    @field_validator("account_id")
    @classmethod
    def _account_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            if (info.context or {}).get("require_account", True):
                stack = (info.context or {}).get("stack", "<stack>")
                raise problem(
                    "missing",
                    f"run `pulumi config set accountId <32-hex id> --stack {stack}` or export {ACCOUNT_ID_ENV}",
                )
            return None
        if not re.fullmatch(r"[0-9a-f]{32}", value):
            raise problem(
                "not a Cloudflare account id (32 lowercase hex characters)",
                "copy it from the dashboard's Workers & Pages overview, right sidebar",
            )
        return value

    @field_validator("production")
    @classmethod
    def _production(cls, value: bool | None, info: ValidationInfo) -> bool:
        return value if value is not None else (info.context or {}).get("stack") in PRODUCTION_STACKS

    @field_validator("workers_dev", mode="before")
    @classmethod
    def _workers_dev(cls, value: object, info: ValidationInfo) -> object:
        if value is not None:
            return value  # an explicit true keeps workers.dev beside the own domain
        return info.data.get("custom_domain") is None and info.data.get("route") is None

    @model_validator(mode="after")
    def _one_address_at_least(self) -> Settings:
        issues: list[Issue] = []
        if self.custom_domain is not None and self.route is not None:
            issues.append(
                (
                    ("route",),
                    "set together with customDomain: the Worker gets one address of the app's own",
                    self.route.pattern,
                    "keep one: `pulumi config rm route` or `pulumi config rm customDomain`",
                )
            )
        if not self.workers_dev and self.custom_domain is None and self.route is None:
            issues.append(
                (
                    ("workersDev",),
                    "false with neither customDomain nor route: the Worker would answer on no address",
                    False,
                    "set customDomain (or route), or leave workersDev true",
                )
            )
        raise_if(issues)
        return self

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: tuple[Tier, ...]) -> tuple[Tier, ...]:
        if not value:
            raise problem("no tiers", "define at least one tier")
        names = [tier.name for tier in value]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise problem(f"tier names repeat: {', '.join(duplicates)}", "give each tier its own name")
        raise_if(_kv_size_issues(("tiers",), worker_contract.TIERS_KEY, worker_contract.tiers_value(value)))
        return value

    @field_validator("tiers_max_age")
    @classmethod
    def _tiers_max_age(cls, value: int) -> int:
        found = tiers_max_age_problem(value)
        if found:
            raise problem(*found)
        return value

    @field_validator("usage_window_seconds")
    @classmethod
    def _usage_window(cls, value: int, info: ValidationInfo) -> int:
        found = usage_window_problem(value, info.data.get("usage_retention_days"))
        if found:
            raise problem(*found)
        return value

    @model_validator(mode="after")
    def _renamed_set_once(self) -> Settings:
        """An old name beside its new one is fine only when both say the same."""
        issues: list[Issue] = []
        for new_key, new_value, old_value in (
            ("tiersMaxAge", self.tiers_max_age, self.ttls.tier_config),
            ("usageWindowSeconds", self.usage_window_seconds, self.ttls.rate_limit),
        ):
            old_key = RENAMED[new_key]
            if old_value is not None and old_value != new_value:
                issues.append(
                    (
                        tuple(old_key.split(".")),
                        f"set beside {new_key} ({new_value}), its new name, to another value",
                        old_value,
                        f"keep {new_key}: `pulumi config rm --path {old_key}`",
                    )
                )
        raise_if(issues)
        return self

    @model_validator(mode="after")
    def _catalog_fits(self) -> Settings:
        """The catalog (every tier and flag) is the Worker's CATALOG variables, in parts of at most
        5 KB within the Worker's variable count: about 240 KB, far below the KV value it is seeded
        as too (`config:catalog`, 25 MiB)."""
        document = worker_contract.catalog_document(self.tiers, self.feature_flags, self.effective_fallback_tier)
        size = len(worker_contract.canonical_json(document).encode())
        parts = len(worker_contract.catalog_parts(document))
        most = platform.WORKER_ENV_VARS_MAX - worker_contract.RESERVED_ENV_VARS
        if parts > most:
            raise_if(
                [
                    (
                        ("featureFlags",),
                        f"the catalog (every tier and flag) is {size} bytes: the Worker would need {parts} variables "
                        f"of 5 KB to hold it, over the {most} a Worker's {platform.WORKER_ENV_VARS_MAX} leave it",
                        f"{len(self.feature_flags)} flags and {len(self.tiers)} tiers",
                        "remove retired flags, or shorten flag and tier descriptions",
                    )
                ]
            )
        return self

    @field_validator("fallback_tier")
    @classmethod
    def _fallback_tier(cls, value: str | None, info: ValidationInfo) -> str | None:
        tier_names = _valid_tier_names(info)
        if value is not None and tier_names is not None and value not in tier_names:
            raise problem("names an unknown tier", _one_of(tier_names))
        return value

    @field_validator("clients")
    @classmethod
    def _clients(cls, value: dict[str, Client]) -> dict[str, Client]:
        raise_if(clients_issues(value))
        return value

    @field_validator("feature_flags")
    @classmethod
    def _flags(cls, value: dict[str, FeatureFlag], info: ValidationInfo) -> dict[str, FeatureFlag]:
        issues: list[Issue] = []
        tier_names = _valid_tier_names(info)
        legacy_keys = info.data.get("legacy_flag_keys", False)
        for name, flag in value.items():
            where = ("featureFlags", name)
            if not FLAG_NAME.match(name):
                issues.append((where, "not a plain flag name", name, "use letters, digits, '.', '_' or '-'"))
            if legacy_keys:  # its own KV key only then; the catalog's size is checked as a whole
                issues += _kv_size_issues(where, worker_contract.flag_key(name), worker_contract.flag_value(flag))
            for index, tier in enumerate(flag.tiers or ()):
                if tier_names is not None and tier not in tier_names:
                    issues.append(((*where, "tiers", index), "names an unknown tier", tier, _one_of(tier_names)))
        raise_if(issues)
        return value

    @field_validator("dev_subscriptions")
    @classmethod
    def _dev_subscription_tiers(
        cls, value: tuple[DevSubscription, ...], info: ValidationInfo
    ) -> tuple[DevSubscription, ...]:
        tier_names = _valid_tier_names(info)
        # A tier renamed or removed in `tiers` strands its subscriptions (they get `fallbackTier`'s
        # limits): refused here, before any resource is registered, for the subscriptions the stack knows.
        raise_if(
            [
                (
                    ("devSubscriptions", index, "tier"),
                    "names an unknown tier: a change to `tiers` that drops it would strand this subscription",
                    sub.tier,
                    f"{_one_of(tier_names)} (set `devSubscriptions`), or keep the tier in `tiers`",
                )
                for index, sub in enumerate(value)
                if tier_names is not None and sub.tier not in tier_names
            ]
        )
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise problem(
                "Cloudflare cron triggers take exactly 5 fields (minute hour day month weekday)",
                "use e.g. '0 3 * * *' for 03:00 UTC daily",
            )
        try:
            CronSim(value, dt.datetime(2026, 1, 1))
        except CronSimError as error:
            raise problem(f"not a cron expression: {error}", "use e.g. '0 3 * * *' for 03:00 UTC daily") from None
        return value

    @field_validator("compatibility_date")
    @classmethod
    def _compatibility_date(cls, value: str) -> str:
        try:
            parsed = dt.date.fromisoformat(value)
        except ValueError:
            raise problem("not a date in YYYY-MM-DD form", "use e.g. '2026-04-01'") from None
        if parsed > dt.date.today():
            raise problem("in the future: Cloudflare rejects it", "use today's date or earlier")
        return value

    @property
    def is_production(self) -> bool:
        return bool(self.production)

    @property
    def effective_fallback_tier(self) -> str:
        return self.fallback_tier or self.tiers[0].name

    def names(self, stack: str) -> ResourceNames:
        """The stack's Cloudflare names; an adopted database keeps its own (D1 cannot rename).
        Local development keeps its placeholders."""
        names = resource_names(self.app_name, stack)
        if stack == LOCAL:
            return names
        return dataclasses.replace(
            names,
            database=self.adopt.database_name or names.database,
            preview_database=self.adopt.preview_database_name or names.preview_database,
        )

    def limiter_namespace_id(self, stack: str) -> str:
        """The burst limiter's namespace: the setting, or one derived from appName and stack."""
        return self.burst_rate_limit.namespace_id or derived_namespace_id(self.app_name, stack)

    def client_limiter_namespace_id(self, stack: str) -> str:
        """The client limiter's namespace: the setting, or one derived from appName, stack and "clients"."""
        return self.client_rate_limit.namespace_id or derived_namespace_id(self.app_name, stack, "clients")

    @property
    def client_limit(self) -> int:
        """Requests per client per clientRateLimit.period: the setting, or sized from `traffic`."""
        limiter = self.client_rate_limit
        return limiter.limit or client_limit_default(self.traffic, limiter.period)

    def deprecations(self) -> list[str]:
        """`key: what to do` for each deprecated setting this stack still sets."""
        used: dict[str, object] = {
            "ttls.usage": self.ttls.usage,
            "ttls.tierConfig": self.ttls.tier_config,
            "ttls.rateLimit": self.ttls.rate_limit,
            "legacyFlagKeys": self.legacy_flag_keys or None,
        }
        return [
            f"{key}: {advice.format(value=used[key])}" for key, advice in DEPRECATED.items() if used[key] is not None
        ]


def _valid_tier_names(info: ValidationInfo) -> set[str] | None:
    """The tier names, or None when the tiers themselves failed (nothing to check against)."""
    tiers = info.data.get("tiers")
    return None if tiers is None else {tier.name for tier in tiers}


def _one_of(names: set[str] | None) -> str:
    return f"use one of: {', '.join(sorted(names or ()))}"


def _kv_size_issues(where: tuple[Any, ...], key: str, value: str) -> list[Issue]:
    issues: list[Issue] = []
    key_bytes, value_bytes = len(key.encode()), len(value.encode())
    if key_bytes > platform.KV_MAX_KEY_BYTES:
        issues.append(
            (
                where,
                f"its KV key is {key_bytes} bytes, over KV's {platform.KV_MAX_KEY_BYTES}",
                key,
                "use a shorter name",
            )
        )
    if value_bytes > platform.KV_MAX_VALUE_BYTES:
        issues.append(
            (
                where,
                f"its KV value is {value_bytes} bytes, over KV's {platform.KV_MAX_VALUE_BYTES} (25 MiB)",
                value,
                "trim it, or split it across keys",
            )
        )
    return issues
