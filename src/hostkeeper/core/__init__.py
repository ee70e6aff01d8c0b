"""Pure logic: no I/O, no clocks (`now` is passed in), no imports from adapters."""
