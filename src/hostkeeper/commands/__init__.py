"""The command line: `cli` parses and dispatches, one module per area of verbs (listed in
`verbs`), `common` and `output` hold what the verbs share. The package imports nothing by
itself, so `hostkeeper daemon` loads none of the other verbs."""
