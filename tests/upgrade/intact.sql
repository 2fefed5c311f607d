-- After ALTER EXTENSION evently UPDATE: every row of every table that 1.0 had
-- is still there, with the same values in 1.0's columns; only the sales of
-- the event 1.0 cancelled and of the one it completed before it took place
-- changed (cancelled and refunded by the upgrade, see check.sql) and the
-- seats of the event 1.0 got wrong (repaired, see check.sql), and only the
-- outbox and audit log gained rows (the refunds').
DO $$
DECLARE
    t text;
    cols text;
    unchanged text;
    differing bigint;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'upgrade_snapshot' LOOP
        SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),
               CASE WHEN t IN ('payments', 'cancellations')
                    THEN format('booking_id NOT IN (%L, %L)', upgrade_test.id('legacy_booking'),
                                upgrade_test.id('early_booking'))
                    WHEN t IN ('event_seats', 'event_seat_counts')
                    THEN format('event_id NOT IN (%L, %L, %L)', upgrade_test.id('legacy'), upgrade_test.id('repair'),
                                upgrade_test.id('early'))
                    WHEN t = 'events' THEN format('id <> %L', upgrade_test.id('early'))
                    WHEN bool_or(attname = 'event_id')
                    THEN format('(event_id IS NULL OR event_id NOT IN (%L, %L))', upgrade_test.id('legacy'),
                                upgrade_test.id('early'))
                    ELSE 'true' END
          INTO cols, unchanged
          FROM pg_attribute
         WHERE attrelid = format('upgrade_snapshot.%I', t)::regclass AND attnum > 0 AND NOT attisdropped;
        EXECUTE format('SELECT count(*) FROM ((SELECT %1$s FROM evently.%2$I WHERE %3$s EXCEPT ALL
                                              SELECT %1$s FROM upgrade_snapshot.%2$I WHERE %3$s)
                                             UNION ALL
                                             (SELECT %1$s FROM upgrade_snapshot.%2$I WHERE %3$s EXCEPT ALL
                                              SELECT %1$s FROM evently.%2$I WHERE %3$s)) d',
                       cols, t, CASE WHEN t IN ('outbox', 'audit_log') THEN 'id <= (SELECT max(id) FROM upgrade_snapshot.' || t || ')'
                                     ELSE unchanged END)
           INTO differing;
        IF differing <> 0 THEN
            RAISE EXCEPTION 'the upgrade changed evently.%: % rows differ from the snapshot', t, differing;
        END IF;
    END LOOP;
END
$$;
