"""Services: what verbs, steps, reports and the web share above the store and below them:
store setup, the status model, the security audit and configuration rollback."""
