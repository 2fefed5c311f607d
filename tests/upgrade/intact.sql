-- After ALTER EXTENSION evently UPDATE: every row of every table that 1.0 had
-- is still there, with the same values in 1.0's columns.
DO $$
DECLARE
    t text;
    cols text;
    differing bigint;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'upgrade_snapshot' LOOP
        SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
          FROM pg_attribute
         WHERE attrelid = format('upgrade_snapshot.%I', t)::regclass AND attnum > 0 AND NOT attisdropped;
        EXECUTE format('SELECT count(*) FROM ((SELECT %1$s FROM evently.%2$I EXCEPT ALL
                                              SELECT %1$s FROM upgrade_snapshot.%2$I)
                                             UNION ALL
                                             (SELECT %1$s FROM upgrade_snapshot.%2$I EXCEPT ALL
                                              SELECT %1$s FROM evently.%2$I)) d', cols, t)
           INTO differing;
        IF differing <> 0 THEN
            RAISE EXCEPTION 'the upgrade changed evently.%: % rows differ from the snapshot', t, differing;
        END IF;
    END LOOP;
END
$$;
