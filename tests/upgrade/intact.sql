-- After ALTER EXTENSION evently UPDATE: every row of every table that 1.0 had
-- is still there, with the same values in 1.0's columns; only the sales of
-- the event 1.0 cancelled and of the one it completed before it took place
-- changed (cancelled and refunded by the upgrade, see check.sql) and the
-- seats of the event 1.0 got wrong (repaired, see check.sql), and only the
-- outbox and audit log gained rows (the refunds'), and every ticket has a
-- signed code, its 1.0 code kept as legacy_code.
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
         WHERE attrelid = format('upgrade_snapshot.%I', t)::regclass AND attnum > 0 AND NOT attisdropped
           -- 1.1 signs every ticket's code; the 1.0 code is kept as legacy_code (checked below)
           AND NOT (t = 'tickets' AND attname = 'ticket_code');
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

-- Every 1.0 ticket: its old code is its legacy_code (still accepted at the
-- door online), its new code is signed by its event's key, version 1, for
-- its seat; every event has a key.
DO $$
DECLARE
    bad bigint;
BEGIN
    SELECT count(*) INTO bad
      FROM upgrade_snapshot.tickets old JOIN evently.tickets t ON t.id = old.id,
           LATERAL evently._read_ticket_code(t.ticket_code) c
     WHERE t.legacy_code IS DISTINCT FROM old.ticket_code OR NOT c.signature_ok OR c.ticket_id <> t.id
        OR c.event_id <> t.event_id OR c.kind <> 'S' OR c.item_id <> t.seat_id OR c.version <> 1
        OR t.holder_id <> (SELECT b.user_id FROM evently.bookings b WHERE b.id = t.booking_id);
    IF bad <> 0 OR NOT EXISTS (SELECT 1 FROM upgrade_snapshot.tickets) THEN
        RAISE EXCEPTION 'the upgrade did not sign the 1.0 tickets: % wrong', bad;
    END IF;
    IF EXISTS (SELECT 1 FROM evently.events e WHERE NOT EXISTS (SELECT 1 FROM evently.event_keys k WHERE k.event_id = e.id)) THEN
        RAISE EXCEPTION 'an event of 1.0 has no signing key';
    END IF;
END
$$;
