-- evently.events.catalog: the tags and priced sections an event read shows,
-- rebuilt by triggers; every change below must show in the next read.
SET client_min_messages = warning;

CREATE FUNCTION t.front(event_label text) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT s FROM jsonb_array_elements(evently.event_json(t.id(event_label), true) -> 'venue_sections') s
     WHERE s ->> 'name' = 'Front'
$$;
SELECT t.front('gig') ->> 'price' AS front_price, t.front('gig') ->> 'price_multiplier' AS multiplier;

-- the base price moves every section's price
UPDATE evently.events SET base_price = 250 WHERE id = t.id('gig');
SELECT t.front('gig') ->> 'price' AS front_price_after_base_price;
-- a multiplier of one section
UPDATE evently.event_pricing SET price_multiplier = 3 WHERE event_id = t.id('gig') AND section_id = t.id('front');
SELECT t.front('gig') ->> 'price' AS front_price_after_multiplier;
-- the section itself, edited in its template
UPDATE evently.venue_sections SET description = 'by the stage' WHERE id = t.id('front');
SELECT t.front('gig') ->> 'description' AS front_description;

-- tags: added, renamed, deactivated, removed
SELECT t.remember('rock', evently.create_tag('Rock', '#FF0000'));
INSERT INTO evently.event_tags (event_id, tag_id) VALUES (t.id('gig'), t.id('rock'));
SELECT evently.event_json(t.id('gig')) -> 'tags' @> '[{"name": "Rock"}]' AS tag_added;
UPDATE evently.tags SET name = 'Hard Rock' WHERE id = t.id('rock');
SELECT evently.event_json(t.id('gig')) -> 'tags' @> '[{"name": "Hard Rock"}]' AS tag_renamed;
UPDATE evently.tags SET is_active = false WHERE id = t.id('rock');
SELECT evently.event_json(t.id('gig')) -> 'tags' @> '[{"name": "Hard Rock"}]' AS inactive_tag_still_shown;
UPDATE evently.tags SET is_active = true WHERE id = t.id('rock');
DELETE FROM evently.event_tags WHERE tag_id = t.id('rock');
SELECT evently.event_json(t.id('gig')) -> 'tags' @> '[{"name": "Hard Rock"}]' AS removed_tag_still_shown;

SELECT t.counters_agree(), t.catalogs_agree();
