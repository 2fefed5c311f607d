-- 99_privileges.sql: last, once every function exists: nothing for PUBLIC,
-- every entry point SECURITY DEFINER with a pinned search_path, and the
-- grants to evently's roles where they exist (04_security.sql).
SELECT evently._secure();
