-- 98_backups.sql: pg_dump backs up evently's data.  The rows of an
-- extension's tables are left out of a dump unless the extension marks the
-- tables (and the sequences behind identity columns, whose positions are
-- not part of their tables) as configuration: every one of them is data
-- here, but for event_seat_counts and tier_unit_counts: the counters are
-- rebuilt from the seats and units as they are restored
-- (count_seats_inserted, count_units_inserted), so dumping them too would
-- count everything twice.  Run at every install and upgrade, so a table
-- added later is marked too; marking twice changes nothing.  One call per
-- statement: each call rewrites the extension's catalogue row.  Restore in
-- one transaction (psql -1, pg_restore --single-transaction): holds and
-- waitlist entries refer to each other and are checked at commit.
DO $backups$
DECLARE
    relation regclass;
BEGIN
    FOR relation IN
        SELECT c.oid::regclass
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace = 'evently'::regnamespace
           AND c.relkind IN ('r', 'S')
           AND c.relname NOT IN ('event_seat_counts', 'tier_unit_counts')
         ORDER BY c.relkind, c.relname
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(relation, '');
    END LOOP;
END
$backups$;
