"""Layer 4: the `guruai-cache` command and what each of its commands does (local, estimate,
verify, wrangler render), plus the script the D1 migrations Command runs. May import every
layer below; nothing imports it except the stack's migrations Command, by module name."""
