"""Layer 2: what a stack consists of, as plain data (names, seeds, the Worker, imports,
migrations, wrangler.toml). Pure: no Pulumi, no provider, no I/O beyond reading the
repository's own files. Imports settings and the bottom layer only."""
