\set u random(1, 64)
\set s random(1, 497)
\set k random(1, 4)
\set a random(1, 100)
\set side random(1, 100)
SELECT CASE WHEN :side <= 55 THEN stress.act(:u, :s, :k, :a) ELSE stress.trade(:u, :s, :k, :a) END;
