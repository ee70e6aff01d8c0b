"""Alert rules against the store: observing, evaluating, notifying, and the daemon's loop.

`evaluator.evaluate_rules` is one round (the `evaluate_alerts` step and the daemon's
periodic evaluation both call it); `service.AlertService` is what the daemon runs:
the evaluation loop, the delivery worker and maintenance notifications.
"""
