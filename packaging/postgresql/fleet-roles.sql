-- Least privilege for a fleet sharing one PostgreSQL database (docs/fleet.md).
--
-- Run as the database's owner (the role that runs `hostkeeper db migrate`), after the
-- first migration and again after every upgrade's migration (it is idempotent):
--
--     psql -v ON_ERROR_STOP=1 -d hostkeeper -f fleet-roles.sql
--
-- It makes two group roles. Each host logs in with a role of its own, named exactly as
-- its fleet.host_id, member of hostkeeper_host (and of hostkeeper_watcher if it has
-- fleet.watch: true):
--
--     CREATE ROLE "web-01" LOGIN IN ROLE hostkeeper_host;
--
-- A host's role reads every row (the fleet view), inserts and updates only rows of its
-- own host (row-level security: host = current_user), and deletes nothing of the
-- history (runs and their steps, alerts and their events, notifications, silences,
-- backups and restore tests, file actions, heartbeats, windows that began): their
-- retention is the owner's. It deletes only what retention expires (metric samples,
-- rollups and blocks, check results, health scores, disk usage, old baselines), of its
-- own host. A watcher may also record the `host_silent` alert of any host. The owner
-- bypasses all of it.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hostkeeper_host') THEN
        CREATE ROLE hostkeeper_host NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hostkeeper_watcher') THEN
        CREATE ROLE hostkeeper_watcher NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO hostkeeper_host;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO hostkeeper_host;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO hostkeeper_host;
REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM hostkeeper_host;
-- What retention and the sealing of samples into blocks delete, and a planned window
-- recorded ahead that will not happen after all; nothing else.
GRANT DELETE ON samples, rollups, metric_blocks, check_results, health_scores, disk_usage,
    baseline_versions, baseline_stats, maintenance_windows TO hostkeeper_host;

-- Every table that names its host: read all, write and delete (where granted) your own.
DO $$
DECLARE
    name text;
    own text;
BEGIN
    FOR name IN
        SELECT c.table_name FROM information_schema.columns c
        JOIN information_schema.tables t USING (table_schema, table_name)
        WHERE c.table_schema = 'public' AND c.column_name = 'host'
          AND t.table_type = 'BASE TABLE'
    LOOP
        own := 'host = current_user';
        IF name = 'alerts' THEN  -- a watcher records the host_silent alert of any host
            own := own || ' OR (rule = ''host_silent'' AND '
                || 'pg_has_role(current_user, ''hostkeeper_watcher'', ''MEMBER''))';
        END IF;
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', name);
        EXECUTE format('DROP POLICY IF EXISTS hostkeeper_read ON %I', name);
        EXECUTE format('DROP POLICY IF EXISTS hostkeeper_insert ON %I', name);
        EXECUTE format('DROP POLICY IF EXISTS hostkeeper_update ON %I', name);
        EXECUTE format('DROP POLICY IF EXISTS hostkeeper_delete ON %I', name);
        EXECUTE format(
            'CREATE POLICY hostkeeper_read ON %I FOR SELECT TO hostkeeper_host USING (true)',
            name);
        EXECUTE format(
            'CREATE POLICY hostkeeper_insert ON %I FOR INSERT TO hostkeeper_host '
            'WITH CHECK (%s)', name, own);
        EXECUTE format(
            'CREATE POLICY hostkeeper_update ON %I FOR UPDATE TO hostkeeper_host '
            'USING (%s) WITH CHECK (%s)', name, own, own);
        EXECUTE format(
            'CREATE POLICY hostkeeper_delete ON %I FOR DELETE TO hostkeeper_host '
            'USING (host = current_user%s)', name,
            -- a window is history once it began: only one still ahead may go
            CASE WHEN name = 'maintenance_windows' THEN ' AND starts_at > now()' ELSE '' END);
    END LOOP;
END
$$;

-- Tables whose rows belong to a row of a table above: the parent's host decides.
DO $$
DECLARE
    child record;
    own text;
BEGIN
    FOR child IN SELECT * FROM (VALUES
        ('step_results', 'run_id', 'runs', 'host = current_user'),
        ('alert_events', 'alert_id', 'alerts',
         'host = current_user OR (rule = ''host_silent'' AND '
         || 'pg_has_role(current_user, ''hostkeeper_watcher'', ''MEMBER''))'),
        ('baseline_stats', 'version_id', 'baseline_versions', 'host = current_user'),
        ('checklist_confirmations', 'run_id', 'runs', 'host = current_user'),
        ('window_notes', 'window_id', 'maintenance_windows', 'host = current_user'),
        ('window_silences', 'window_id', 'maintenance_windows', 'host = current_user'),
        -- measurements name their series, and the series its host
        ('samples', 'series_id', 'series', 'host = current_user'),
        ('rollups', 'series_id', 'series', 'host = current_user'),
        ('metric_blocks', 'series_id', 'series', 'host = current_user')
    ) AS t(name, key, parent, rule)
    LOOP
        own := format('EXISTS (SELECT 1 FROM %I p WHERE p.id = %I AND (%s))',
                      child.parent, child.key, child.rule);
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', child.name);
        EXECUTE format('DROP POLICY IF EXISTS hostkeeper_read ON %I', child.name);
        EXECUTE format('DROP POLICY IF EXISTS hostkeeper_insert ON %I', child.name);
        EXECUTE format('DROP POLICY IF EXISTS hostkeeper_update ON %I', child.name);
        EXECUTE format('DROP POLICY IF EXISTS hostkeeper_delete ON %I', child.name);
        EXECUTE format(
            'CREATE POLICY hostkeeper_read ON %I FOR SELECT TO hostkeeper_host USING (true)',
            child.name);
        EXECUTE format(
            'CREATE POLICY hostkeeper_insert ON %I FOR INSERT TO hostkeeper_host '
            'WITH CHECK (%s)', child.name, own);
        EXECUTE format(
            'CREATE POLICY hostkeeper_update ON %I FOR UPDATE TO hostkeeper_host '
            'USING (%s) WITH CHECK (%s)', child.name, own, own);
        EXECUTE format(
            'CREATE POLICY hostkeeper_delete ON %I FOR DELETE TO hostkeeper_host USING (%s)',
            child.name, own);
    END LOOP;
END
$$;
-- Samples are written with COPY by the owner; a role under row-level security cannot
-- COPY, and hostkeeper writes its samples with INSERT instead (row_security_active).
