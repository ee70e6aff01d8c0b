"""Running procedures: the engine, the preconditions that gate a run, and
`validate-system`, the end-to-end check after maintenance."""
