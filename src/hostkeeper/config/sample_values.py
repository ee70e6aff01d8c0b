"""The values of the generated sample, which is also the shipped default configuration.

It holds the seed schedule (daily 02:00, weekly Sunday 03:00, monthly first Saturday
01:00, quarterly first Saturday of Jan/Apr/Jul/Oct, all UTC) and only checks that make
sense on any host; site-specific checks (units, URLs, certificates) are left to the
operator, as the reference configuration shows.
"""

from __future__ import annotations

from typing import Any

SAMPLE: dict[str, Any] = {
    "version": 1,
    "timezone": "UTC",
    "paths": {
        "state_dir": "/var/lib/hostkeeper",
        "report_dir": "/var/lib/hostkeeper/reports",
        "backup_dir": "/var/backups/hostkeeper",
        "log_dir": "/var/log/hostkeeper",
    },
    "database": {
        "url": "sqlite:////var/lib/hostkeeper/hostkeeper.db",
        "slow_query": "200ms",
        "backup_keep": 7,
    },
    "daemon": {
        "watchdog": True,
        "shutdown_timeout": "60s",
        "log_format": "auto",
        "log_level": "info",
        "misfire_grace_time": "1h",
        "catch_up": True,
    },
    "metrics": {
        "interval": "10s",
        "collect": ["cpu", "memory", "swap", "load", "disk", "disk_io", "net_io", "processes"],
        "disks": ["/"],
        "retention": {"raw": "7d", "5m": "90d", "1h": "730d"},
    },
    "checks": [
        {
            "name": "root_disk",
            "type": "disk_free",
            "path": "/",
            "warning": "20%",
            "critical": "10%",
        },
        {"name": "memory", "type": "memory_available", "warning": "15%", "critical": "5%"},
        {"name": "load", "type": "load", "warning": 2.0, "critical": 4.0},
        {
            "name": "backups_fresh",
            "type": "file_age",
            "path": "/var/backups/hostkeeper",
            "warning": "2d",
            "critical": "8d",
        },
    ],
    "health_score": {"weights": {"root_disk": 3, "memory": 2}},
    "baselines": {
        "window": "7d",
        "min_samples": 1000,
        "metrics": ["cpu.percent", "memory.percent", "load.5m", "disk./.used_percent"],
        "drift_threshold": "25%",
        "keep_versions": 10,
    },
    "alerts": {
        "repeat": "4h",
        "rules": [
            {
                "name": "critical_health_score",
                "when": "health_score < 50",
                "for": "5m",
                "severity": "critical",
                "channels": ["journal"],
            },
            {
                "name": "disk_low",
                "check": "root_disk",
                "states": ["warning", "critical"],
                "severity": "warning",
                "channels": ["journal"],
            },
        ],
        "channels": [{"name": "journal", "type": "log"}],
    },
    # hostkeeper's own log files under /var/log/hostkeeper belong to the packaged
    # logrotate snippet (one rotator per file set); add the host's application logs here.
    "logs": [],
    "cleanup": [
        {
            "name": "old-reports",
            "path": "/var/lib/hostkeeper/reports",
            "match": ["*.html", "*.json"],
            "delete_after": "400d",
        },
    ],
    "backups": [
        {
            "name": "config",
            "sources": ["/etc/hostkeeper"],
            "exclude": ["*.swp"],
            "keep": {"daily": 30, "weekly": 8, "monthly": 12},
        },
    ],
    "procedures": {
        "daily": {
            "schedule": {"hour": 2, "minute": 0},
            # back up, then verify what was just made; the report comes last so that it
            # shows this run's checks, alerts and backups
            "steps": [
                "rotate_logs",
                "cleanup",
                {"backup": "config"},
                "verify_backups",
                "collect_metrics",
                "health_check",
                "evaluate_alerts",
                "resource_report",
                {"report": "daily"},
            ],
        },
        "weekly": {
            "schedule": {"cron": "0 3 * * sun"},
            "before": [
                {"require": "disk_free", "path": "/", "min": "20%"},
                {"require": "no_critical_alerts"},
            ],
            "steps": [
                {"backup": "config"},
                {"report": "performance"},
                {"analyze_trends": "7d"},
                {"baseline": "update"},
                # a rejected baseline is reported, and the reports and cleanup still run
                {"baseline": "validate", "on_failure": "continue"},
                {"report": "alert_effectiveness"},
                "cleanup",
            ],
            "after": ["health_check", {"alert_test": "critical_health_score"}],
        },
        "monthly": {
            "schedule": {"day": "1st sat", "hour": 1, "minute": 0},
            # the audit comes first: the assessment summarises it
            "steps": [
                "security_audit",
                {"report": "health_assessment"},
                "suggest_thresholds",
                {"db": ["integrity_check", "reindex", "vacuum", "analyze", "optimize"]},
            ],
        },
        "quarterly": {
            "schedule": {"month": "1,4,7,10", "day": "1st sat", "hour": 1, "minute": 0},
            "steps": [
                {"report": "capacity"},
                {"db": ["backup", "migrate"]},
                {"restore_test": "config"},
            ],
        },
    },
    "security": {
        "scan_paths": ["/etc/hostkeeper"],
        "private_paths": ["/etc/hostkeeper", "/var/backups/hostkeeper"],
        "certificates": [],
        "warn_days": 30,
    },
    "notify": {"on": ["failure"], "channels": ["journal"]},
    "dashboard": {"enabled": True, "listen": "127.0.0.1:8081", "token_file": None},
}
