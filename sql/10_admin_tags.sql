-- The tag routes' SQL: the ADMIN api_tag_* functions (create, list, read,
-- update, delete, active list) and the public reads (active tags, by slug).
-- Tags so far: 'Live Music' (live-music, on The Gig) and 'Hard Rock' (slug
-- rock, on Finale).
SET client_min_messages = warning;

CREATE FUNCTION t.tag_path(label text) RETURNS jsonb LANGUAGE sql STABLE
RETURN jsonb_build_object('id', t.id(label));
CREATE FUNCTION t.tags(query jsonb) RETURNS text LANGUAGE sql STABLE
RETURN t.page_of(evently.api_tags_list(t.id('admin'), t.req(query => query)), 'tags');

-- Create: the slug is made from the name; the colour defaults to grey
SELECT jsonb_pretty(t.scrub(evently.api_tag_create(t.id('admin'), t.req(body =>
         '{"name": "Smooth  Jazz!", "color": "#123ABC", "description": "late sets"}'))::text)::jsonb);
SELECT t.remember('jazz_tag', id) FROM evently.tags WHERE slug = 'smooth-jazz';
SELECT t.remember('folk', (evently.api_tag_create(t.id('admin'), t.req(body => '{"name": "  Folk  "}')) ->> 'id')::uuid);
SELECT name, slug, color, description, is_active, t.scrub(created_by::text) AS created_by
  FROM evently.tags WHERE id = t.id('folk');
SELECT t.try($$SELECT evently.api_tag_create(t.id('admin'), t.req(body => '{"name": "smooth jazz"}'))$$) AS same_slug;
SELECT t.try($$SELECT evently.api_tag_create(t.id('admin'), t.req(body => '{"name": "Hard Rock"}'))$$) AS same_name;
SELECT t.try($$SELECT evently.api_tag_create(t.id('admin'), t.req(body => '{"name": "Blues", "color": "blue!!!"}'))$$) AS bad_color;
SELECT t.try($$SELECT evently.api_tag_create(t.id('admin'), t.req(body => '{"name": "Blues", "color": "#12345G"}'))$$) AS not_hex;
SELECT t.try($$SELECT evently.api_tag_create(t.id('admin'), t.req(body => '{"name": "B"}'))$$) AS name_of_1;
SELECT t.try($$SELECT evently.api_tag_create(t.id('admin'), t.req(body => '{"name": "!!!"}'))$$) AS nothing_alphanumeric;
SELECT t.try($$SELECT evently.api_tag_create(t.id('admin'), t.req(body => '{}'))$$) AS no_name;
SELECT t.try($$SELECT evently.api_tag_create(t.id('admin'), t.req(body => jsonb_build_object('name', 'Blues', 'description', repeat('d', 501))))$$) AS long_description;
SELECT t.try($$SELECT evently.api_tag_create(t.id('alice'), t.req(body => '{"name": "Blues"}'))$$) AS user_actor;
SELECT t.try($$SELECT evently.api_tag_create(gen_random_uuid(), t.req(body => '{"name": "Blues"}'))$$) AS unknown_actor;
SELECT count(*) AS blues FROM evently.tags WHERE slug = 'blues';

-- Read one: ADMIN only; the public read is by slug
SELECT evently.api_tag_get(t.id('admin'), t.req(path => t.tag_path('jazz_tag'))) ->> 'slug' AS by_id;
SELECT t.try($$SELECT evently.api_tag_get(t.id('alice'), t.req(path => t.tag_path('jazz_tag')))$$) AS user_reads;
SELECT t.try($$SELECT evently.api_tag_get(t.id('admin'), t.req(path => '{"id": "00000000-0000-4000-8000-000000000000"}'))$$) AS unknown_tag;
SELECT evently.api_tag_by_slug(NULL, t.req(path => '{"slug": "smooth-jazz"}')) = evently.tag_json(t.id('jazz_tag')) AS by_slug;
SELECT t.try($$SELECT evently.api_tag_by_slug(NULL, t.req(path => '{"slug": "polka"}'))$$) AS unknown_slug;

-- Update: rename (the slug follows), recolour, describe, deactivate
SELECT t.pick(u, 'name', 'slug', 'color', 'description', 'is_active') AS updated
  FROM evently.api_tag_update(t.id('admin'), t.req(path => t.tag_path('jazz_tag'), body =>
         '{"name": "Cool Jazz", "color": "#00FF00", "description": "after midnight", "is_active": false}')) u;
SELECT t.pick(evently.api_tag_update(t.id('admin'), t.req(path => t.tag_path('jazz_tag'), body => '{}')),
              'name', 'slug', 'color', 'is_active') AS empty_update_keeps;
SELECT t.scrub(updated_by::text) AS updated_by FROM evently.tags WHERE id = t.id('jazz_tag');
-- a tag on an event: the event's catalog follows the rename
SELECT t.pick(evently.api_tag_update(t.id('admin'), t.req(path => t.tag_path('tag'), body => '{"name": "Live Music!"}')),
              'name', 'slug') AS renamed;
SELECT evently.event_json(t.id('gig')) -> 'tags' -> 0 ->> 'name' AS gig_tag, evently.event_json(t.id('gig')) -> 'tags' -> 0 ->> 'slug' AS gig_slug;
SELECT t.try($$SELECT evently.api_tag_update(t.id('admin'), t.req(path => t.tag_path('jazz_tag'), body => '{"name": "Hard Rock"}'))$$) AS name_taken;
SELECT t.try($$SELECT evently.api_tag_update(t.id('admin'), t.req(path => t.tag_path('jazz_tag'), body => '{"name": "FOLK"}'))$$) AS slug_taken;
SELECT t.try($$SELECT evently.api_tag_update(t.id('admin'), t.req(path => t.tag_path('jazz_tag'), body => '{"name": "!!"}'))$$) AS nothing_alphanumeric;
SELECT t.try($$SELECT evently.api_tag_update(t.id('admin'), t.req(path => t.tag_path('jazz_tag'), body => '{"color": "green"}'))$$) AS bad_color;
SELECT t.try($$SELECT evently.api_tag_update(t.id('admin'), t.req(path => t.tag_path('jazz_tag'), body => jsonb_build_object('description', repeat('d', 501))))$$) AS long_description;
SELECT t.try($$SELECT evently.api_tag_update(t.id('alice'), t.req(path => t.tag_path('jazz_tag'), body => '{"name": "Mine"}'))$$) AS user_actor;
SELECT t.try($$SELECT evently.api_tag_update(t.id('admin'), t.req(path => '{"id": "00000000-0000-4000-8000-000000000000"}', body => '{"name": "Ghost"}'))$$) AS unknown_tag;
SELECT name, slug, color FROM evently.tags WHERE id = t.id('jazz_tag');

-- Active tags: the public list and the ADMIN one leave the inactive tag out
SELECT string_agg(x ->> 'name', ', ') AS active FROM jsonb_array_elements(evently.api_tags_active(NULL, t.req())) x;
SELECT evently.api_admin_tags_active(t.id('admin'), t.req()) = evently.api_tags_active(NULL, t.req()) AS admin_list_same;
SELECT t.try($$SELECT evently.api_admin_tags_active(t.id('alice'), t.req())$$) AS user_lists_active;

-- The ADMIN list: by name (default) or time, either way, in pages; search
-- (any case, over name and description); active or not
SELECT t.tags('{}') AS by_name;
SELECT t.tags('{"limit": "2", "sort_order": "desc"}') AS last_two_by_name;
SELECT t.tags('{"limit": "2", "sort_order": "desc", "page": "2"}') AS page_2;
SELECT t.tags('{"sort_by": "created_at"}') AS oldest_first;
SELECT t.tags('{"sort_by": "updated_at", "sort_order": "desc", "limit": "1"}') AS last_updated;
SELECT t.tags('{"search": "JAZZ"}') AS jazz_by_name;
SELECT t.tags('{"search": "midnight"}') AS by_description;
SELECT t.tags('{"is_active": "false"}') AS inactive;
SELECT t.tags('{"is_active": "true", "search": "music"}') AS active_music;
SELECT q AS query, t.try(format('SELECT evently.api_tags_list(t.id(''admin''), %L)', t.req(query => q))) AS outcome
  FROM (VALUES ('{"sort_by": "color"}'::jsonb), ('{"sort_order": "sideways"}'), ('{"is_active": "yes"}'),
               ('{"limit": "0"}'), ('{"page": "-1"}')) v(q);
SELECT t.try($$SELECT evently.api_tags_list(t.id('alice'), t.req())$$) AS user_lists;

-- Delete: only a tag no event uses (the message counts the events)
SELECT t.try($$SELECT evently.api_tag_delete(t.id('admin'), t.req(path => t.tag_path('rock')))$$) AS tag_in_use;
SELECT t.try($$SELECT evently.api_tag_delete(t.id('alice'), t.req(path => t.tag_path('jazz_tag')))$$) AS user_deletes;
SELECT t.try($$SELECT evently.api_tag_delete(t.id('admin'), t.req(path => '{"id": "00000000-0000-4000-8000-000000000000"}'))$$) AS unknown_tag;
SELECT evently.api_tag_delete(t.id('admin'), t.req(path => t.tag_path('jazz_tag'))) IS NULL AS deleted;
SELECT t.try($$SELECT evently.api_tag_get(t.id('admin'), t.req(path => t.tag_path('jazz_tag')))$$) AS read_deleted;
SELECT t.try($$SELECT evently.api_tag_delete(t.id('admin'), t.req(path => t.tag_path('jazz_tag')))$$) AS delete_twice;

-- Who changed what: every ADMIN change above is audited with its actor
SELECT action, count(*), count(*) FILTER (WHERE actor_id = t.id('admin')) AS by_admin FROM evently.audit_log
 WHERE action LIKE 'tag.%' AND (object_id IN (t.id('jazz_tag'), t.id('folk'))
                                 OR (object_id = t.id('tag') AND action = 'tag.updated'))
 GROUP BY action ORDER BY action;

-- every change above kept the seat counters and the catalogs in step
SELECT t.counters_agree(), t.catalogs_agree();
