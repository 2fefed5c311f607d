-- 20_tags.sql: tags, and the public and ADMIN tag routes.

CREATE OR REPLACE FUNCTION evently.slugify(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT btrim(regexp_replace(regexp_replace(lower(name), '[^0-9a-z_\s-]', '', 'g'),
                                '[\s-]+', '-', 'g'), '-')
$$;

CREATE OR REPLACE FUNCTION evently.create_tag(name text, color text DEFAULT '#6B7280',
                                   description text DEFAULT NULL, created_by uuid DEFAULT NULL)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    new_id uuid;
    tag_slug text := evently.slugify(name);
BEGIN
    created_by := evently._staff(created_by);
    PERFORM evently._require(length(btrim(name)) BETWEEN 2 AND 100 AND tag_slug <> '',
        'INVALID_ARGUMENT', 'invalid tag name', 'A tag name has 2 to 100 characters, one alphanumeric.');
    PERFORM evently._require(color IS NULL OR color ~ '^#[0-9A-Fa-f]{6}$', 'INVALID_ARGUMENT', 'invalid tag color',
        format('Color %L is not #RRGGBB.', color));
    PERFORM evently._require(description IS NULL OR length(description) <= 500, 'INVALID_ARGUMENT',
        'tag description is too long', 'A description has at most 500 characters.');
    PERFORM evently._require(created_by IS NULL OR evently._user_role(created_by) IS NOT NULL,
        'NOT_FOUND', 'user not found', format('User %s does not exist.', created_by));
    -- the unique name and slug decide, also between two creations at once
    BEGIN
        INSERT INTO evently.tags (name, slug, color, description, created_by)
        VALUES (btrim(name), tag_slug, coalesce(color, '#6B7280'), description, created_by)
        RETURNING id INTO new_id;
    EXCEPTION WHEN unique_violation THEN
        PERFORM evently._fail('ALREADY_EXISTS', 'tag already exists', format('A tag named like %L exists.', name));
    END;
    PERFORM evently._audit('tag.created', 'tag', new_id, jsonb_build_object('slug', tag_slug), created_by);
    RETURN new_id;
END
$$;

CREATE OR REPLACE FUNCTION evently.tag_json(p_tag_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', g.id, 'name', g.name, 'slug', g.slug, 'description', g.description,
                              'color', g.color, 'is_active', g.is_active, 'created_at', g.created_at,
                              'updated_at', g.updated_at)
      FROM evently.tags g WHERE g.id = p_tag_id
$$;

-- GET /tags/active
CREATE OR REPLACE FUNCTION evently.api_tags_active(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(evently.tag_json(id) ORDER BY name), '[]')
      FROM evently.tags WHERE is_active
$$;

-- GET /tags/slug/:slug
CREATE OR REPLACE FUNCTION evently.api_tag_by_slug(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    doc jsonb := (SELECT evently.tag_json(id) FROM evently.tags WHERE slug = req->'path'->>'slug');
BEGIN
    PERFORM evently._require(doc IS NOT NULL, 'NOT_FOUND', 'tag not found',
        format('No tag has slug %L.', req->'path'->>'slug'));
    RETURN doc;
END
$$;

-- POST /admin/tags
CREATE OR REPLACE FUNCTION evently.api_tag_create(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    new_id uuid;
BEGIN
    actor := evently._admin(actor, req);
    -- its own statement: tag_json must see the row create_tag inserts
    new_id := evently.create_tag(req->'body'->>'name', coalesce(req->'body'->>'color', '#6B7280'),
                                 req->'body'->>'description', actor);
    RETURN evently.tag_json(new_id);
END
$$;

-- GET /admin/tags?page&limit&search&is_active&sort_by&sort_order
CREATE OR REPLACE FUNCTION evently.api_tags_list(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    q jsonb := req->'query';
    page int := evently._int_param(req, 'page', 1, 1, 1000000);
    lim int := evently._int_param(req, 'limit', 10, 1, 100);
    sort record := evently._sort_param(req, '{name,created_at,updated_at}', 'name');
    total bigint;
    docs jsonb;
BEGIN
    actor := evently._admin(actor, req);
    PERFORM evently._require(coalesce(q->>'is_active', 'true') IN ('true', 'false'), 'INVALID_ARGUMENT',
        'Invalid query parameters', 'is_active is true or false.');
    WITH matching AS (
        SELECT g.*, CASE sort.sort_by WHEN 'name' THEN g.name
                                      WHEN 'created_at' THEN to_char(g.created_at, 'YYYYMMDDHH24MISSUS')
                                      ELSE to_char(g.updated_at, 'YYYYMMDDHH24MISSUS') END AS sort_key
          FROM evently.tags g
         WHERE (q->>'search' IS NULL OR g.name ILIKE evently._contains(q->>'search')
                OR g.description ILIKE evently._contains(q->>'search'))
           AND (q->>'is_active' IS NULL OR g.is_active = (q->>'is_active')::boolean))
    SELECT (SELECT count(*) FROM matching),
           (SELECT jsonb_agg(evently.tag_json(m.id) ORDER BY m.n)
              FROM (SELECT id, row_number() OVER (ORDER BY CASE WHEN sort.descending THEN NULL ELSE sort_key END,
                                                           sort_key DESC, id) AS n
                      FROM matching ORDER BY n LIMIT lim OFFSET (page - 1) * lim) m)
      INTO total, docs;
    RETURN evently._page('tags', docs, total, page, lim);
END
$$;

-- GET /admin/tags/:id
CREATE OR REPLACE FUNCTION evently.api_tag_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    actor := evently._admin(actor, req);
    RETURN evently._found(evently.tag_json(evently._uuid_arg(req->'path'->>'id', 'id')), 'tag', req->'path'->>'id');
END
$$;

-- PUT /admin/tags/:id
CREATE OR REPLACE FUNCTION evently.api_tag_update(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
<<tag_update>>
DECLARE
    b jsonb := req->'body';
    tag_id uuid := evently._uuid_arg(req->'path'->>'id', 'id');
    new_slug text := evently.slugify(b->>'name');
BEGIN
    actor := evently._admin(actor, req);
    PERFORM evently._only_fields(req->'body', 'name', 'description', 'color', 'is_active');
    -- the events that show the tag first, then the tag: the order of an
    -- event edit that sets tags (event row, then the tag through the new
    -- event_tags row's foreign key); the other way round, each would wait
    -- for the other when the catalogs are rebuilt
    PERFORM 1 FROM evently.events e
     WHERE e.id IN (SELECT et.event_id FROM evently.event_tags et WHERE et.tag_id = tag_update.tag_id)
     ORDER BY e.id FOR NO KEY UPDATE;
    PERFORM 1 FROM evently.tags WHERE id = tag_id FOR UPDATE;
    PERFORM evently._require(FOUND, 'NOT_FOUND', 'tag not found', format('Tag %s does not exist.', tag_id));
    PERFORM evently._require(b->>'name' IS NULL OR (length(btrim(b->>'name')) BETWEEN 2 AND 100 AND new_slug <> ''),
        'INVALID_ARGUMENT', 'invalid tag name', 'A tag name has 2 to 100 characters, one alphanumeric.');
    PERFORM evently._require(b->>'color' IS NULL OR b->>'color' ~ '^#[0-9A-Fa-f]{6}$', 'INVALID_ARGUMENT',
        'invalid color format. Use hex format like #FF0000', format('%L is not #RRGGBB.', b->>'color'));
    PERFORM evently._require(b->>'description' IS NULL OR length(b->>'description') <= 500, 'INVALID_ARGUMENT',
        'tag description is too long', 'A description has at most 500 characters.');
    BEGIN
        UPDATE evently.tags
           SET name = coalesce(btrim(b->>'name'), name), slug = coalesce(new_slug, slug),
               description = coalesce(b->>'description', description), color = coalesce(b->>'color', color),
               is_active = coalesce(evently._bool_arg(b->>'is_active', 'is_active'), is_active), updated_by = actor, updated_at = now()
         WHERE id = tag_id;
    EXCEPTION WHEN unique_violation THEN
        PERFORM evently._fail('ALREADY_EXISTS', 'a tag with similar name already exists',
            format('Another tag is named like %L.', b->>'name'));
    END;
    PERFORM evently._audit('tag.updated', 'tag', tag_id, b, actor);
    RETURN evently.tag_json(tag_id);
END
$$;

-- A tag is deleted only while no event uses it (IN_USE, with how many do);
-- also a shard's answer before the global primary deletes it (require_unused).
CREATE OR REPLACE FUNCTION evently._require_tag_unused(p_tag_id uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    uses bigint;
BEGIN
    SELECT count(*) INTO uses FROM evently.event_tags WHERE tag_id = p_tag_id;
    PERFORM evently._require(uses = 0, 'IN_USE',
        format('cannot delete tag as it is being used by %s event(s). Consider deactivating it instead', uses),
        format('Tag %s is on %s events.', p_tag_id, uses));
END
$$;

-- DELETE /admin/tags/:id: only a tag no event uses
CREATE OR REPLACE FUNCTION evently.api_tag_delete(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    victim uuid := evently._uuid_arg(req->'path'->>'id', 'id');
BEGIN
    actor := evently._admin(actor, req);
    PERFORM 1 FROM evently.tags WHERE id = victim FOR UPDATE;
    PERFORM evently._require(FOUND, 'NOT_FOUND', 'tag not found', format('Tag %s does not exist.', victim));
    PERFORM evently._require_tag_unused(victim);
    DELETE FROM evently.tags WHERE id = victim;
    PERFORM evently._audit('tag.deleted', 'tag', victim, '{}', actor);
    RETURN NULL;
END
$$;

-- GET /admin/tags/active
CREATE OR REPLACE FUNCTION evently.api_admin_tags_active(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    actor := evently._admin(actor, req);
    RETURN evently.api_tags_active(actor, req);
END
$$;
